package embed

import (
	"encoding/json"
	"fmt"
)

// openAIWire is POST /v1/embeddings of OpenAI and compatible servers:
// {"model","input":[…],"encoding_format":"float","dimensions"?} →
// {"data":[{"index","embedding":[…]}],"model","usage"}; errors {"error":{"message"}}.
type openAIWire struct{}

type openAIRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

func (openAIWire) request(c *Config, texts []string) any {
	return openAIRequest{Model: c.Model, Input: texts, EncodingFormat: "float", Dimensions: c.Dimensions}
}

func (openAIWire) vectors(body []byte, n int) ([][]float32, error) {
	var resp struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("malformed answer: %v", err)
	}
	if len(resp.Data) != n {
		return nil, fmt.Errorf("%d embeddings for %d texts", len(resp.Data), n)
	}
	out := make([][]float32, n)
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= n || out[d.Index] != nil {
			return nil, fmt.Errorf("embedding index %d out of range or repeated", d.Index)
		}
		if len(d.Embedding) == 0 {
			return nil, fmt.Errorf("embedding %d is empty", d.Index)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}

func (openAIWire) message(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return snippet(body)
}

// ollamaWire is POST /api/embed of Ollama: {"model","input":[…]} →
// {"model","embeddings":[[…],…]}; errors {"error":"…"}.
type ollamaWire struct{}

type ollamaRequest struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

func (ollamaWire) request(c *Config, texts []string) any {
	return ollamaRequest{Model: c.Model, Input: texts}
}

func (ollamaWire) vectors(body []byte, n int) ([][]float32, error) {
	var resp struct {
		Embeddings [][]float32 `json:"embeddings"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("malformed answer: %v", err)
	}
	if len(resp.Embeddings) != n {
		return nil, fmt.Errorf("%d embeddings for %d texts", len(resp.Embeddings), n)
	}
	for i, v := range resp.Embeddings {
		if len(v) == 0 {
			return nil, fmt.Errorf("embedding %d is empty", i)
		}
	}
	return resp.Embeddings, nil
}

func (ollamaWire) message(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return snippet(body)
}
