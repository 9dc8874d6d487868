package engine

import (
	"context"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkRecallUnderWrites measures reinforcing recalls from 8 goroutines while 4 others
// remember into the same space (-engine.recallrows memories to start with, 768-d text
// embeddings), and reports the recalls' p50/p99: what concurrent readers pay for one
// another's reinforcements and for the writers' exclusive sections. b.N is the number of
// recalls.
func BenchmarkRecallUnderWrites(b *testing.B) {
	const readers, writers = 8, 4
	e, s, queries := recallBench(b, 4**recallRows)
	defer e.Close()
	ctx := context.Background()
	stop := make(chan struct{})
	var bg sync.WaitGroup
	for w := range writers {
		bg.Go(func() {
			r := rand.New(rand.NewSource(int64(10 + w)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Remember(ctx, Memory{Content: benchSentence(r), Confidence: 0.7}, RememberOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	lat := make([][]time.Duration, readers)
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range readers {
		n := b.N / readers
		if g < b.N%readers {
			n++
		}
		wg.Go(func() {
			for i := range n {
				start := time.Now()
				if _, err := s.Recall(ctx, Cue{Query: queries[(g*n+i)%len(queries)], Threshold: 0.3}); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(stop)
	bg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(s.Stats().Memories), "memories-at-end")
}
