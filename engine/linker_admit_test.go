package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestRememberPastLagBound: while a space's index lane is held behind a backlog, a
// remember past a lag bound (work owed, or rows the index lacks) waits for the lanes as
// long as the engine lets it, then is refused with ErrOverloaded naming the setting, and
// stores nothing; one still waiting when the lane runs again is taken; one whose context
// ends while it waits answers the context's error and stores nothing. Another space takes
// remembers throughout and does not see the lagging space's memories.
func TestRememberPastLagBound(t *testing.T) {
	const dim = lagDim
	for _, tc := range []struct {
		name    string
		maxLag  time.Duration // Config.MaxBackgroundLag
		maxRows int64         // Config.MaxIndexLagBytes over minLagRowBytes (dim is less)
		wait    time.Duration // Config.admitWait
		cancel  bool          // cancel the remember's context while it waits
		want    error         // nil: taken once the lane runs again
		naming  string        // the setting the refusal names
	}{
		{name: "work bound, refused at once", maxLag: time.Millisecond, maxRows: 1 << 20, wait: -1, want: ErrOverloaded, naming: "max_background_lag"},
		{name: "work bound, refused after the wait", maxLag: time.Millisecond, maxRows: 1 << 20, wait: time.Millisecond, want: ErrOverloaded, naming: "max_background_lag"},
		{name: "work bound, taken when the lane catches up", maxLag: time.Millisecond, maxRows: 1 << 20, wait: time.Hour},
		{name: "row bound, refused after the wait", maxLag: time.Hour, maxRows: 100, wait: time.Millisecond, want: ErrOverloaded, naming: "max_index_lag_bytes"},
		{name: "row bound, taken when the lane catches up", maxLag: time.Hour, maxRows: 100, wait: time.Hour},
		{name: "row bound, context ends while waiting", maxLag: time.Hour, maxRows: 100, wait: time.Hour, cancel: true, want: context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// memory is the writer goroutine's below, otherRng this one's.
			s, other, memory := laggingSpaces(t, tc.maxLag, tc.maxRows, tc.wait, rand.New(rand.NewPCG(5, 8)))
			otherRng := rand.New(rand.NewPCG(6, 9))
			rememberIn := func(sp *Space, id string) error {
				_, err := sp.Remember(context.Background(), Memory{ID: id, Content: "memory " + id, Embedding: unitNear(otherRng, dim, nil, 1), Confidence: 0.8}, RememberOptions{})
				return err
			}
			// The space is being recalled, so the bound on the rows the index lacks holds.
			if _, err := s.Recall(context.Background(), Cue{Embedding: unitNear(otherRng, dim, nil, 1), NoReinforce: true}); err != nil {
				t.Fatal(err)
			}

			// The lane held, the backlog grows until a remember is past a bound: then it
			// waits (wait > 0) or is refused.
			letGo := holdIndexLane(t, s)
			st, err := s.acquire()
			if err != nil {
				t.Fatal(err)
			}
			s.mu.RUnlock()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type answer struct {
				id  string
				err error
			}
			done := make(chan answer, 1)
			go func() {
				for range 100_000 { // a guard against a bound that never bites, not a figure
					m := memory()
					if _, err := s.Remember(ctx, m, RememberOptions{}); err != nil {
						done <- answer{m.ID, err}
						return
					}
					if st.link.admit() != nil && tc.wait > time.Minute {
						m := memory()
						_, err := s.Remember(ctx, m, RememberOptions{}) // waits for the lane
						done <- answer{m.ID, err}
						return
					}
				}
				done <- answer{"", errors.New("the bound never bit")}
			}()
			if tc.wait > time.Minute {
				for s.Stats().RemembersWaiting == 0 { // what engram_space_remembers_waiting reports
					time.Sleep(time.Millisecond)
				}
				if err := rememberIn(other, "other-1"); err != nil {
					t.Fatalf("another space refuses a remember while this one's waits: %v", err)
				}
				if tc.cancel {
					cancel()
				} else {
					letGo()
				}
			}
			got := <-done
			if !errors.Is(got.err, tc.want) || (tc.want != nil && tc.naming != "" && !strings.Contains(got.err.Error(), tc.naming)) {
				t.Fatalf("a remember past the bound answered %v, want %v naming %q", got.err, tc.want, tc.naming)
			}
			_, err = s.Get(got.id)
			if tc.want != nil && !errors.Is(err, ErrNotFound) {
				t.Fatalf("the refused memory %s was stored: err = %v", got.id, err)
			}
			if tc.want == nil && err != nil {
				t.Fatalf("the memory taken after the wait: %v", err)
			}
			if stats := s.Stats(); tc.want == ErrOverloaded && tc.naming == "max_index_lag_bytes" && int64(stats.IndexLag) <= tc.maxRows {
				t.Fatalf("refused with %d rows the index lacks, the bound is %d", stats.IndexLag, tc.maxRows)
			}
			if tc.want == ErrOverloaded && tc.naming == "max_background_lag" {
				if stats := s.Stats(); stats.IndexLagWork+stats.LinkLagWork <= tc.maxLag {
					t.Fatalf("refused with %v of index work and %v of edge work owed, the bound is %v", stats.IndexLagWork, stats.LinkLagWork, tc.maxLag)
				}
			}
			if err := rememberIn(other, "other-2"); err != nil {
				t.Fatalf("another space refuses a remember while this one lags: %v", err)
			}
			if _, err := other.Get(got.id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("another space sees the lagging space's memory: err = %v", err)
			}

			letGo()
			waitForEdges(t, s)
			m := memory()
			if _, err := s.Remember(context.Background(), m, RememberOptions{}); err != nil {
				t.Fatalf("a remember once the lag drained: %v", err)
			}
			if _, err := s.Get(m.ID); err != nil {
				t.Fatalf("the memory taken after the drain: %v", err)
			}
		})
	}
}

