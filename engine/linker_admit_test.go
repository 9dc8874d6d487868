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

// TestRememberRefusedPastLagBound: while a space's index lane is held behind a backlog,
// its remembers are refused with ErrOverloaded once the lanes owe more than
// MaxBackgroundLag of work, naming the setting, and store nothing; another space still
// takes remembers; once the lane runs again the backlog drains and remembers are taken.
func TestRememberRefusedPastLagBound(t *testing.T) {
	const dim = 16
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.Dimension = dim
	cfg.EmbeddingProvider = "none"
	cfg.MaxBackgroundLag = time.Millisecond
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other")
	rng := rand.New(rand.NewPCG(5, 8))
	next := 0
	remember := func(sp *Space) error {
		id := fmt.Sprintf("m%d", next)
		_, err := sp.Remember(context.Background(), Memory{ID: id, Content: "memory " + id, Embedding: unitNear(rng, dim, nil, 1), Confidence: 0.8}, RememberOptions{})
		if err == nil {
			next++
		}
		return err
	}

	// Past the size at which the index is built, waiting out the lag whenever the small
	// bound refuses, so that both lanes have measured their cost.
	for next < hnswStartRows+200 {
		batch := make([]Memory, 200)
		for i := range batch {
			id := fmt.Sprintf("m%d", next+i)
			batch[i] = Memory{ID: id, Content: "memory " + id, Embedding: unitNear(rng, dim, nil, 1), Confidence: 0.8}
		}
		_, errs := s.RememberBatch(context.Background(), batch, RememberOptions{})
		if err := errors.Join(errs...); errors.Is(err, ErrOverloaded) {
			waitForEdges(t, s)
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		next += len(batch)
	}
	waitForEdges(t, s)

	letGo := holdIndexLane(t, s)

	var refused error
	for range 100_000 { // a guard against a bound that never bites, not a figure
		if refused = remember(s); refused != nil {
			break
		}
	}
	if !errors.Is(refused, ErrOverloaded) || !strings.Contains(refused.Error(), "max_background_lag") {
		t.Fatalf("a remember past the lag bound answered %v, want ErrOverloaded naming max_background_lag", refused)
	}
	if _, err := s.Get(fmt.Sprintf("m%d", next)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused memory was stored: err = %v", err)
	}
	if st := s.Stats(); st.IndexLagWork+st.LinkLagWork <= cfg.MaxBackgroundLag {
		t.Fatalf("refused with %v of index work and %v of edge work owed, the bound is %v", st.IndexLagWork, st.LinkLagWork, cfg.MaxBackgroundLag)
	}
	if err := remember(other); err != nil {
		t.Fatalf("another space refuses a remember while this one lags: %v", err)
	}
	if _, err := s.Get(fmt.Sprintf("m%d", next-1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the lagging space sees the other space's memory: err = %v", err)
	}

	letGo()
	waitForEdges(t, s)
	if err := remember(s); err != nil {
		t.Fatalf("a remember once the lag drained: %v", err)
	}
	if _, err := s.Get(fmt.Sprintf("m%d", next-1)); err != nil {
		t.Fatalf("the memory taken after the drain: %v", err)
	}
}
