package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/internal/cputime"
	"github.com/engram-go/engram/internal/enginetest"
)

// tenancyWriters is the number of concurrent callers of BenchmarkTenancy: as many as the
// HTTP load generator's clients, so that one space's group commit has company to share.
const tenancyWriters = 64

// tenancyDim is the embedding dimension of BenchmarkTenancy's memories. Clients send the
// vectors, so the built-in embedder's cost is not part of the figure.
const tenancyDim = 384

// BenchmarkTenancy stores the same load — b.N memories from 64 concurrent callers, each
// with its own 384-d vector — spread round-robin over 1, 100 and 1,000 spaces, through the
// engine's public API only. Each space has its own WAL, so with durability on
// (wal_sync = always) a group commit can only share an fsync among callers of the same
// space; sync=never isolates the rest of the per-space cost (registry lookup, locks,
// indexes, background lanes). memories/s is the figure; x-one-space is the throughput
// relative to the one-space run of the same sync mode in the same process (target of
// docs: 1,000 spaces within 5% of one space, i.e. x-one-space ≥ 0.95). cpu-µs/memory is
// the process's CPU time (user and system, background lanes included) per memory stored,
// which moves much less than the rate when other work shares the machine. Spaces are
// created, and written once each, before the timer starts.
func BenchmarkTenancy(b *testing.B) {
	for _, sync := range []string{"always", "never"} {
		oneSpace := 0.0
		for _, spaces := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("sync=%s/spaces=%d", sync, spaces), func(b *testing.B) {
				rate, cpu, flushes := benchTenancy(b, sync, spaces)
				b.ReportMetric(rate, "memories/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/memory")
				if flushes.flushes > 0 {
					b.ReportMetric(float64(b.N)/flushes.flushes, "memories/flush")
					b.ReportMetric(flushes.logs/flushes.flushes, "logs/flush")
					b.ReportMetric(flushes.seconds/flushes.flushes*1e6, "µs/flush")
				}
				if spaces == 1 {
					oneSpace = rate
				} else if oneSpace > 0 {
					b.ReportMetric(rate/oneSpace, "x-one-space")
				}
			})
		}
	}
}

// benchTenancy runs one configuration and returns memories per second, the process's CPU
// time (user and system, background lanes included) and the durable flushes made during
// the run.
func benchTenancy(b *testing.B, walSync string, spaces int) (float64, time.Duration, flushFigures) {
	cfg := enginetest.Config(b, tenancyDim)
	cfg.MaxSpaces = spaces + 1
	cfg.MaxOpenSpaces = spaces + 1 // every space is in use; none should be swept
	cfg.EmbeddingProvider = "none"
	cfg.Defaults.WALSync = walSync
	e := enginetest.Open(b, cfg)
	defer func() { // before the next configuration opens
		if err := e.Close(); err != nil {
			b.Error(err)
		}
	}()
	var err error
	targets := make([]*engine.Space, spaces)
	for i := range targets {
		if targets[i], _, err = e.CreateSpace(fmt.Sprintf("tenant-%04d", i), engine.SpaceSettings{}); err != nil {
			b.Fatal(err)
		}
	}
	memories := tenancyMemories(1024)
	ctx := context.Background()
	// One memory per space before timing: a space's first write allocates its slab and
	// indexes, which is the cost of creating a tenant, not of serving one.
	for i, s := range targets {
		if _, err := s.Remember(ctx, memories[i%len(memories)], engine.RememberOptions{}); err != nil {
			b.Fatal(err)
		}
	}

	waitLinked(targets)

	var next atomic.Int64
	var wg sync.WaitGroup
	before := walFlushes(e)
	b.ResetTimer()
	start, startCPU := time.Now(), processCPU()
	for range tenancyWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				m := memories[i%int64(len(memories))]
				if _, err := targets[i%int64(spaces)].Remember(ctx, m, engine.RememberOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-startCPU
	b.StopTimer()
	after := walFlushes(e)
	return float64(b.N) / elapsed.Seconds(), cpu, flushFigures{after.flushes - before.flushes, after.logs - before.logs, after.seconds - before.seconds}
}

// processCPU is the process's CPU time, zero where it cannot be read: on a shared machine
// a benchmark's CPU time per operation moves far less than its wall time.
func processCPU() time.Duration {
	d, _ := cputime.Process()
	return d
}

// flushFigures are the engine's durable flushes, the logs they covered and the seconds spent
// in them.
type flushFigures struct{ flushes, logs, seconds float64 }

// walFlushes reads the engine's flush figures off its metrics.
func walFlushes(e *engine.Engine) (f flushFigures) {
	var buf bytes.Buffer
	e.Metrics().WritePrometheus(&buf)
	for line := range strings.Lines(buf.String()) {
		name, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case "engram_wal_flushes_total":
			f.flushes = x
		case "engram_wal_flushed_logs_total":
			f.logs = x
		case "engram_wal_flush_seconds_total":
			f.seconds = x
		}
	}
	return f
}

// waitLinked waits until no space has memories waiting for association edges, so the
// timed run does not pay for the warm-up's background work.
func waitLinked(spaces []*engine.Space) {
	for _, s := range spaces {
		for s.Stats().LinkQueue > 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// tenancyMemories returns n memories with short contents and random unit vectors; their
// ids are left empty so each Remember stores a new memory.
func tenancyMemories(n int) []engine.Memory {
	r := rand.New(rand.NewPCG(7, 11))
	out := make([]engine.Memory, n)
	for i := range out {
		v := make([]float32, tenancyDim)
		var norm float64
		for j := range v {
			v[j] = float32(r.NormFloat64())
			norm += float64(v[j]) * float64(v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(norm))
		}
		out[i] = engine.Memory{Content: fmt.Sprintf("tenancy memory %d of the load", i), Confidence: 0.7, Embedding: v}
	}
	return out
}
