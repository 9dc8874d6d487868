package frontend

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
)

// Introspection is what a space reports about itself (docs/api.md, Introspect): every
// figure is read from the engine's state at the time of the call.
type Introspection struct {
	Space           string
	Metrics         map[string]float64
	Stats           engine.Stats
	Census          engine.Census
	Components      map[string]Component
	Healthy         bool
	Summary         string
	ActiveProcesses []string
}

// Component is the state of one part of a space's machinery. Performance is the fraction
// of its work that is caught up, 0..1.
type Component struct {
	Operational bool
	Performance float64
	Status      string
}

// IntrospectMetrics are the names Introspect reports, in a stable order.
var IntrospectMetrics = []string{
	"memories", "memories_episodic", "memories_semantic", "memories_procedural", "consolidated_episodes",
	"tier_hot", "tier_warm", "tier_cold", "pressure", "edges", "indexed_rows", "index_lag_rows",
	"index_lag_work_ms", "link_queue", "link_lag_ms", "link_lag_work_ms", "background_share", "wal_lag_ms", "wal_bytes", "wal_segments",
	"recall_rate", "storage_rate", "consolidation_rate", "avg_confidence", "avg_retention",
}

// Introspect reads the figures of sp (nil: a space that does not exist, all zero). want
// limits the metrics to those names; an unknown name is an error naming it.
func Introspect(eng *engine.Engine, sp *engine.Space, id string, want []string) (*Introspection, error) {
	for _, w := range want {
		if !slices.Contains(IntrospectMetrics, w) {
			return nil, fmt.Errorf("%w: metrics: unknown metric %q; known: %s", engine.ErrInvalidInput, w, strings.Join(IntrospectMetrics, ", "))
		}
	}
	in := &Introspection{Space: id, Healthy: true, Census: engine.Census{ByType: map[engine.MemoryType]int{}}}
	var recallRate, storageRate float64
	if sp != nil {
		c, err := sp.Census()
		if err != nil {
			return nil, err
		}
		in.Census = c
		in.Stats = sp.Stats()
		recallRate, storageRate = sp.EventRate(engine.EventRecall), sp.EventRate(engine.EventStorage)
	}
	st, c := &in.Stats, &in.Census
	all := map[string]float64{
		"memories": float64(c.Memories), "memories_episodic": float64(c.ByType[engine.Episodic]),
		"memories_semantic": float64(c.ByType[engine.Semantic]), "memories_procedural": float64(c.ByType[engine.Procedural]),
		"consolidated_episodes": float64(c.Consolidated),
		"tier_hot":              float64(st.Hot), "tier_warm": float64(st.Warm), "tier_cold": float64(st.Cold),
		"pressure": st.Pressure, "edges": float64(st.Edges), "indexed_rows": float64(st.IndexedRows),
		"index_lag_rows": float64(st.IndexLag), "link_queue": float64(st.LinkQueue),
		"index_lag_work_ms": ms(st.IndexLagWork), "link_lag_work_ms": ms(st.LinkLagWork),
		"background_share": st.BackgroundShare,
		"link_lag_ms":      ms(st.LinkLag), "wal_lag_ms": ms(st.WALLag), "wal_bytes": float64(st.WALBytes),
		"wal_segments": float64(st.WALSegments), "recall_rate": recallRate, "storage_rate": storageRate,
		"consolidation_rate": st.ConsolidationRate, "avg_confidence": c.AvgConfidence, "avg_retention": c.AvgRetention,
	}
	in.Metrics = all
	if len(want) > 0 {
		in.Metrics = map[string]float64{}
		for _, w := range want {
			in.Metrics[w] = all[w]
		}
	}

	walPerf := 1.0
	if st.LSN > 0 {
		walPerf = float64(st.DurableLSN) / float64(st.LSN)
	}
	indexPerf := 1.0
	if st.IndexedRows+st.IndexLag > 0 {
		indexPerf = float64(st.IndexedRows) / float64(st.IndexedRows+st.IndexLag)
	}
	linkPerf := 1.0
	if c.Memories > 0 {
		linkPerf = max(0, 1-float64(st.LinkQueue)/float64(c.Memories))
	}
	walStatus := fmt.Sprintf("LSN %d, durable %d, lag %.2f ms", st.LSN, st.DurableLSN, ms(st.WALLag))
	if st.Failed {
		walStatus = "the log failed; the space recovers from disk on its next write"
		in.Healthy = false
	}
	in.Components = map[string]Component{
		"wal":    {Operational: !st.Failed, Performance: walPerf, Status: walStatus},
		"index":  {Operational: true, Performance: indexPerf, Status: fmt.Sprintf("%d rows indexed, %d waiting", st.IndexedRows, st.IndexLag)},
		"linker": {Operational: true, Performance: linkPerf, Status: fmt.Sprintf("%d memories waiting for edges, oldest %.0f ms", st.LinkQueue, ms(st.LinkLag))},
	}
	if st.LinkQueue > 0 {
		in.ActiveProcesses = append(in.ActiveProcesses, "association_linking")
	}
	if st.IndexLag > 0 {
		in.ActiveProcesses = append(in.ActiveProcesses, "vector_indexing")
	}
	if st.WALLag > 0 {
		in.ActiveProcesses = append(in.ActiveProcesses, "wal_sync")
	}
	if eng.Config().Consolidation.Enabled {
		in.ActiveProcesses = append(in.ActiveProcesses, fmt.Sprintf("consolidation_every_%s", eng.Config().Consolidation.Interval))
	}
	sort.Strings(in.ActiveProcesses)
	state := "healthy"
	if !in.Healthy {
		state = "unhealthy"
	}
	in.Summary = fmt.Sprintf("space %q is %s: %d memories (%d hot, %d warm, %d cold), %d edges, %.2f recalls/s, %.2f episodes consolidated/s",
		id, state, c.Memories, st.Hot, st.Warm, st.Cold, st.Edges, recallRate, st.ConsolidationRate)
	return in, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
