package partlog

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/engram-go/engram/engine"
)

// BenchmarkReplicatedRemember compares remembers acknowledged by one node's WAL with the
// same remembers acknowledged through a partition stream (one embedded NATS server, R1,
// sync_interval always) in one run: 64 writers over 8 spaces of one partition. Ratios
// between the two are what to compare (docs/cluster.md); R3 over three servers is the
// cluster harness's to measure.
func BenchmarkReplicatedRemember(b *testing.B) {
	for _, mode := range []string{"local", "stream"} {
		b.Run(mode, func(b *testing.B) {
			var e *engine.Engine
			var pub *Publisher
			if mode == "local" {
				var err error
				e, err = engine.Open(engine.Config{DataRoot: b.TempDir(), AutoCreate: true,
					Defaults: engine.SpaceSettings{Dimension: 16}, Logger: quiet()})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { e.Close() })
			} else {
				js := startJetStream(b)
				pub = StartPublisher(js, PublisherConfig{Partition: 0, NodeID: "bench", Logger: quiet()})
				b.Cleanup(pub.Stop)
				e = openEngine(b, b.TempDir(), leader{pub})
			}
			const spaces = 8
			for i := range spaces {
				if _, _, err := e.CreateSpace(fmt.Sprintf("bench-%d", i), engine.SpaceSettings{}); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			b.SetParallelism(32) // 64 writers on two CPUs, as the spike
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					s, err := e.Space(fmt.Sprintf("bench-%d", i%spaces))
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := s.Remember(context.Background(), engine.Memory{Content: fmt.Sprintf("note %d", i), Confidence: 0.6}, engine.RememberOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if pub != nil {
				msgs, recs := pub.Stats()
				if msgs > 0 {
					b.ReportMetric(float64(recs)/float64(msgs), "records/message")
				}
			}
		})
	}
}
