package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/engram-go/engram/engine/query"
)

// queryAnswer is the answer of POST /api/v1/query. Its field names follow the gRPC
// QueryResponse (confidences, aggregate_confidence, total_count, execution_time_ms), with
// the memories as MemoryResult.
type queryAnswer struct {
	Verb                string         `json:"verb"`
	Memories            []memoryResult `json:"memories"`
	Confidences         []float32      `json:"confidences"`
	AggregateConfidence aggregateCI    `json:"aggregate_confidence"`
	TotalCount          int            `json:"total_count"`
	ExecutionTimeMS     float64        `json:"execution_time_ms"`
	ActivationHops      int            `json:"activation_spread_hops"`
	MemorySpaceID       string         `json:"memory_space_id"`
	SystemMessage       string         `json:"system_message"`
}

type aggregateCI struct {
	LowerBound      float64 `json:"lower_bound"`
	Mean            float64 `json:"mean"`
	UpperBound      float64 `json:"upper_bound"`
	ConfidenceLevel float64 `json:"confidence_level"`
}

// handleQuery serves POST /api/v1/query: one statement of the query language
// (docs/query-language.md) in the body's "query" field (alias "query_text").
func (s *Server) handleQuery(rq *request) error {
	v, err := rq.jsonObject()
	if err != nil {
		return err
	}
	text, err := optString(v, "query")
	if err != nil {
		return err
	}
	if text == "" {
		if text, err = optString(v, "query_text"); err != nil {
			return err
		}
	}
	if strings.TrimSpace(text) == "" {
		return badRequest("query is required: a statement such as RECALL \"text\" LIMIT 5")
	}
	sp, id, err := rq.readSpaceOf(v)
	if err != nil {
		return err
	}
	q, err := query.Parse(text)
	if err != nil {
		return err
	}
	res, err := query.Execute(context.Background(), sp, q)
	if err != nil {
		return err
	}
	a := queryAnswer{Verb: res.Verb, Memories: memoryResults(res.Hits), Confidences: make([]float32, len(res.Hits)),
		TotalCount: len(res.Hits), ExecutionTimeMS: float64(res.Took.Microseconds()) / 1000,
		ActivationHops: res.Hops, MemorySpaceID: id}
	scores := make([]float64, len(res.Hits))
	for i := range res.Hits {
		a.Confidences[i] = finite32(res.Hits[i].Score)
		scores[i] = float64(a.Confidences[i])
	}
	ci := intervalOf(float64(finite32(res.Confidence)), scores)
	a.AggregateConfidence = aggregateCI{LowerBound: ci.Lower, Mean: ci.Point, UpperBound: ci.Upper, ConfidenceLevel: 0.95}
	a.SystemMessage = fmt.Sprintf("%s answered %d memories from space '%s'.", res.Verb, len(res.Hits), id)
	return writeJSON(rq.ctx, http.StatusOK, &a)
}
