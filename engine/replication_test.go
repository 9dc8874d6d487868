package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/engram-go/engram/engine/wal"
)

// fakeCluster is a Replication that keeps every space's replicated frames in memory, as a
// partition stream would, and leads or refuses spaces as a test says.
type fakeCluster struct {
	mu      sync.Mutex
	notLed  map[string]bool
	refuse  map[string]error // Replicate's answer for a space
	frames  map[string][]byte
	created map[string]SpaceSettings
	deleted []string
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{notLed: map[string]bool{}, refuse: map[string]error{}, frames: map[string][]byte{}, created: map[string]SpaceSettings{}}
}

func (f *fakeCluster) led(space string) error {
	if f.notLed[space] {
		return fmt.Errorf("%w: %q", ErrNotOwner, space)
	}
	return nil
}

func (f *fakeCluster) Log(space string) (wal.Replicator, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.led(space); err != nil {
		return nil, err
	}
	return fakeLog{f, space}, nil
}

func (f *fakeCluster) Create(space string, settings SpaceSettings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.led(space); err != nil {
		return err
	}
	f.created[space] = settings
	return nil
}

func (f *fakeCluster) Delete(space string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.led(space); err != nil {
		return err
	}
	f.deleted = append(f.deleted, space)
	return nil
}

func (f *fakeCluster) set(space string, notLed bool, refuse error) {
	f.mu.Lock()
	f.notLed[space], f.refuse[space] = notLed, refuse
	f.mu.Unlock()
}

func (f *fakeCluster) stream(space string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.frames[space]...)
}

type fakeLog struct {
	f     *fakeCluster
	space string
}

func (l fakeLog) Replicate(frames []byte, _ int, _, _ uint64) error {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	if err := l.f.led(l.space); err != nil {
		return err
	}
	if err := l.f.refuse[l.space]; err != nil {
		return err
	}
	l.f.frames[l.space] = append(l.f.frames[l.space], frames...)
	return nil
}

func (l fakeLog) Diverged(error) {}

func rememberText(t *testing.T, e *Engine, space, text string) (string, error) {
	t.Helper()
	s, err := e.SpaceForWrite(space)
	if err != nil {
		return "", err
	}
	res, err := s.Remember(context.Background(), Memory{Content: text, Confidence: 0.6}, RememberOptions{})
	return res.Memory.ID, err
}

func mustRemember(t *testing.T, e *Engine, space, text string) string {
	t.Helper()
	id, err := rememberText(t, e, space, text)
	if err != nil {
		t.Fatalf("remember in %s: %v", space, err)
	}
	return id
}

// checkHolds fails unless space of e holds every id of want and none of absent.
func checkHolds(t *testing.T, e *Engine, space string, want, absent []string) {
	t.Helper()
	s := mustSpace(t, e, space)
	for _, id := range want {
		if _, err := s.Get(id); err != nil {
			t.Errorf("%s: %s: %v", space, id, err)
		}
	}
	for _, id := range absent {
		if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %s should be absent, got %v", space, id, err)
		}
	}
}

