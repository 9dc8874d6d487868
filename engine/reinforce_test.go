package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentReinforcement recalls the same memories from many goroutines at once,
// while other memories are remembered and, in one case, checkpoints are taken: every
// recall that returned a memory counts once, the last access is the latest recall's, and
// what a reopened space reads back (after a close, or from an image of the data root taken
// as a killed process leaves it) is what the live space held. A space never recalled keeps
// its counts at zero.
func TestConcurrentReinforcement(t *testing.T) {
	tests := []struct {
		name       string
		checkpoint bool // checkpoints run while the recalls do
		image      bool // read back a copy of the open data root instead of closing
	}{
		{name: "close"},
		{name: "killed", image: true},
		{name: "checkpoints then close", checkpoint: true},
		{name: "checkpoints then killed", checkpoint: true, image: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			cfg := testConfig(t, root)
			base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
			var tick atomic.Int64
			cfg.Now = func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Microsecond) }
			e := openTest(t, cfg)
			ctx := context.Background()
			a, b := mustSpace(t, e, "alpha"), mustSpace(t, e, "beta")
			v := zeroPadded(16, 1, 2, 3)
			const recalled = 5
			for i := range recalled {
				if _, err := a.Remember(ctx, Memory{ID: fmt.Sprint("m", i), Content: "the same fact", Embedding: v}, RememberOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.Remember(ctx, Memory{ID: "m0", Content: "the same fact", Embedding: v}, RememberOptions{}); err != nil {
				t.Fatal(err)
			}

			const readers, rounds = 8, 40
			var mu sync.Mutex
			counts := map[string]uint32{}
			var wg sync.WaitGroup
			for range readers {
				wg.Go(func() {
					for range rounds {
						res, err := a.Recall(ctx, Cue{Embedding: v, MaxResults: 10, Mode: ModeSimilarity})
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						for _, h := range allHits(res) {
							counts[h.Memory.ID]++
						}
						mu.Unlock()
					}
				})
			}
			stop := make(chan struct{})
			var bg sync.WaitGroup
			bg.Go(func() { // remembers of unrelated memories, taking the exclusive section
				other := zeroPadded(16, 0, 0, 0, 1)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := a.Remember(ctx, Memory{Content: "something else", Embedding: other}, RememberOptions{}); err != nil {
						t.Error(err)
						return
					}
				}
			})
			if tc.checkpoint {
				bg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						st, err := a.acquire()
						if err != nil {
							t.Error(err)
							return
						}
						err = st.checkpoint()
						a.mu.RUnlock()
						if err != nil {
							t.Error(err)
							return
						}
						time.Sleep(time.Millisecond)
					}
				})
			}
			wg.Wait()
			close(stop)
			bg.Wait()
			if t.Failed() {
				e.Close()
				return
			}

			live := map[string]Memory{}
			for i := range recalled {
				id := fmt.Sprint("m", i)
				m, err := a.Get(id)
				if err != nil {
					t.Fatal(err)
				}
				if m.AccessCount != counts[id] || counts[id] != readers*rounds {
					t.Fatalf("%s: access count %d, recalls that returned it %d, recalls %d", id, m.AccessCount, counts[id], readers*rounds)
				}
				if m.LastAccess.IsZero() || m.LastAccess.After(cfg.Now()) {
					t.Fatalf("%s: last access %v", id, m.LastAccess)
				}
				live[id] = m
			}
			latest := live["m0"].LastAccess
			for _, m := range live {
				if m.LastAccess.After(latest) {
					latest = m.LastAccess
				}
			}
			// The last recall returned every memory, so they share its time.
			for id, m := range live {
				if !m.LastAccess.Equal(latest) {
					t.Fatalf("%s: last access %v, the last recall was at %v", id, m.LastAccess, latest)
				}
			}

			reopenAt := root
			if tc.image {
				// The reinforcements logged so far are on disk ("always"); a copy of the
				// folder taken now is what a kill -9 would leave.
				st, err := a.acquire()
				if err != nil {
					t.Fatal(err)
				}
				st.acc.flush(st)
				a.mu.RUnlock()
				reopenAt = filepath.Join(t.TempDir(), "image")
				if err := os.CopyFS(reopenAt, os.DirFS(root)); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			cfg.DataRoot = reopenAt
			e2 := openTest(t, cfg)
			defer e2.Close()
			a2, b2 := mustSpace(t, e2, "alpha"), mustSpace(t, e2, "beta")
			for id, want := range live {
				got, err := a2.Get(id)
				if err != nil {
					t.Fatal(err)
				}
				if got.AccessCount != want.AccessCount || !got.LastAccess.Equal(want.LastAccess) {
					t.Fatalf("%s read back: count %d last %v, live count %d last %v", id, got.AccessCount, got.LastAccess, want.AccessCount, want.LastAccess)
				}
			}
			if m, err := b2.Get("m0"); err != nil || m.AccessCount != 0 || !m.LastAccess.IsZero() {
				t.Fatalf("space beta's memory: %+v, %v: recalls of space alpha reinforced it", m, err)
			}
		})
	}
}

