package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Remember stores one memory (POST /api/v1/memories/remember).
func (c *Client) Remember(ctx context.Context, r RememberRequest) (*RememberResponse, error) {
	var out RememberResponse
	if err := c.doKeyed(ctx, "/api/v1/memories/remember", nil, r, r.IdempotencyKey, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// doKeyed posts a JSON body with an Idempotency-Key header when key is set.
func (c *Client) doKeyed(ctx context.Context, path string, query url.Values, body any, key string, out any) error {
	cl, err := c.jsonCall(http.MethodPost, path, query, body)
	if err != nil {
		return err
	}
	if key != "" {
		cl.header = http.Header{"Idempotency-Key": {key}}
	}
	return c.do(ctx, cl, out)
}

// RememberEpisode stores one episode (POST /api/v1/episodes/remember).
func (c *Client) RememberEpisode(ctx context.Context, r EpisodeRequest) (*RememberResponse, error) {
	var out RememberResponse
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/episodes/remember", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RememberBatch stores up to the server's max_batch_items memories in one group commit
// (POST /api/v1/memories/batch). Refused items are listed by index in the answer; the
// call fails only when nothing could be stored because of the server's state. See
// RememberAll for inputs of any size.
func (c *Client) RememberBatch(ctx context.Context, items []RememberRequest, opts BatchOptions) (*BatchResponse, error) {
	q := url.Values{}
	if opts.AutoLink {
		q.Set("auto_link", "true")
	}
	if opts.LinkThreshold > 0 {
		q.Set("link_threshold", strconv.FormatFloat(float64(opts.LinkThreshold), 'g', -1, 32))
	}
	var out BatchResponse
	if err := c.doKeyed(ctx, "/api/v1/memories/batch", q, items, opts.IdempotencyKey, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Recall recalls by text, vector or both (POST /api/v1/memories/recall).
func (c *Client) Recall(ctx context.Context, r RecallRequest) (*RecallResponse, error) {
	var out RecallResponse
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/memories/recall", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Query runs one statement of the query language (POST /api/v1/query,
// docs/query-language.md), e.g. `RECALL "coffee" THRESHOLD 0.4 LIMIT 5`.
func (c *Client) Query(ctx context.Context, statement string) (*QueryResponse, error) {
	var out QueryResponse
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/query", nil, map[string]string{"query": statement}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ProbabilisticQuery recalls with a confidence interval (GET /api/v1/query/probabilistic).
func (c *Client) ProbabilisticQuery(ctx context.Context, r ProbabilisticRequest) (*ProbabilisticResponse, error) {
	q, err := r.RecallRequest.values()
	if err != nil {
		return nil, err
	}
	setFlag(q, "include_evidence", r.IncludeEvidence)
	setFlag(q, "include_uncertainty", r.IncludeUncertainty)
	var out ProbabilisticResponse
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/query/probabilistic", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// values spells a recall as query parameters.
func (r *RecallRequest) values() (url.Values, error) {
	q := url.Values{}
	if r.Query != "" {
		q.Set("query", r.Query)
	}
	if len(r.Embedding) > 0 {
		b, err := json.Marshal(r.Embedding)
		if err != nil {
			return nil, err
		}
		q.Set("embedding", string(b))
	}
	if r.MaxResults > 0 {
		q.Set("max_results", strconv.Itoa(r.MaxResults))
	}
	if r.Threshold != nil {
		q.Set("threshold", strconv.FormatFloat(float64(*r.Threshold), 'g', -1, 32))
	}
	if r.Mode != "" {
		q.Set("mode", r.Mode)
	}
	setFlag(q, "trace_activation", r.TraceActivation)
	setFlag(q, "include_metadata", r.IncludeMetadata)
	for _, t := range r.RequiredTags {
		q.Add("required_tags", t)
	}
	for _, t := range r.ExcludedTags {
		q.Add("excluded_tags", t)
	}
	if r.FromTime != nil {
		q.Set("from_time", r.FromTime.UTC().Format(time.RFC3339Nano))
	}
	if r.ToTime != nil {
		q.Set("to_time", r.ToTime.UTC().Format(time.RFC3339Nano))
	}
	return q, nil
}

func setFlag(q url.Values, key string, on bool) {
	if on {
		q.Set(key, "true")
	}
}

// Search is a lexical (BM25) search over content (GET /api/v1/memories/search); limit 0
// means the server's default.
func (c *Client) Search(ctx context.Context, query string, limit int) (*SearchResponse, error) {
	q := url.Values{"query": {query}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out SearchResponse
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/memories/search", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get reads one memory (GET /api/v1/memories/{id}); ErrMemoryNotFound when it is not there.
func (c *Client) Get(ctx context.Context, id string) (*Memory, error) {
	var out Memory
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/memories/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Associations lists one memory's association edges, strongest first
// (GET /api/v1/memories/{id}/associations). An id not in the space is ErrMemoryNotFound.
func (c *Client) Associations(ctx context.Context, id string) (*AssociationsResponse, error) {
	var out AssociationsResponse
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/memories/"+url.PathEscape(id)+"/associations", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Forget deletes one memory (DELETE /api/v1/memories/{id}); it answers once the
// tombstone is durable.
func (c *Client) Forget(ctx context.Context, id string) (*ForgetResponse, error) {
	var out ForgetResponse
	if err := c.doJSON(ctx, http.MethodDelete, "/api/v1/memories/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// List reads one page of the space's memories, ordered by id (GET /api/v1/memories).
func (c *Client) List(ctx context.Context, r ListRequest) (*ListResponse, error) {
	q := url.Values{}
	if r.Tier != "" {
		q.Set("tier", r.Tier)
	}
	if r.Offset > 0 {
		q.Set("offset", strconv.Itoa(r.Offset))
	}
	if r.Limit > 0 {
		q.Set("limit", strconv.Itoa(r.Limit))
	}
	setFlag(q, "include_embeddings", r.IncludeEmbeddings)
	var out ListResponse
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/memories", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Consolidations lists the space's beliefs (GET /api/v1/consolidations).
func (c *Client) Consolidations(ctx context.Context) (*ConsolidationsResponse, error) {
	var out ConsolidationsResponse
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/consolidations", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Consolidation reads one belief (GET /api/v1/consolidations/{id}).
func (c *Client) Consolidation(ctx context.Context, id string) (*Belief, error) {
	var out Belief
	if err := c.doJSON(ctx, http.MethodGet, "/api/v1/consolidations/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
