package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSpaceIDs(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"default", "default", true},
		{"  tenant-a ", "tenant-a", true},
		{"a_1", "a_1", true},
		{"0ab", "0ab", true},
		{"ab", "", false},
		{"Prod", "", false},
		{"-abc", "", false},
		{"_abc", "", false},
		{"../etc", "", false},
		{"a.b.c", "", false},
		{"a/bc", "", false},
		{string(make([]byte, 65)), "", false},
	}
	for _, tc := range tests {
		got, err := NormalizeSpaceID(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("NormalizeSpaceID(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidSpaceID) {
			t.Errorf("NormalizeSpaceID(%q) error %v is not ErrInvalidSpaceID", tc.in, err)
		}
	}
}

func TestRememberValidation(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	nan := float32(0)
	nan = nan / nan
	tests := []struct {
		name string
		m    Memory
	}{
		{"empty content", Memory{Content: "  "}},
		{"confidence above 1", Memory{Content: "x", Confidence: 1.5}},
		{"confidence below 0", Memory{Content: "x", Confidence: -0.1}},
		{"bad id", Memory{ID: "a/b", Content: "x"}},
		{"dot id", Memory{ID: ".", Content: "x"}},
		{"dot-dot id", Memory{ID: "..", Content: "x"}},
		{"wrong dimension", Memory{Content: "x", Embedding: []float32{1, 2}}},
		{"nan embedding", Memory{Content: "x", Embedding: zeroPadded(16, nan)}},
		{"bad valence", Memory{Content: "x", Episode: &Episode{EmotionalValence: 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Remember(ctx, tc.m, RememberOptions{})
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("got %v, want ErrInvalidInput", err)
			}
		})
	}
	if st := s.Stats(); st.Memories != 0 {
		t.Fatalf("rejected memories were stored: %d", st.Memories)
	}
}

