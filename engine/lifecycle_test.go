package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// blockRetirement makes the delete of space id stop inside its retirement, holding the
// space's own lock, until the returned release is called. entered is closed once it stops.
func blockRetirement(e *Engine, id string) (entered <-chan struct{}, release func()) {
	in, out := make(chan struct{}), make(chan struct{})
	e.hooks.retiring = func(got string) {
		if got == id {
			close(in)
			<-out
		}
	}
	return in, func() { close(out) }
}

func rememberN(t *testing.T, s *Space, prefix string, n int) {
	t.Helper()
	for i := range n {
		if _, err := s.Remember(context.Background(), Memory{ID: fmt.Sprintf("%s-%d", prefix, i), Content: prefix + " memory " + fmt.Sprint(i), Confidence: 0.5}, RememberOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeleteDoesNotStallOtherSpaces holds a space's delete inside its retirement and
// checks that, meanwhile, other spaces are created (explicitly and by a write), written,
// read and deleted: the delete holds no lock they need. A create of the deleted id waits
// for the delete and then starts empty.
func TestDeleteDoesNotStallOtherSpaces(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	victim := mustSpace(t, e, "victim")
	rememberN(t, victim, "secret", 50)
	entered, release := blockRetirement(e, "victim")
	deleted := make(chan error, 1)
	go func() { deleted <- e.DeleteSpace("victim") }()
	<-entered

	for i := range 10 {
		id := fmt.Sprintf("other-%d", i)
		if i%2 == 0 {
			if _, _, err := e.CreateSpace(id, SpaceSettings{}); err != nil {
				t.Fatal(err)
			}
		}
		s := mustSpace(t, e, id) // auto-create for the odd ones
		rememberN(t, s, id, 5)
		if got := s.Stats().Memories; got != 5 {
			t.Fatalf("%s holds %d memories, want 5", id, got)
		}
		if _, err := s.Get("secret-0"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s sees the deleted space's memory: %v", id, err)
		}
		if i%3 == 0 {
			if err := e.DeleteSpace(id); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := e.Space("victim"); !errors.Is(err, ErrSpaceNotFound) {
		t.Fatalf("a space being deleted is still found: %v", err)
	}
	recreated := make(chan *Space, 1)
	go func() {
		s, _, err := e.CreateSpace("victim", SpaceSettings{})
		if err != nil {
			t.Error(err)
		}
		recreated <- s
	}()
	select {
	case err := <-deleted:
		t.Fatalf("the delete ended while held in retirement: %v", err)
	default:
	}
	release()
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	s := <-recreated
	if s == nil || s == victim {
		t.Fatal("the create of the deleted id did not make a new space")
	}
	if n := s.Stats().Memories; n != 0 {
		t.Fatalf("the recreated space holds %d memories of the deleted one", n)
	}
	if _, err := s.Get("secret-0"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the recreated space sees a deleted memory: %v", err)
	}
}

// TestExportEndsWhenSpaceDeleted runs an export whose consumer stalls, as a client that
// stops reading does: the space's delete and other spaces' creates and deletes complete
// meanwhile, and the export then ends with an error wrapping ErrSpaceNotFound instead of
// handing out more memories.
func TestExportEndsWhenSpaceDeleted(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	s := mustSpace(t, e, "exported")
	rememberN(t, s, "m", 20)
	stalled, resume := make(chan struct{}), make(chan struct{})
	calls := 0
	done := make(chan error, 1)
	go func() {
		done <- s.Export(context.Background(), func(Memory) error {
			calls++
			if calls == 1 {
				close(stalled)
				<-resume
			}
			return nil
		})
	}()
	<-stalled
	if err := e.DeleteSpace("exported"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		id := fmt.Sprintf("busy-%d", i)
		rememberN(t, mustSpace(t, e, id), id, 2)
		if err := e.DeleteSpace(id); err != nil {
			t.Fatal(err)
		}
	}
	close(resume)
	err := <-done
	if !errors.Is(err, ErrSpaceNotFound) {
		t.Fatalf("export of a deleted space ended with %v, want ErrSpaceNotFound", err)
	}
	if calls != 1 {
		t.Fatalf("the export handed out %d memories after the delete", calls-1)
	}
}

// TestCloseLeavesNoGoroutines drives every kind of background work (checkpoints started by
// writes, row renumbering, the idle sweep, a delete) and checks that Close waits for all
// of it.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cfg := tierConfig(t, t.TempDir())
	cfg.MaxOpenSpaces = 2
	e := openTest(t, cfg)
	for i := range 4 {
		id := fmt.Sprintf("space-%d", i)
		s := mustSpace(t, e, id)
		for j := range 60 {
			_, err := s.Remember(context.Background(), Memory{ID: fmt.Sprintf("%s-%d", id, j), Content: tierContent(j), Confidence: 0.5}, RememberOptions{})
			if err != nil && !errors.Is(err, ErrOverloaded) {
				t.Fatal(err)
			}
			s.maybeCheckpoint()
		}
	}
	if err := e.DeleteSpace("space-3"); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestInterruptedCreatesAndDeletes lays out what a crash in the middle of a create or a
// delete leaves in the data root (from this version and, for the folder without metadata,
// from earlier ones) and checks what Open makes of it: interrupted deletes are finished,
// interrupted creates leave nothing, a WAL without metadata is still a space.
func TestInterruptedCreatesAndDeletes(t *testing.T) {
	type file struct{ path, content string }
	tests := []struct {
		name     string
		files    []file
		dirs     []string
		spaces   []string // discovered, besides default
		gone     []string // folders removed by Open
		kept     []string // folders Open leaves alone
		memories map[string]int
	}{
		{
			name:  "tombstone of a delete",
			files: []file{{".deleted-old-1a/space.json", `{"id":"old"}`}, {".deleted-old-1a/wal/0000000000000001.wal", "x"}},
			gone:  []string{".deleted-old-1a"},
		},
		{
			name:  "temporary folder of a create",
			files: []file{{".creating-new-123/space.json", `{"id":"new"}`}},
			dirs:  []string{".creating-new-123/wal"},
			gone:  []string{".creating-new-123"},
		},
		{
			name:  "create of an older version cut by a full disk",
			files: []file{{"half/space.json.tmp", ""}},
			dirs:  []string{"half/wal", "half/hot", "half/warm", "half/cold"},
			gone:  []string{"half"},
		},
		{
			name:  "folder that is no space",
			files: []file{{"notes/readme.txt", "mine"}},
			dirs:  []string{"empty-one"},
			kept:  []string{"notes", "empty-one"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tc.dirs {
				if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range tc.files {
				p := filepath.Join(root, f.path)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e := openTest(t, testConfig(t, root))
			defer e.Close()
			var ids []string
			for _, s := range e.Spaces() {
				ids = append(ids, s.ID())
			}
			if want := strings.Join(append([]string{"default"}, tc.spaces...), ","); strings.Join(ids, ",") != want {
				t.Fatalf("spaces %v, want %s", ids, want)
			}
			for _, g := range tc.gone {
				if _, err := os.Stat(filepath.Join(root, g)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s left in the data root (%v)", g, err)
				}
			}
			for _, k := range tc.kept {
				if _, err := os.Stat(filepath.Join(root, k)); err != nil {
					t.Errorf("%s removed: %v", k, err)
				}
			}
		})
	}
}

// TestSpaceWithoutMetadataStillOpens keeps data roots of earlier layouts working: a space
// folder holding a WAL but no space.json opens with the default settings and its memories.
func TestSpaceWithoutMetadataStillOpens(t *testing.T) {
	root := t.TempDir()
	e := openTest(t, testConfig(t, root))
	rememberN(t, mustSpace(t, e, "legacy"), "old", 3)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "legacy", metaFile)); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, testConfig(t, root))
	defer e.Close()
	s, err := e.Space("legacy")
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Stats().Memories; n != 3 {
		t.Fatalf("legacy space holds %d memories, want 3", n)
	}
}

// TestCreateLeavesNoTemporaryFolder checks the data root after creates and deletes: only
// space folders, no temporary or tombstone folder.
func TestCreateLeavesNoTemporaryFolder(t *testing.T) {
	root := t.TempDir()
	e := openTest(t, testConfig(t, root))
	defer e.Close()
	for _, id := range []string{"one", "two", "three"} {
		rememberN(t, mustSpace(t, e, id), id, 2)
	}
	if err := e.DeleteSpace("two"); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	if got := strings.Join(names, ","); got != "default,one,three" {
		t.Fatalf("data root holds %s", got)
	}
	if b, err := os.ReadFile(filepath.Join(root, "one", metaFile)); err != nil || !strings.Contains(string(b), `"id": "one"`) {
		t.Fatalf("space.json of one: %q, %v", b, err)
	}
}
