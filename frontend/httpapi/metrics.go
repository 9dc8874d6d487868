package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/engram-go/engram/engine"
)

// requestMetrics counts requests per route and status code and times them per route:
// engram_http_requests_total{route,code} and engram_http_request_duration_seconds{route}.
// Route labels are patterns ("/api/v1/memories/{id}"), never raw paths, so the label set
// stays bounded and carries no ids.
type requestMetrics struct {
	set       *metrics.Set
	durations map[string]*metrics.PrometheusHistogram // fixed at construction, read-only after
	counters  sync.Map                                // counterKey → *metrics.Counter
}

type counterKey struct {
	route string
	code  int
}

func newRequestMetrics(rt *router) *requestMetrics {
	m := &requestMetrics{set: metrics.NewSet(), durations: map[string]*metrics.PrometheusHistogram{}}
	labels := []string{"unmatched", "transport"}
	for _, r := range rt.routes() {
		labels = append(labels, r.pattern)
	}
	for _, l := range labels {
		m.durations[l] = m.set.NewPrometheusHistogram(fmt.Sprintf(`engram_http_request_duration_seconds{route=%q}`, l))
	}
	return m
}

func (m *requestMetrics) observe(route string, code int, start time.Time) {
	if h := m.durations[route]; h != nil {
		h.UpdateDuration(start)
	}
	k := counterKey{route, code}
	c, ok := m.counters.Load(k)
	if !ok {
		c, _ = m.counters.LoadOrStore(k, m.set.GetOrCreateCounter(
			fmt.Sprintf(`engram_http_requests_total{route=%q,code="%d"}`, route, code)))
	}
	c.(*metrics.Counter).Inc()
}

// handleMetrics serves GET /metrics in the Prometheus text format: the engine's metrics
// (WAL fsync latency and batch size, registry lock wait, recovery counts), this
// frontend's request metrics, and per-space gauges computed now from Space.Stats.
func (s *Server) handleMetrics(rq *request) error {
	var buf bytes.Buffer
	s.eng.Metrics().WritePrometheus(&buf)
	s.metrics.set.WritePrometheus(&buf)
	writeSpaceGauges(&buf, rq.visibleSpaces())
	s.writeClusterMetrics(&buf)
	rq.ctx.SetStatusCode(200)
	rq.ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	rq.ctx.SetBody(buf.Bytes())
	return nil
}

// writeSpaceGauges writes each gauge family for every space in turn, so that the lines of
// one family stay together. Space ids are [a-z0-9_-], safe as label values unquoted.
func writeSpaceGauges(w io.Writer, spaces []*engine.Space) {
	stats := make([]engine.Stats, len(spaces))
	for i, sp := range spaces {
		stats[i] = sp.Stats()
	}
	gauge := func(name string, value func(st *engine.Stats) float64) {
		for i := range stats {
			metrics.WriteGaugeFloat64(w, name+`{space="`+stats[i].ID+`"}`, finite(value(&stats[i])))
		}
	}
	for i := range stats {
		metrics.WriteGaugeUint64(w, `engram_space_memories{space="`+stats[i].ID+`"}`, uint64(max(stats[i].Memories, 0)))
	}
	gauge("engram_space_pressure", func(st *engine.Stats) float64 { return st.Pressure })
	gauge("engram_space_wal_lag_seconds", func(st *engine.Stats) float64 { return st.WALLag.Seconds() })
	gauge("engram_space_consolidation_rate", func(st *engine.Stats) float64 { return st.ConsolidationRate })
	for i := range stats {
		st := &stats[i]
		for _, t := range []struct {
			tier string
			n    int
		}{{"hot", st.Hot}, {"warm", st.Warm}, {"cold", st.Cold}} {
			metrics.WriteGaugeUint64(w, `engram_space_tier_memories{space="`+st.ID+`",tier="`+t.tier+`"}`, uint64(max(t.n, 0)))
		}
	}
	gauge("engram_space_link_queue", func(st *engine.Stats) float64 { return float64(st.LinkQueue) })
	gauge("engram_space_link_lag_seconds", func(st *engine.Stats) float64 { return st.LinkLag.Seconds() })
	gauge("engram_space_link_lag_work_seconds", func(st *engine.Stats) float64 { return st.LinkLagWork.Seconds() })
	gauge("engram_space_index_lag_rows", func(st *engine.Stats) float64 { return float64(st.IndexLag) })
	gauge("engram_space_index_lag_work_seconds", func(st *engine.Stats) float64 { return st.IndexLagWork.Seconds() })
	gauge("engram_space_background_share", func(st *engine.Stats) float64 { return st.BackgroundShare })
	gauge("engram_space_remembers_waiting", func(st *engine.Stats) float64 { return float64(st.RemembersWaiting) })
	gauge("engram_space_wal_bytes", func(st *engine.Stats) float64 { return float64(st.WALBytes) })
}
