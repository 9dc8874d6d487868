package engine

import (
	"context"
	"errors"
	"flag"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

var tieredRows = flag.Int("engine.tieredrows", 5000, "memories in the tiered-space benchmark (300000 for the documented figure)")

// procStatus reads a field of /proc/self/status in KiB (0 when unavailable).
func procStatus(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseFloat(f[1], 64)
				return v
			}
		}
	}
	return 0
}

// BenchmarkTieredSpace fills a space whose memories mostly live in warm and cold segments
// (ENGRAM_HEAP_PROFILE=FILE also writes a heap profile after the restart),
// restarts it, and reports the restart time, the resident memory after restart (anonymous
// and total) against the size of its vectors as float32, and a recall's latency.
func BenchmarkTieredSpace(b *testing.B) {
	n := *tieredRows
	root := b.TempDir()
	cfg := testConfig(b, root)
	cfg.Defaults = SpaceSettings{Dimension: 768, WALSync: "never", HotCapacity: max(n/15, 500), WarmCapacity: max(n/5, 1000), ColdCapacity: 10 * n}
	e := openTest(b, cfg)
	s := mustSpace(b, e, "bench")
	r := rand.New(rand.NewSource(5))
	ctx := context.Background()
	for done := 0; done < n; {
		batch := make([]Memory, 0, 500)
		for i := 0; i < 500 && done+i < n; i++ {
			batch = append(batch, Memory{Content: benchSentence(r), Confidence: 0.6})
		}
		_, errs := s.RememberBatch(ctx, batch, RememberOptions{})
		if errs[0] != nil {
			if errors.Is(errs[0], ErrOverloaded) {
				time.Sleep(50 * time.Millisecond) // the checkpoint or linker is catching up
				continue
			}
			b.Fatal(errs[0])
		}
		done += len(batch)
		if st := s.Stats(); st.Hot > cfg.Defaults.HotCapacity {
			checkpointNow(b, s)
		}
	}
	for s.Stats().LinkQueue > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	checkpointNow(b, s)
	before := s.Stats()
	if err := e.Close(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ResetTimer()
	var took time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		e = openTest(b, cfg)
		s, _ = e.Space("bench")
		if got := s.Stats(); got.Memories != before.Memories {
			b.Fatalf("restart: %d memories, want %d", got.Memories, before.Memories)
		}
		took = time.Since(start)
		if i < b.N-1 {
			e.Close()
		}
	}
	b.StopTimer()
	defer e.Close()
	debug.FreeOSMemory() // return freed heap so the resident figures show what is held
	if p := os.Getenv("ENGRAM_HEAP_PROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	st := s.Stats()
	rs := time.Now()
	if _, err := s.Recall(ctx, Cue{Query: benchWords[3] + " " + benchWords[7], Threshold: 0.3, NoReinforce: true}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(took.Milliseconds()), "restart-ms")
	b.ReportMetric(float64(time.Since(rs).Microseconds())/1000, "recall-ms")
	b.ReportMetric(float64(st.Hot), "hot")
	b.ReportMetric(float64(st.Warm), "warm")
	b.ReportMetric(float64(st.Cold), "cold")
	b.ReportMetric(procStatus("RssAnon")/1024, "anon-MiB")
	b.ReportMetric(procStatus("VmRSS")/1024, "rss-MiB")
	b.ReportMetric(float64(n)*768*4/(1<<20), "vectors-MiB")
}
