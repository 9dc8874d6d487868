package engine

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func openFiles(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestTenThousandSpaces creates many spaces (10,000 with ENGRAM_SCALE_SPACES=10000) with a memory each and checks that idle
// spaces are closed, so open files and memory stay bounded by MaxOpenSpaces, not by the
// number of spaces; then it reopens the data root lazily and reads a space back.
func TestTenThousandSpaces(t *testing.T) {
	// The full 10,000 takes minutes on a small VM (mkdir and fsync of 10,000 folders); CI
	// runs 2,000 and ENGRAM_SCALE_SPACES=10000 gives the figure quoted in the docs.
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("ENGRAM_SCALE_SPACES")); err == nil && v > 0 {
		n = v
	}
	root := t.TempDir()
	cfg := testConfig(t, root)
	cfg.MaxOpenSpaces = 32
	cfg.MaxSpaces = n + 1
	cfg.Defaults.WALSync = "never" // the figure of interest is resources, not fsync time
	cfg.Defaults.WALSegmentBytes = 1 << 20
	fdsBefore := openFiles(t)
	e := openTest(t, cfg)
	ctx := context.Background()
	for i := 0; i < n; i++ {
		s := mustSpace(t, e, fmt.Sprintf("tenant-%05d", i))
		if _, err := s.Remember(ctx, Memory{ID: "m", Content: fmt.Sprintf("memory of tenant %d", i), Confidence: 0.5}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
		if i%500 == 499 {
			e.closeIdle(nil) // what the background sweep does every second
		}
	}
	// Let idle spaces age past the sweep's idle time without sleeping: mark them old.
	for _, s := range e.Spaces() {
		s.lastUse.Store(time.Now().Add(-time.Minute).UnixNano())
	}
	e.closeIdle(nil)
	open := e.openCount.Load()
	fds := openFiles(t) - fdsBefore
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("%d spaces: %d open, %d extra open files, heap in use %.1f MiB", n+1, open, fds, float64(ms.HeapInuse)/(1<<20))
	if open > int64(cfg.MaxOpenSpaces) {
		t.Fatalf("%d spaces open, want at most %d", open, cfg.MaxOpenSpaces)
	}
	if fds > 4*cfg.MaxOpenSpaces+16 {
		t.Fatalf("%d files open for %d open spaces", fds, open)
	}
	s, _ := e.Space("tenant-00042")
	m, err := s.Get("m")
	if err != nil || m.Content != "memory of tenant 42" {
		t.Fatalf("closed space reopened wrongly: %+v %v", m, err)
	}
	if got := len(e.Spaces()); got != n+1 {
		t.Fatalf("%d spaces listed, want %d", got, n+1)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	e = openTest(t, cfg)
	defer e.Close()
	t.Logf("reopen of %d spaces took %v, %d left open", n+1, time.Since(start), e.openCount.Load())
	if e.openCount.Load() > int64(cfg.MaxOpenSpaces) {
		t.Fatalf("%d spaces left open after start", e.openCount.Load())
	}
	other, _ := e.Space("tenant-00043")
	if _, err := other.Get("m"); err != nil {
		t.Fatal(err)
	}
	if st := other.Stats(); st.Memories != 1 {
		t.Fatalf("memories = %d", st.Memories)
	}
}