// TestConcurrentRememberReopen writes from many goroutines into several spaces, reopens
// the engine and expects every memory back with identical fields, and nothing in the
// wrong space.
func TestConcurrentRememberReopen(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	e := openTest(t, cfg)
	spaces := []string{"alpha", "beta", "gamma"}
	const writers, perWriter = 8, 25
	var mu sync.Mutex
	want := map[string]map[string]Memory{}
	var wg sync.WaitGroup
	for _, sp := range spaces {
		want[sp] = map[string]Memory{}
	}
	for _, sp := range spaces {
		s := mustSpace(t, e, sp)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWriter; i++ {
					m := Memory{
						Content:    fmt.Sprintf("%s memory %d from writer %d", sp, i, w),
						Confidence: 0.5,
						Tags:       []string{sp, fmt.Sprint(w)},
						ObservedAt: time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC),
					}
					if i%3 == 0 {
						m.Embedding = zeroPadded(16, float32(w+1), float32(i), 1)
					}
					if i%5 == 0 {
						m.Episode = &Episode{Where: "lab", Who: []string{"ana"}, Importance: 0.4}
					}
					res, err := s.Remember(context.Background(), m, RememberOptions{})
					if err != nil {
						t.Errorf("remember: %v", err)
						return
					}
					mu.Lock()
					want[sp][res.Memory.ID] = Memory{}
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	before := map[string]map[string]Memory{}
	for _, sp := range spaces {
		s, _ := e.Space(sp)
		before[sp] = map[string]Memory{}
		for id := range want[sp] {
			m, err := s.Get(id)
			if err != nil {
				t.Fatalf("get %s/%s: %v", sp, id, err)
			}
			before[sp][id] = m
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	e = openTest(t, cfg)
	defer e.Close()
	for _, sp := range spaces {
		s, err := e.Space(sp)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Stats().Memories; got != writers*perWriter {
			t.Fatalf("space %s: %d memories after reopen, want %d", sp, got, writers*perWriter)
		}
		for id, m := range before[sp] {
			got, err := s.Get(id)
			if err != nil {
				t.Fatalf("get %s/%s after reopen: %v", sp, id, err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("memory %s changed across reopen:\n got %+v\nwant %+v", id, got, m)
			}
			for _, other := range spaces {
				if other == sp {
					continue
				}
				o, _ := e.Space(other)
				if _, err := o.Get(id); !errors.Is(err, ErrNotFound) {
					t.Fatalf("space %s sees %s's memory %s: %v", other, sp, id, err)
				}
			}
		}
	}
}

func TestForgetAndReplaceSurviveReopen(t *testing.T) {
	root := t.TempDir()
	cfg := testConfig(t, root)
	e := openTest(t, cfg)
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	for _, id := range []string{"keep", "drop", "swap"} {
		if _, err := s.Remember(ctx, Memory{ID: id, Content: "first " + id, Confidence: 0.7}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Remember(ctx, Memory{ID: "swap", Content: "second swap", Confidence: 0.9}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(ctx, "drop"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second forget: %v, want ErrNotFound", err)
	}
	e.Close()

	e = openTest(t, cfg)
	defer e.Close()
	s, _ = e.Space("default")
	if _, err := s.Get("drop"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("forgotten memory is back: %v", err)
	}
	m, err := s.Get("swap")
	if err != nil || m.Content != "second swap" || m.Confidence != 0.9 {
		t.Fatalf("replaced memory: %+v %v", m, err)
	}
	if got := s.Stats().Memories; got != 2 {
		t.Fatalf("memories = %d, want 2", got)
	}
	res, err := s.Recall(ctx, Cue{Query: "first drop", Threshold: 0})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range [][]Hit{res.Vivid, res.Associated, res.Reconstructed} {
		for _, h := range l {
			if h.Memory.ID == "drop" {
				t.Fatal("forgotten memory recalled")
			}
		}
	}
}

func TestCapacityRefusesBeyondAllTiers(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.HotCapacity, cfg.Defaults.WarmCapacity, cfg.Defaults.ColdCapacity = 2, 1, 1
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	ctx := context.Background()
	remember := func(id string) error {
		_, err := s.Remember(ctx, Memory{ID: id, Content: "memory " + id}, RememberOptions{})
		return err
	}
	for i := 0; i < 4; i++ {
		if err := remember(fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := remember("one-too-many"); !errors.Is(err, ErrCapacity) {
		t.Fatalf("got %v, want ErrCapacity", err)
	}
	if err := remember("m1"); err != nil {
		t.Fatalf("replace at capacity: %v", err)
	}
	if err := s.Forget(ctx, "m0"); err != nil {
		t.Fatal(err)
	}
	if err := remember("room-again"); err != nil {
		t.Fatalf("after forget: %v", err)
	}
}

// A memory given no id gets a generated one that is counted as new without a lookup; one
// that names a stored id still replaces it.
func TestGeneratedIDsAgainstCapacity(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Defaults.HotCapacity, cfg.Defaults.WarmCapacity, cfg.Defaults.ColdCapacity = 2, 1, 1
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "default")
	other := mustSpace(t, e, "other")
	ctx := context.Background()
	if _, err := s.Remember(ctx, Memory{ID: "named", Content: "first named"}, RememberOptions{}); err != nil {
		t.Fatal(err)
	}
	res, errs := s.RememberBatch(ctx, []Memory{
		{Content: "generated one"},
		{ID: "named", Content: "second named"},
		{Content: "generated two"},
	}, RememberOptions{})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	if res[0].Memory.ID == res[2].Memory.ID || !strings.HasPrefix(res[0].Memory.ID, "mem_") {
		t.Fatalf("generated ids %q and %q", res[0].Memory.ID, res[2].Memory.ID)
	}
	if got := s.Stats().Memories; got != 3 {
		t.Fatalf("memories = %d, want 3 (the named one replaced)", got)
	}
	if m, err := s.Get("named"); err != nil || m.Content != "second named" {
		t.Fatalf("named memory: %+v %v", m, err)
	}
	if _, err := s.Remember(ctx, Memory{Content: "generated three"}, RememberOptions{}); err != nil {
		t.Fatalf("the fourth memory: %v", err)
	}
	if _, err := s.Remember(ctx, Memory{Content: "one too many"}, RememberOptions{}); !errors.Is(err, ErrCapacity) {
		t.Fatalf("a generated id past capacity: %v, want ErrCapacity", err)
	}
	if _, err := s.Remember(ctx, Memory{ID: "named", Content: "third named"}, RememberOptions{}); err != nil {
		t.Fatalf("replace at capacity: %v", err)
	}
	for _, id := range []string{"named", res[0].Memory.ID, res[2].Memory.ID} {
		if _, err := other.Get(id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("space other sees %s: %v", id, err)
		}
	}
	if got := other.Stats().Memories; got != 0 {
		t.Fatalf("space other holds %d memories", got)
	}
}

func TestSpacesRegistry(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.MaxSpaces = 3
	e := openTest(t, cfg)
	if _, err := e.Space("nope-space"); !errors.Is(err, ErrSpaceNotFound) {
		t.Fatalf("unknown space: %v", err)
	}
	if _, created, err := e.CreateSpace("tenant-a", SpaceSettings{HotCapacity: 7}); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if _, created, err := e.CreateSpace("tenant-a", SpaceSettings{}); err != nil || created {
		t.Fatalf("create again: %v %v", created, err)
	}
	if _, _, err := e.CreateSpace("tenant-b", SpaceSettings{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.CreateSpace("tenant-c", SpaceSettings{}); !errors.Is(err, ErrSpaceLimit) {
		t.Fatalf("over max_spaces: %v", err)
	}
	if err := e.DeleteSpace("default"); !errors.Is(err, ErrSpaceProtected) {
		t.Fatalf("delete default: %v", err)
	}
	if err := e.DeleteSpace("tenant-b"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e = openTest(t, cfg)
	defer e.Close()
	var ids []string
	for _, s := range e.Spaces() {
		ids = append(ids, s.ID())
	}
	if !reflect.DeepEqual(ids, []string{"default", "tenant-a"}) {
		t.Fatalf("spaces after reopen = %v", ids)
	}
	a, _ := e.Space("tenant-a")
	if a.Settings().HotCapacity != 7 {
		t.Fatalf("per-space setting lost: %+v", a.Settings())
	}
}