// TestRecallVectorStageBeforeLock runs a recall's vector stage, changes the space, then
// finishes the recall under the lock: hits the stage found are taken only if every one is
// still a live hot memory, and a forgotten one sends the search back under the lock, so
// the answer never holds it and is as full as a recall started after the change. The same
// memory in another space is untouched.
func TestRecallVectorStageBeforeLock(t *testing.T) {
	tests := []struct {
		name   string
		forget bool // forget the best hit between the stage and the lock
	}{
		{name: "unchanged"},
		{name: "best hit forgotten", forget: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			e := openTest(t, cfg)
			defer e.Close()
			ctx := context.Background()
			a, b := mustSpace(t, e, "alpha"), mustSpace(t, e, "beta")
			for i := range 40 {
				v := zeroPadded(16, 1, float32(i)/10, float32(i%3))
				for _, s := range []*Space{a, b} {
					if _, err := s.Remember(ctx, Memory{ID: fmt.Sprint("m", i), Content: fmt.Sprint("memory ", i), Embedding: v}, RememberOptions{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			cue := Cue{Embedding: zeroPadded(16, 1), MaxResults: 5, Mode: ModeSimilarity}
			q := zeroPadded(16, 1)
			st, err := a.acquire()
			if err != nil {
				t.Fatal(err)
			}
			vs := st.vectorStageOf(q, recallWant(&cue))
			a.mu.RUnlock()
			if !vs.done || len(vs.hits) == 0 || st.byRow[vs.hits[0].Row].m.ID != "m0" {
				t.Fatalf("vector stage: %+v", vs)
			}
			if tc.forget {
				if err := a.Forget(ctx, "m0"); err != nil {
					t.Fatal(err)
				}
			}
			st, err = a.acquire()
			if err != nil {
				t.Fatal(err)
			}
			st.mu.RLock()
			got, _ := st.recall(&cue, q, time.Now(), vs)
			want, _ := st.recall(&cue, q, time.Now(), vectorStage{})
			st.mu.RUnlock()
			a.mu.RUnlock()
			if g, w := fmt.Sprint(ids(allHits(got))), fmt.Sprint(ids(allHits(want))); g != w || len(allHits(got)) != cue.MaxResults {
				t.Fatalf("recall with the stage run before the lock: %s, under the lock: %s", g, w)
			}
			for _, h := range allHits(got) {
				if tc.forget && h.Memory.ID == "m0" {
					t.Fatal("a forgotten memory was returned")
				}
			}
			other, err := b.Recall(ctx, cue)
			if err != nil {
				t.Fatal(err)
			}
			if hits := allHits(other); len(hits) == 0 || hits[0].Memory.ID != "m0" {
				t.Fatalf("space beta: %v", ids(hits))
			}
		})
	}
}