func TestReplicationWritesThroughTheReplicator(t *testing.T) {
	root := t.TempDir()
	e := openTest(t, testConfig(t, root))
	fc := newFakeCluster()
	alpha := mustRemember(t, e, "alpha", "written before the cluster") // a single node's write
	if err := e.SetReplication(newFakeCluster()); err != nil {
		t.Fatal(err)
	}
	if err := e.SetReplication(fc); err != nil { // replaces the first
		t.Fatal(err)
	}
	a2 := mustRemember(t, e, "alpha", "replicated alpha note")
	b1 := mustRemember(t, e, "beta", "replicated beta note")
	if _, ok := fc.created["beta"]; !ok {
		t.Fatal("creating beta did not go through the replication")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for space, want := range map[string]int{"alpha": 1, "beta": 1} {
		n := 0
		if err := wal.EachFrame(fc.stream(space), func(wal.Frame) error { n++; return nil }); err != nil {
			t.Fatalf("%s: replicated frames: %v", space, err)
		}
		if n < want {
			t.Fatalf("%s: %d frames replicated, want at least %d", space, n, want)
		}
	}
	e = openTest(t, testConfig(t, root))
	defer e.Close()
	checkHolds(t, e, "alpha", []string{alpha, a2}, []string{b1})
	checkHolds(t, e, "beta", []string{b1}, []string{alpha, a2})
}

func TestReplicationRefusal(t *testing.T) {
	tests := []struct {
		name   string
		notLed bool
		refuse error
		want   error
	}{
		{"partition lost", false, ErrNotOwner, ErrNotOwner},
		{"stream failure", false, errors.New("no quorum"), ErrStorage},
		{"not led", true, nil, ErrNotOwner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			e := openTest(t, testConfig(t, root))
			fc := newFakeCluster()
			if err := e.SetReplication(fc); err != nil {
				t.Fatal(err)
			}
			kept := mustRemember(t, e, "alpha", "acknowledged before the refusal")
			fc.set("alpha", tt.notLed, tt.refuse)
			if tt.notLed {
				if err := e.CloseSpaces(func(id string) bool { return id == "alpha" }); err != nil {
					t.Fatal(err)
				}
			}
			_, err := rememberText(t, e, "alpha", "refused note")
			if !errors.Is(err, tt.want) {
				t.Fatalf("remember: %v, want %v", err, tt.want)
			}
			other := mustRemember(t, e, "beta", "beta is unaffected")
			if tt.notLed {
				if _, err := mustSpace(t, e, "alpha").Get(kept); !errors.Is(err, ErrNotOwner) {
					t.Fatalf("read of a space not led here: %v, want ErrNotOwner", err)
				}
				if _, _, err := e.CreateSpace("gamma-new", SpaceSettings{}); err != nil {
					t.Fatal(err)
				}
				fc.set("delta-new", true, nil)
				if _, _, err := e.CreateSpace("delta-new", SpaceSettings{}); !errors.Is(err, ErrNotOwner) {
					t.Fatalf("create in a partition not led here: %v, want ErrNotOwner", err)
				}
				if _, err := e.Space("delta-new"); !errors.Is(err, ErrSpaceNotFound) {
					t.Fatalf("a refused create left the space behind: %v", err)
				}
			}
			if err := e.Close(); err != nil && !errors.Is(err, ErrNotOwner) {
				t.Logf("close: %v", err)
			}
			// What the log holds is exactly what the stream acknowledged.
			e = openTest(t, testConfig(t, root))
			defer e.Close()
			s := mustSpace(t, e, "alpha")
			if _, err := s.Get(kept); err != nil {
				t.Fatalf("acknowledged memory lost: %v", err)
			}
			if st := s.Stats(); st.Memories != 1 {
				t.Fatalf("alpha holds %d memories, want the acknowledged one only", st.Memories)
			}
			checkHolds(t, e, "beta", []string{other}, []string{kept})
		})
	}
}

func TestCloseSpacesEndsSubscribers(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	fc := newFakeCluster()
	if err := e.SetReplication(fc); err != nil {
		t.Fatal(err)
	}
	mustRemember(t, e, "alpha", "alpha is led here")
	mustRemember(t, e, "beta", "beta is led here")
	alpha, beta := mustSpace(t, e, "alpha").Subscribe(0), mustSpace(t, e, "beta").Subscribe(0)
	defer beta.Close()
	fc.set("alpha", true, nil)
	if err := e.CloseSpaces(func(id string) bool { return id == "alpha" }); err != nil {
		t.Fatal(err)
	}
	// alpha's subscriber is ended (its events come from another node now), beta's is not.
	if _, ok := <-alpha.C; ok {
		t.Fatal("alpha's subscriber got an event, want its stream ended")
	}
	fc.set("alpha", false, nil)
	mustRemember(t, e, "beta", "beta still publishes")
	if ev, ok := <-beta.C; !ok || ev.Type != EventStorage {
		t.Fatalf("beta's subscriber: %v %v, want its storage event", ev.Type, ok)
	}
	// Led again, alpha takes new subscribers.
	again := mustSpace(t, e, "alpha").Subscribe(0)
	defer again.Close()
	mustRemember(t, e, "alpha", "alpha is led here again")
	if ev, ok := <-again.C; !ok || ev.Type != EventStorage {
		t.Fatalf("new alpha subscriber: %v %v, want a storage event", ev.Type, ok)
	}
}

