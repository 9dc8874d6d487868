package httpapi

import (
	"fmt"
	"math"
	"net/http"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

type probabilisticAnswer struct {
	Memories           []memoryResult      `json:"memories"`
	ConfidenceInterval confidenceInterval  `json:"confidence_interval"`
	EvidenceChain      *[]evidence         `json:"evidence_chain"`
	UncertaintySources *[]uncertaintyEntry `json:"uncertainty_sources"`
	SystemMessage      string              `json:"system_message"`
	MemorySpaceID      string              `json:"memory_space_id"`
}

type confidenceInterval struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	Point float64 `json:"point"`
	Width float64 `json:"width"`
}

type evidence struct {
	SourceType  string  `json:"source_type"`
	Strength    float32 `json:"strength"`
	Description string  `json:"description"`
}

type uncertaintyEntry struct {
	SourceType  string  `json:"source_type"`
	Impact      float64 `json:"impact"`
	Explanation string  `json:"explanation"`
}

// handleProbabilistic serves GET /api/v1/query/probabilistic: a recall whose uncertainty
// is made explicit.
func (s *Server) handleProbabilistic(rq *request) error {
	p, err := readRecallParams(rq)
	if err != nil {
		return err
	}
	_, id, res, err := s.recall(rq, &p)
	if err != nil {
		return err
	}
	hits := make([]engine.Hit, 0, len(res.Vivid)+len(res.Associated)+len(res.Reconstructed))
	hits = append(append(append(hits, res.Vivid...), res.Associated...), res.Reconstructed...)

	a := probabilisticAnswer{Memories: memoryResults(hits), MemorySpaceID: id}
	scores := make([]float64, len(hits))
	for i := range hits {
		scores[i] = float64(finite32(hits[i].Score))
	}
	a.ConfidenceInterval = intervalOf(float64(finite32(res.Confidence)), scores)
	if p.includeEvidence {
		ev := make([]evidence, len(hits))
		for i := range hits {
			ev[i] = evidenceOf(&hits[i])
		}
		a.EvidenceChain = &ev
	}
	if p.includeUncertainty {
		u := uncertaintyOf(hits, scores)
		a.UncertaintySources = &u
	}
	ci := a.ConfidenceInterval
	a.SystemMessage = fmt.Sprintf("%d memories; confidence %.2f, 95%% interval [%.2f, %.2f].", len(hits), ci.Point, ci.Lower, ci.Upper)
	return writeJSON(rq.ctx, http.StatusOK, &a)
}

// intervalOf is frontend.Interval95 in the answer's shape.
func intervalOf(point float64, scores []float64) confidenceInterval {
	ci := frontend.Interval95(point, scores)
	return confidenceInterval{Lower: ci.Lower, Upper: ci.Upper, Point: ci.Point, Width: ci.Upper - ci.Lower}
}

func evidenceOf(h *engine.Hit) evidence {
	switch kindOf(h) {
	case hitConsolidated:
		return evidence{SourceType: "consolidated_memory", Strength: finite32(h.Score),
			Description: fmt.Sprintf("%s summarises %d episodes (similarity %.2f).", h.Memory.ID, len(h.Memory.Citations), h.Similarity)}
	case hitDirect:
		return evidence{SourceType: "direct_match", Strength: finite32(h.Score),
			Description: fmt.Sprintf("%s matches the cue directly (similarity %.2f).", h.Memory.ID, h.Similarity)}
	}
	return evidence{SourceType: "spreading_activation", Strength: finite32(h.Score),
		Description: fmt.Sprintf("%s was reached through association: %s (activation %.2f, stronger than its direct similarity %.2f).",
			h.Memory.ID, retrievalPath(h), h.Activation, h.Similarity)}
}

// uncertaintyOf lists what makes the answer uncertain, each with its measured impact.
func uncertaintyOf(hits []engine.Hit, scores []float64) []uncertaintyEntry {
	n := len(hits)
	out := []uncertaintyEntry{{
		SourceType:  "sample_size",
		Impact:      1 / math.Sqrt(float64(n)+1),
		Explanation: fmt.Sprintf("%d memories support the answer; fewer results leave more uncertainty.", n),
	}}
	if n > 1 {
		out = append(out, uncertaintyEntry{
			SourceType:  "score_dispersion",
			Impact:      frontend.StdDev(scores),
			Explanation: "Standard deviation of the result scores: how much the results disagree.",
		})
	}
	indirect, lowConf := 0, 0
	for i := range hits {
		if !hits[i].Direct {
			indirect++
		}
		if hits[i].Memory.Confidence <= 0.4 {
			lowConf++
		}
	}
	if indirect > 0 {
		out = append(out, uncertaintyEntry{
			SourceType:  "indirect_evidence",
			Impact:      float64(indirect) / float64(n),
			Explanation: fmt.Sprintf("%d of %d results were scored by spreading activation rather than a direct match.", indirect, n),
		})
	}
	if lowConf > 0 {
		out = append(out, uncertaintyEntry{
			SourceType:  "low_confidence_memories",
			Impact:      float64(lowConf) / float64(n),
			Explanation: fmt.Sprintf("%d of %d results were stored with low confidence.", lowConf, n),
		})
	}
	return out
}
