package engine

import (
	"context"
	"fmt"
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
