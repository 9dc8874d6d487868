package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Health reads GET /health (no key needed). An unhealthy server answers 503, returned as
// *Error (errors.Is ErrOverloaded), without retrying.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var out Health
	if err := c.probe(ctx, call{method: http.MethodGet, path: "/health", noSpace: true}, &out); err != nil {
		return &out, err
	}
	return &out, nil
}

// SystemHealth reads GET /api/v1/system/health: every space, or only this client's space
// when only is true and the client has one. An unhealthy server answers 503: the answer is returned with an
// *Error, without retrying, so that a caller can show what is wrong.
func (c *Client) SystemHealth(ctx context.Context, only bool) (*SystemHealth, error) {
	cl := call{method: http.MethodGet, path: "/api/v1/system/health", noSpace: true}
	if only && c.space != "" {
		cl.query = url.Values{"space": {c.space}}
	}
	var out SystemHealth
	if err := c.probe(ctx, cl, &out); err != nil {
		return &out, err
	}
	return &out, nil
}

// probe sends a health request once; a 503 answer is decoded into out as well as
// returned as an error.
func (c *Client) probe(ctx context.Context, cl call, out any) error {
	resp, err := c.once(ctx, cl)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		b, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(b, out) == nil {
			return &Error{Status: resp.StatusCode, Message: "the server is unhealthy", Method: cl.method, Path: cl.path}
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp, cl)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: decode the answer of %s %s: %w", cl.method, cl.path, err)
	}
	return nil
}

// Alive reports whether the process answers GET /health/alive.
func (c *Client) Alive(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodGet, path: "/health/alive", noSpace: true}, nil)
}

// Metrics returns the Prometheus text of GET /metrics.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.send(ctx, call{method: http.MethodGet, path: "/metrics", noSpace: true})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("client: read /metrics: %w", err)
	}
	return string(b), nil
}

// Shutdown asks the server to shut down (POST /shutdown): loopback callers when auth is
// off, an admin key when it is on.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/shutdown", noSpace: true}, nil)
}

// OpenAPI returns the server's OpenAPI document (GET /openapi.json).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	resp, err := c.send(ctx, call{method: http.MethodGet, path: "/openapi.json", noSpace: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
