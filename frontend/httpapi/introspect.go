package httpapi

import (
	"net/http"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

type introspectAnswer struct {
	MemorySpaceID   string             `json:"memory_space_id"`
	Metrics         map[string]float64 `json:"metrics"`
	Health          *healthStatus      `json:"health"`
	Statistics      *memoryStatistics  `json:"statistics"`
	ActiveProcesses []string           `json:"active_processes"`
}

type healthStatus struct {
	Healthy    bool                       `json:"healthy"`
	Components map[string]componentHealth `json:"components"`
	Summary    string                     `json:"summary"`
}

type componentHealth struct {
	Operational   bool    `json:"operational"`
	Performance   float64 `json:"performance"`
	StatusMessage string  `json:"status_message"`
}

type memoryStatistics struct {
	TotalMemories     int            `json:"total_memories"`
	ByType            map[string]int `json:"by_type"`
	AvgActivation     float64        `json:"avg_activation"`
	AvgConfidence     float64        `json:"avg_confidence"`
	TotalAssociations int            `json:"total_associations"`
	OldestMemory      *jsonTime      `json:"oldest_memory"`
	NewestMemory      *jsonTime      `json:"newest_memory"`
	Tiers             tierCounts     `json:"tiers"`
}

type tierCounts struct {
	Hot  int `json:"hot"`
	Warm int `json:"warm"`
	Cold int `json:"cold"`
}

// handleIntrospect serves GET /api/v1/system/introspect: the chosen space's live figures.
// metrics (comma list) limits the metrics; include_health and include_statistics default
// to true.
func (s *Server) handleIntrospect(rq *request) error {
	args := rq.ctx.QueryArgs()
	health, stats := true, true
	for key, dst := range map[string]*bool{"include_health": &health, "include_statistics": &stats} {
		if v := args.Peek(key); v != nil {
			if err := parseBoolParam(key, string(v), dst); err != nil {
				return err
			}
		}
	}
	sp, id, err := rq.readSpace("")
	if err != nil {
		return err
	}
	in, err := frontend.Introspect(s.eng, sp, id, splitList(string(args.Peek("metrics"))))
	if err != nil {
		return err
	}
	a := introspectAnswer{MemorySpaceID: id, Metrics: map[string]float64{}, ActiveProcesses: in.ActiveProcesses}
	for k, v := range in.Metrics {
		a.Metrics[k] = finite(v)
	}
	if a.ActiveProcesses == nil {
		a.ActiveProcesses = []string{}
	}
	if health {
		a.Health = &healthStatus{Healthy: in.Healthy, Summary: in.Summary, Components: map[string]componentHealth{}}
		for name, c := range in.Components {
			a.Health.Components[name] = componentHealth{Operational: c.Operational, Performance: finite(c.Performance), StatusMessage: c.Status}
		}
	}
	if stats {
		c := &in.Census
		a.Statistics = &memoryStatistics{
			TotalMemories: c.Memories, AvgActivation: finite(c.AvgRetention), AvgConfidence: finite(c.AvgConfidence),
			TotalAssociations: in.Stats.Edges, Tiers: tierCounts{Hot: in.Stats.Hot, Warm: in.Stats.Warm, Cold: in.Stats.Cold},
			ByType: map[string]int{},
		}
		for _, t := range []engine.MemoryType{engine.Episodic, engine.Semantic, engine.Procedural} {
			a.Statistics.ByType[t.String()] = c.ByType[t]
		}
		if !c.Oldest.IsZero() {
			o, n := jsonTime(c.Oldest), jsonTime(c.Newest)
			a.Statistics.OldestMemory, a.Statistics.NewestMemory = &o, &n
		}
	}
	return writeJSON(rq.ctx, http.StatusOK, &a)
}
