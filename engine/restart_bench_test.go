package engine

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/internal/cputime"
)

var (
	restartRows    = flag.Int("engine.restartrows", 20000, "memories in the restart benchmark space (1000000 for the documented figure)")
	restartDir     = flag.String("engine.restartdir", "", "folder keeping the restart benchmark's space between runs: written there once per row count, copied afresh before each open (so binaries of other formats can take turns on it)")
	restartRebuild = flag.Bool("engine.restartrebuild", true, "also open by rebuilding the derived state (false: only from the derived files, for profiles)")
)

// BenchmarkRestart opens a checkpointed space of linked memories, written at engine level,
// alternately from its derived files and by rebuilding what they hold from the memories
// (the path before derived files, and the one a damaged file takes; its vector index is
// then rebuilt in the background after the open, which is not timed), and reports both
// rates in memories of history per second and their ratio, measured in the same run, and
// the CPU time of the process per open on each path (which moves far less than the wall
// time on a shared machine). The space size is -engine.restartrows; with -engine.restartdir
// the space is written once and kept for later runs.
func BenchmarkRestart(b *testing.B) {
	n := *restartRows
	root, edges := restartSpace(b, n)
	cfg := restartConfig(b, root, n)
	paths := []bool{false, true}
	if !*restartRebuild {
		paths = paths[:1]
	}
	var took, cpu [2]time.Duration // [0] derived files, [1] rebuilt
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for path, rebuild := range paths {
			b.StopTimer()
			c := cfg
			c.DataRoot = restartCopy(b, root)
			c.rebuildDerived = rebuild
			b.StartTimer()
			cpu0, _ := cputime.Process()
			start := time.Now()
			e := openTest(b, c)
			took[path] += time.Since(start)
			cpu1, _ := cputime.Process()
			cpu[path] += cpu1 - cpu0
			b.StopTimer()
			got := mustSpace(b, e, "bench").Stats()
			if got.Memories != n || got.Edges != edges {
				b.Fatalf("rebuild=%v: opened %d memories and %d edges, want %d and %d", rebuild, got.Memories, got.Edges, n, edges)
			}
			if !rebuild && n >= hnswStartRows && got.IndexedRows != n {
				// Rebuilding, the index lane starts over after the open; loaded, it is whole.
				b.Fatalf("opened from derived files with %d rows in the vector index, want %d", got.IndexedRows, n)
			}
			if err := e.Close(); err != nil {
				b.Fatal(err)
			}
			if err := os.RemoveAll(c.DataRoot); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	derived := float64(b.N) * float64(n) / took[0].Seconds()
	b.ReportMetric(derived, "memories/s")
	if cpu[0] > 0 {
		b.ReportMetric(cpu[0].Seconds()*1e3/float64(b.N), "cpu-ms/open")
	}
	if len(paths) == 1 {
		return
	}
	rebuilt := float64(b.N) * float64(n) / took[1].Seconds()
	b.ReportMetric(rebuilt, "rebuilt-memories/s")
	b.ReportMetric(derived/rebuilt, "x-rebuild")
	if cpu[0] > 0 {
		b.ReportMetric(cpu[1].Seconds()*1e3/float64(b.N), "rebuilt-cpu-ms/open")
	}
}

func restartConfig(b *testing.B, root string, n int) Config {
	cfg := testConfig(b, root)
	cfg.Defaults = SpaceSettings{Dimension: 16, WALSync: "never", HotCapacity: n, WarmCapacity: 10 * n, ColdCapacity: 100 * n}
	cfg.EmbeddingProvider = "none"
	return cfg
}

// restartSpace returns the data root of a closed, checkpointed space "bench" of n linked
// memories and its number of edges: written into a temporary folder, or, with
// -engine.restartdir, taken from there when an earlier run wrote it (its edge count in a
// file beside it) and else written there.
func restartSpace(b *testing.B, n int) (root string, edges int) {
	var done string
	if *restartDir == "" {
		root = b.TempDir()
	} else {
		root = filepath.Join(*restartDir, fmt.Sprintf("rows-%d", n))
		done = root + ".edges"
		if raw, err := os.ReadFile(done); err == nil {
			if edges, err = strconv.Atoi(strings.TrimSpace(string(raw))); err == nil {
				return root, edges
			}
		}
		if err := os.RemoveAll(root); err != nil {
			b.Fatal(err)
		}
	}
	e := openTest(b, restartConfig(b, root, n))
	s := mustSpace(b, e, "bench")
	ctx := context.Background()
	r := rand.New(rand.NewSource(4))
	for done := 0; done < n; done += 1000 {
		batch := make([]Memory, min(1000, n-done))
		for i := range batch {
			batch[i] = Memory{Content: benchSentence(r), Confidence: 0.5, Embedding: zeroPadded(16, r.Float32(), r.Float32(), r.Float32(), 1)}
		}
		for {
			_, errs := s.RememberBatch(ctx, batch, RememberOptions{})
			err := errors.Join(errs...)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrOverloaded) { // the linker's backlog is full: let it drain
				b.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for s.Stats().LinkQueue > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	checkpointNow(b, s)
	edges = s.Stats().Edges
	if err := e.Close(); err != nil {
		b.Fatal(err)
	}
	if done != "" {
		if err := os.WriteFile(done, []byte(strconv.Itoa(edges)+"\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root, edges
}

// restartCopy copies the data root src into a fresh temporary folder beside it and returns
// it, so that no open sees what an earlier one wrote (a rebuilt derived file, a WAL
// segment); the caller removes it once done.
func restartCopy(b *testing.B, src string) string {
	dst, err := os.MkdirTemp(filepath.Dir(src), "open-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dst) }) // when the benchmark fails before the caller removes it
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		b.Fatal(err)
	}
	return dst
}
