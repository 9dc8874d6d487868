package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/engram-go/engram/engine"
)

type recallAnswer struct {
	Memories struct {
		Vivid         []memoryResult `json:"vivid"`
		Associated    []memoryResult `json:"associated"`
		Reconstructed []memoryResult `json:"reconstructed"`
	} `json:"memories"`
	RecallConfidence confidenceInfo  `json:"recall_confidence"`
	QueryAnalysis    queryAnalysis   `json:"query_analysis"`
	Metadata         *recallMetadata `json:"metadata"`
	Traces           *[]traceJSON    `json:"traces"`
	SystemMessage    string          `json:"system_message"`
	MemorySpaceID    string          `json:"memory_space_id"`
}

type queryAnalysis struct {
	UnderstoodIntent string   `json:"understood_intent"`
	SearchStrategy   string   `json:"search_strategy"`
	CognitiveLoad    string   `json:"cognitive_load"`
	Suggestions      []string `json:"suggestions"`
}

type recallMetadata struct {
	TotalMemoriesSearched int      `json:"total_memories_searched"`
	ActivationSpreadHops  int      `json:"activation_spread_hops"`
	ProcessingTimeMS      float64  `json:"processing_time_ms"`
	TiersSearched         []string `json:"tiers_searched"`
}

type traceJSON struct {
	MemoryID        string   `json:"memory_id"`
	ActivationLevel float32  `json:"activation_level"`
	ActivationPath  []string `json:"activation_path"`
}

// handleRecall serves GET and POST /api/v1/memories/recall.
func (s *Server) handleRecall(rq *request) error {
	p, err := readRecallParams(rq)
	if err != nil {
		return err
	}
	sp, id, res, err := s.recall(rq, &p)
	if err != nil {
		return err
	}
	return writeJSON(rq.ctx, http.StatusOK, buildRecallAnswer(&p, id, sp != nil, &res))
}

// recall runs the cue in the chosen space. An unknown space (auto-create on) answers as
// an empty one: a zero result, sp == nil.
func (s *Server) recall(rq *request, p *recallParams) (*engine.Space, string, engine.RecallResult, error) {
	sp, id, err := rq.readSpace(p.space)
	if err != nil || sp == nil {
		return nil, id, engine.RecallResult{}, err
	}
	res, err := sp.Recall(context.Background(), p.cue)
	return sp, id, res, err
}

func buildRecallAnswer(p *recallParams, space string, exists bool, res *engine.RecallResult) *recallAnswer {
	a := &recallAnswer{MemorySpaceID: space}
	a.Memories.Vivid = memoryResults(res.Vivid)
	a.Memories.Associated = memoryResults(res.Associated)
	a.Memories.Reconstructed = memoryResults(res.Reconstructed)
	n := len(res.Vivid) + len(res.Associated) + len(res.Reconstructed)
	a.RecallConfidence = recallConfidence(res, n)
	a.QueryAnalysis = analyse(p, space, exists, res, n)
	if p.includeMetadata {
		tiers := res.Tiers
		if tiers == nil {
			tiers = []string{}
		}
		a.Metadata = &recallMetadata{
			TotalMemoriesSearched: res.Searched,
			ActivationSpreadHops:  res.Hops,
			ProcessingTimeMS:      float64(res.Took.Microseconds()) / 1000,
			TiersSearched:         tiers,
		}
	}
	if p.cue.Trace {
		traces := make([]traceJSON, len(res.Traces))
		for i, t := range res.Traces {
			path := t.Path
			if path == nil {
				path = []string{}
			}
			traces[i] = traceJSON{MemoryID: t.MemoryID, ActivationLevel: finite32(t.Activation), ActivationPath: path}
		}
		a.Traces = &traces
	}
	a.SystemMessage = fmt.Sprintf("Recalled %d memories from space '%s' (%d vivid, %d associated, %d reconstructed).",
		n, space, len(res.Vivid), len(res.Associated), len(res.Reconstructed))
	return a
}

func recallConfidence(res *engine.RecallResult, n int) confidenceInfo {
	if n == 0 {
		return newConfidence(0, "No memory matched the cue; nothing supports an answer.")
	}
	return newConfidence(res.Confidence, fmt.Sprintf(
		"Computed from the scores of the %d memories returned, weighted towards the best match.", n))
}

// analyse describes how the cue was understood and answered. The cognitive load reflects
// the work done: Low under 10,000 memories searched and at most one spreading hop, High
// from 100,000 memories or three hops, Medium in between.
func analyse(p *recallParams, space string, exists bool, res *engine.RecallResult, n int) queryAnalysis {
	var qa queryAnalysis
	q := strings.TrimSpace(p.cue.Query)
	switch {
	case q != "" && len(p.cue.Embedding) > 0:
		qa.UnderstoodIntent = fmt.Sprintf("Recall memories about %q near the given %d-dimensional embedding.", q, len(p.cue.Embedding))
	case q != "":
		qa.UnderstoodIntent = fmt.Sprintf("Recall memories about %q.", q)
	default:
		qa.UnderstoodIntent = fmt.Sprintf("Recall memories near the given %d-dimensional embedding.", len(p.cue.Embedding))
	}
	switch p.cue.Mode {
	case engine.ModeSimilarity:
		qa.SearchStrategy = "similarity: vector similarity and lexical (BM25) matching, no spreading activation"
	case engine.ModeSpreading:
		qa.SearchStrategy = "spreading: direct matches seed a deeper spreading activation over association edges"
	default:
		qa.SearchStrategy = "hybrid: vector similarity and lexical (BM25) matching, then spreading activation over association edges"
	}
	var filters []string
	if len(p.cue.RequiredTags) > 0 {
		filters = append(filters, "required tags "+strings.Join(p.cue.RequiredTags, ","))
	}
	if len(p.cue.ExcludedTags) > 0 {
		filters = append(filters, "excluded tags "+strings.Join(p.cue.ExcludedTags, ","))
	}
	if !p.cue.From.IsZero() || !p.cue.To.IsZero() {
		filters = append(filters, "observation time window")
	}
	if len(filters) > 0 {
		qa.SearchStrategy += "; filters: " + strings.Join(filters, "; ")
	}
	switch {
	case res.Searched >= 100000 || res.Hops >= 3:
		qa.CognitiveLoad = "High"
	case res.Searched >= 10000 || res.Hops >= 2:
		qa.CognitiveLoad = "Medium"
	default:
		qa.CognitiveLoad = "Low"
	}
	qa.Suggestions = []string{}
	maxResults := p.cue.MaxResults
	if maxResults == 0 {
		maxResults = engine.DefaultMaxResults
	}
	switch {
	case !exists:
		qa.Suggestions = append(qa.Suggestions, fmt.Sprintf("Memory space '%s' holds no memories yet.", space))
	case n == 0:
		qa.Suggestions = append(qa.Suggestions, fmt.Sprintf(
			"No memory scored at least %.2f; lower threshold, rephrase the query or loosen the filters.", p.cue.Threshold))
	case len(res.Vivid) == 0 && len(res.Reconstructed) == 0:
		qa.Suggestions = append(qa.Suggestions, "No direct match scored above 0.7; more specific words or an embedding may help.")
	}
	if n >= maxResults {
		qa.Suggestions = append(qa.Suggestions, fmt.Sprintf("max_results (%d) was reached; raise it to see more.", maxResults))
	}
	return qa
}