func TestCatchUpRebuildsSpaces(t *testing.T) {
	// Node A leads and writes; node B copies A's stream into its closed spaces, then leads.
	a := openTest(t, testConfig(t, t.TempDir()))
	fa := newFakeCluster()
	if err := a.SetReplication(fa); err != nil {
		t.Fatal(err)
	}
	var alpha, beta []string
	for i := range 20 {
		alpha = append(alpha, mustRemember(t, a, "alpha", fmt.Sprintf("alpha note %d", i)))
		if i%4 == 0 {
			beta = append(beta, mustRemember(t, a, "beta", fmt.Sprintf("beta note %d", i)))
		}
	}
	mustRemember(t, a, "gone", "a space deleted later")
	if err := a.DeleteSpace("gone"); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b := openTest(t, testConfig(t, t.TempDir()))
	defer b.Close()
	fb := newFakeCluster()
	for _, id := range []string{"alpha", "beta", "gone"} {
		fb.set(id, true, nil)
	}
	if err := b.SetReplication(fb); err != nil {
		t.Fatal(err)
	}
	stream := fa.stream("alpha")
	cu := b.BeginCatchUp()
	for _, id := range []string{"alpha", "beta", "gone"} {
		if err := cu.Create(id, fa.created[id]); err != nil {
			t.Fatal(err)
		}
	}
	half := 0
	_ = wal.EachFrame(stream, func(f wal.Frame) error {
		if f.LSN <= 5 {
			half = int(f.Offset) + len(f.Raw)
		}
		return nil
	})
	for _, piece := range [][]byte{stream[:half], stream, stream} { // replayed again: harmless
		if _, err := cu.Append("alpha", piece); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cu.Append("beta", fa.stream("beta")); err != nil {
		t.Fatal(err)
	}
	if _, err := cu.Append("gone", fa.stream("gone")); err != nil {
		t.Fatal(err)
	}
	if err := cu.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	if err := cu.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Space("gone"); !errors.Is(err, ErrSpaceNotFound) {
		t.Fatalf("a deleted space survived the catch-up: %v", err)
	}
	fb.set("alpha", false, nil)
	fb.set("beta", false, nil)
	checkHolds(t, b, "alpha", alpha, beta)
	checkHolds(t, b, "beta", beta, alpha)
	// B writes on after A's last LSN.
	next := mustRemember(t, b, "alpha", "written by the new owner")
	checkHolds(t, b, "alpha", append(alpha, next), nil)
}

func TestReplicatedEngineWaitsForItsCluster(t *testing.T) {
	root := t.TempDir()
	e := openTest(t, testConfig(t, root))
	id := mustRemember(t, e, "alpha", "in the local log")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, root)
	cfg.Replicated = true
	e = openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "alpha")
	if s.Stats().Open {
		t.Fatal("a replicated engine recovered a space at open")
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("read before the cluster is joined: %v, want ErrNotOwner", err)
	}
	if _, err := rememberText(t, e, "alpha", "too early"); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("write before the cluster is joined: %v, want ErrNotOwner", err)
	}
	if err := e.SetReplication(newFakeCluster()); err != nil {
		t.Fatal(err)
	}
	checkHolds(t, e, "alpha", []string{id}, nil)
	if err := e.SetReplication(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("read after the replication is detached: %v, want ErrNotOwner", err)
	}
}
