package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/wal"
)

// TestSharedFlushAcrossSpaces writes from many goroutines into many durable spaces and two
// interval spaces of one engine: every space's log goes through the engine's commit
// coordinator or not according to its own wal_sync, reports itself caught up with a
// measured fsync latency, and holds only its own memories.
func TestSharedFlushAcrossSpaces(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	const durable, interval, writers, perWriter = 12, 2, 16, 12
	var ids []string
	modes := map[string]string{}
	for i := range durable + interval {
		id, mode := fmt.Sprintf("tenant-%02d", i), "always"
		if i >= durable {
			mode = "interval"
		}
		if _, _, err := e.CreateSpace(id, SpaceSettings{WALSync: mode}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		modes[id] = mode
	}
	var mu sync.Mutex
	stored := map[string][]string{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := ids[(w+i)%len(ids)]
				res, err := mustSpace(t, e, id).Remember(context.Background(),
					Memory{Content: fmt.Sprintf("%s note %d of writer %d", id, i, w), Confidence: 0.6}, RememberOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				stored[id] = append(stored[id], res.Memory.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	cs := e.commits.Stats()
	if cs.Files < durable {
		t.Errorf("the coordinator flushed %d files, want at least one per durable space (%d)", cs.Files, durable)
	}
	for i, id := range ids {
		s := mustSpace(t, e, id)
		st := s.Stats()
		// The edge lane logs association records after the remembers: wait until it is done.
		for modes[id] == "always" && (st.LinkQueue > 0 || st.DurableLSN != st.LSN) {
			time.Sleep(time.Millisecond)
			st = s.Stats()
		}
		if modes[id] == "always" && (st.WALLag != 0 || st.LastFsync <= 0) {
			t.Errorf("%s: durable LSN %d of %d, lag %v, last fsync %v: want caught up with a measured fsync",
				id, st.DurableLSN, st.LSN, st.WALLag, st.LastFsync)
		}
		other := mustSpace(t, e, ids[(i+1)%len(ids)])
		for _, mid := range stored[id] {
			if _, err := s.Get(mid); err != nil {
				t.Errorf("%s: stored %s: %v", id, mid, err)
			}
			if _, err := other.Get(mid); err == nil {
				t.Errorf("%s of %s visible from %s", mid, id, other.id)
			}
		}
	}
}

// TestIntervalSpacesSkipTheCoordinator checks that spaces with wal_sync interval or never
// never wait for a shared flush.
func TestIntervalSpacesSkipTheCoordinator(t *testing.T) {
	for _, mode := range []string{"interval", "never"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			cfg.Defaults.WALSync = mode
			e := openTest(t, cfg)
			defer e.Close()
			for i := range 4 {
				s := mustSpace(t, e, fmt.Sprintf("lazy-%d", i))
				if _, err := s.Remember(context.Background(), Memory{Content: "no shared flush", Confidence: 0.5}, RememberOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if cs := e.commits.Stats(); cs != (wal.CommitterStats{}) {
				t.Fatalf("%s spaces used the coordinator: %+v", mode, cs)
			}
		})
	}
}

// TestSharedFlushHoldsNoFolderOfClosedSpaces checks that the commit coordinator holds no
// file of the data root open once the spaces that used it are closed: after spaces were
// closed idle and reopened, after the engine's Close, and when Open fails on one space
// after others had opened their logs.
func TestSharedFlushHoldsNoFolderOfClosedSpaces(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd to count open files")
	}
	root := t.TempDir()
	cfg := testConfig(t, root)
	e := openTest(t, cfg)
	ids := []string{"sp-a", "sp-b", "sp-c", "sp-d"}
	remember := func(e *Engine, id, content string) {
		t.Helper()
		if _, err := mustSpace(t, e, id).Remember(context.Background(), Memory{Content: content, Confidence: 0.5}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 3 {
		for _, id := range ids {
			remember(e, id, fmt.Sprintf("%s round %d", id, round))
		}
		for _, id := range append(ids, DefaultSpace) {
			// What the idle sweep does: the next remember opens the space again.
			s := mustSpace(t, e, id)
			for s.closeIfIdle(0); s.isOpen(); s.closeIfIdle(0) {
				time.Sleep(time.Millisecond) // its lanes are still busy
			}
		}
		if open := openFilesUnder(t, root); len(open) > 0 {
			t.Fatalf("round %d: every space closed, still open under the data root: %v", round, open)
		}
	}
	remember(e, "sp-a", "open while the engine closes")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if open := openFilesUnder(t, root); len(open) > 0 {
		t.Fatalf("after Close, still open under the data root: %v", open)
	}

	// A space whose log cannot be opened makes Open fail after the others opened theirs.
	walDir := filepath.Join(root, "sp-d", "wal")
	if err := os.RemoveAll(walDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(walDir, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e, err := Open(cfg); err == nil {
		e.Close()
		t.Fatal("Open succeeded with a space whose wal folder is a file")
	}
	if open := openFilesUnder(t, root); len(open) > 0 {
		t.Fatalf("after a failed Open, still open under the data root: %v", open)
	}
}

// openFilesUnder lists the process's open files under dir.
func openFilesUnder(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir) {
			out = append(out, target)
		}
	}
	return out
}