// laggingSpaces opens an engine whose spaces have vectors of dim dimensions and no
// embedder, with the given lag bounds (MaxIndexLagBytes as maxRows rows of minLagRowBytes)
// and admission wait, and returns its space "default", filled past hnswStartRows with
// memory's numbered memories, and its space "other", empty.
func laggingSpaces(t *testing.T, maxLag time.Duration, maxRows int64, wait time.Duration, rng *rand.Rand) (s, other *Space, memory func() Memory) {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.Dimension = lagDim
	cfg.EmbeddingProvider = "none"
	cfg.MaxBackgroundLag = maxLag
	cfg.MaxIndexLagBytes = maxRows * minLagRowBytes
	cfg.admitWait = wait
	e := openTest(t, cfg)
	t.Cleanup(func() { e.Close() })
	s = mustSpace(t, e, "default")
	other = mustSpace(t, e, "other")
	memory, takeBack := numbered(rng, lagDim)
	fillPastIndexStart(t, s, memory, takeBack)
	return s, other, memory
}

// lagDim is the dimension of laggingSpaces' vectors.
const lagDim = 16

// numbered returns a source of memories m0, m1, … with unit vectors of dim from rng, and
// takeBack, which hands the last n ids out again.
func numbered(rng *rand.Rand, dim int) (memory func() Memory, takeBack func(n int)) {
	next := 0
	memory = func() Memory {
		id := fmt.Sprintf("m%d", next)
		next++
		return Memory{ID: id, Content: "memory " + id, Embedding: unitNear(rng, dim, nil, 1), Confidence: 0.8}
	}
	return memory, func(n int) { next -= n }
}

