package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Complete fills the missing fields of a partial episode from the space's memories
// (POST /api/v1/complete). When nothing stored supports any of them the server answers
// 422, an *Error matching ErrValidation.
func (c *Client) Complete(ctx context.Context, r CompleteRequest) (*CompleteResponse, error) {
	var out CompleteResponse
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/complete", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Recognize tells whether content or a vector is familiar to the space, and which
// memories it is like (POST /api/v1/memories/recognize). Nothing is reinforced.
func (c *Client) Recognize(ctx context.Context, r RecognizeRequest) (*RecognizeResponse, error) {
	var out RecognizeResponse
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/memories/recognize", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Associate creates the explicit association edge between two memories of the space, or
// strengthens it (POST /api/v1/memories/associate). A memory the space does not hold is
// ErrMemoryNotFound.
func (c *Client) Associate(ctx context.Context, r AssociateRequest) (*AssociateResponse, error) {
	var out AssociateResponse
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/memories/associate", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ConsolidateNow runs consolidation of the space now and returns what it formed (POST
// /api/v1/consolidations). Episodes observed before olderThan are eligible; the zero time
// means the server's default, now minus [consolidation] min_age.
func (c *Client) ConsolidateNow(ctx context.Context, olderThan time.Time) (*ConsolidateResponse, error) {
	var body any
	if !olderThan.IsZero() {
		body = map[string]string{"older_than": olderThan.UTC().Format(time.RFC3339Nano)}
	}
	var out ConsolidateResponse
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/consolidations", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Replay returns the space's episodes selected by r's cues (GET /api/v1/episodes/replay).
// Nothing is reinforced.
func (c *Client) Replay(ctx context.Context, r ReplayRequest) (*ReplayResponse, error) {
	q := url.Values{}
	for name, t := range map[string]*time.Time{"around": r.Around, "from": r.From, "to": r.To} {
		if t != nil {
			q.Set(name, t.UTC().Format(time.RFC3339Nano))
		}
	}
	if r.Window > 0 {
		q.Set("window", r.Window.String())
	}
	if r.Where != "" {
		q.Set("where", r.Where)
	}
	if len(r.Who) > 0 {
		q.Set("who", strings.Join(r.Who, ","))
	}
	if r.Topic != "" {
		q.Set("topic", r.Topic)
	}
	if r.Limit > 0 {
		q.Set("limit", strconv.Itoa(r.Limit))
	}
	setFlag(q, "include_emotional", r.IncludeEmotional)
	var out ReplayResponse
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/episodes/replay", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Introspect reads the space's live figures (GET /api/v1/system/introspect). An unknown
// metric name is ErrInvalidInput.
func (c *Client) Introspect(ctx context.Context, opts IntrospectOptions) (*IntrospectResponse, error) {
	q := url.Values{}
	if len(opts.Metrics) > 0 {
		q.Set("metrics", strings.Join(opts.Metrics, ","))
	}
	if opts.SkipHealth {
		q.Set("include_health", "false")
	}
	if opts.SkipStatistics {
		q.Set("include_statistics", "false")
	}
	var out IntrospectResponse
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/system/introspect", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Compact checkpoints the space's tiers now (POST /api/v1/maintenance/compact). A space
// that does not exist is ErrSpaceNotFound; it is not created.
func (c *Client) Compact(ctx context.Context) (*CompactResponse, error) {
	var out CompactResponse
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/maintenance/compact", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SpreadingConfig reads the spreading-activation parameters in effect (GET
// /api/v1/system/spreading/config), the same for every space.
func (c *Client) SpreadingConfig(ctx context.Context) (*SpreadingConfig, error) {
	var out SpreadingConfig
	if err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/system/spreading/config", noSpace: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SpreadingHealth reads GET /health/spreading (no key needed). An unhealthy server
// answers 503: the answer is returned with an *Error, without retrying.
func (c *Client) SpreadingHealth(ctx context.Context) (*SpreadingHealth, error) {
	var out SpreadingHealth
	if err := c.probe(ctx, call{method: http.MethodGet, path: "/health/spreading", noSpace: true}, &out); err != nil {
		return &out, err
	}
	return &out, nil
}