// fillPastIndexStart remembers memory() in batches of 200 until s is past the size at which
// the index is built, waiting out the lag whenever a bound refuses a batch (whose ids
// takeBack hands out again), so that both lanes have measured their cost.
func fillPastIndexStart(t *testing.T, s *Space, memory func() Memory, takeBack func(n int)) {
	t.Helper()
	for stored := 0; stored < hnswStartRows+200; {
		batch := make([]Memory, 200)
		for i := range batch {
			batch[i] = memory()
		}
		_, errs := s.RememberBatch(context.Background(), batch, RememberOptions{})
		if err := errors.Join(errs...); errors.Is(err, ErrOverloaded) {
			takeBack(len(batch))
			waitForEdges(t, s)
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		stored += len(batch)
	}
	waitForEdges(t, s)
}

// TestRowBoundOnlyWhileRecalled checks that the bound on the rows the index lacks holds
// remembers back only while the space is being recalled: with the index lane held, a space
// nobody recalls takes memories well past the bound at once (a bulk load runs ahead of the
// index, up to max_background_lag), and after a recall the next remember is refused by
// that bound, while another space takes its remembers.
func TestRowBoundOnlyWhileRecalled(t *testing.T) {
	const dim, maxRows = lagDim, 100
	rng := rand.New(rand.NewPCG(7, 10))
	s, other, memory := laggingSpaces(t, time.Hour, maxRows, -1 /* refuse at once */, rng)
	letGo := holdIndexLane(t, s)
	defer letGo()

	for range 3 * maxRows {
		if _, err := s.Remember(context.Background(), memory(), RememberOptions{}); err != nil {
			t.Fatalf("a space nobody recalls refused a remember: %v", err)
		}
	}
	if lag := s.Stats().IndexLag; lag <= maxRows {
		t.Fatalf("the index lacks %d rows, want more than the bound %d", lag, maxRows)
	}
	if _, err := s.Recall(context.Background(), Cue{Embedding: unitNear(rng, dim, nil, 1), NoReinforce: true}); err != nil {
		t.Fatal(err)
	}
	m := memory()
	_, err := s.Remember(context.Background(), m, RememberOptions{})
	if !errors.Is(err, ErrOverloaded) || !strings.Contains(err.Error(), "max_index_lag_bytes") {
		t.Fatalf("a remember after a recall answered %v, want ErrOverloaded naming max_index_lag_bytes", err)
	}
	if _, err := s.Get(m.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused memory was stored: err = %v", err)
	}
	if _, err := other.Remember(context.Background(), Memory{ID: "o1", Content: "other", Embedding: unitNear(rng, dim, nil, 1), Confidence: 0.8}, RememberOptions{}); err != nil {
		t.Fatalf("another space refused a remember: %v", err)
	}
	if _, err := other.Get(m.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another space sees %s: err = %v", m.ID, err)
	}
}

// TestWaitersTakeTurns: remembers that wait for room are taken in the order they came,
// each once the one before it is stored, and one that arrives while others wait queues
// behind them; none is refused, and another space neither waits nor sees them.
func TestWaitersTakeTurns(t *testing.T) {
	const waiters = 4
	s, other, memory := laggingSpaces(t, time.Hour, 100, time.Hour, rand.New(rand.NewPCG(7, 3)))
	if _, err := s.Recall(context.Background(), Cue{Embedding: memory().Embedding, NoReinforce: true}); err != nil {
		t.Fatal(err)
	}
	letGo := holdIndexLane(t, s)
	defer letGo()
	st, err := s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	s.mu.RUnlock()
	for st.link.admit() == nil {
		if _, err := s.Remember(context.Background(), memory(), RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	errs := make(chan error, waiters)
	for i := range waiters {
		m := memory()
		m.ID = fmt.Sprintf("w%d", i)
		go func() {
			_, err := s.Remember(context.Background(), m, RememberOptions{})
			errs <- err
		}()
		for s.Stats().RemembersWaiting != i+1 {
			time.Sleep(time.Millisecond)
		}
	}
	if _, err := other.Remember(context.Background(), Memory{ID: "o1", Content: "other", Embedding: memory().Embedding}, RememberOptions{}); err != nil {
		t.Fatalf("another space refuses a remember while this one's wait: %v", err)
	}
	letGo()
	for range waiters {
		if err := <-errs; err != nil {
			t.Fatalf("a waiting remember answered %v", err)
		}
	}
	st, err = s.acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer s.mu.RUnlock()
	st.mu.RLock()
	defer st.mu.RUnlock()
	prev := -1
	for i := range waiters {
		row, ok := st.rowOf(fmt.Sprintf("w%d", i))
		if !ok || int(row) <= prev {
			t.Fatalf("waiter %d stored at row %d (found %v), after row %d: not in arrival order", i, row, ok, prev)
		}
		prev = int(row)
		if _, err := other.Get(fmt.Sprintf("w%d", i)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another space sees w%d: err = %v", i, err)
		}
	}
}

// TestLaneProgressTurns: turns go in arrival order, whoever leaves, and a waiter that
// leaves wakes the others.
func TestLaneProgressTurns(t *testing.T) {
	var p laneProgress
	a, b, c := p.join(), p.join(), p.join()
	steps := []struct {
		leave   uint64
		first   uint64
		waiting int
	}{
		{leave: b, first: a, waiting: 2}, // one behind the first leaves: the first stays first
		{leave: a, first: c, waiting: 1},
		{leave: c, first: 0, waiting: 0},
	}
	for _, s := range steps {
		woken := p.next()
		p.leave(s.leave)
		select {
		case <-woken:
		default:
			t.Fatalf("leaving turn %d woke nobody", s.leave)
		}
		for _, turn := range []uint64{a, b, c} {
			if got := p.first(turn); got != (turn == s.first) {
				t.Fatalf("after turn %d left, first(%d) = %v", s.leave, turn, got)
			}
		}
		if got := p.waiting(); got != s.waiting {
			t.Fatalf("after turn %d left, %d waiting, want %d", s.leave, got, s.waiting)
		}
	}
}
