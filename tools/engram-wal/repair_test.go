package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/internal/enginetest"
)

// openMemories opens a data root with the engine and returns the live memory ids per space.
func openMemories(t *testing.T, root string) map[string][]string {
	t.Helper()
	e := enginetest.Open(t, fixtureConfig(root))
	defer e.Close() // before the caller looks at the files
	got := map[string][]string{}
	for _, s := range e.Spaces() {
		res, err := s.List(engine.ListOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Memories {
			got[s.ID()] = append(got[s.ID()], m.ID)
		}
	}
	return got
}

func TestRepairCopyOpensWithExpectedMemories(t *testing.T) {
	clean := buildFixture(t)
	withoutCorrupted := map[string][]string{
		"default": slices.DeleteFunc(slices.Clone(fixtureLive["default"]), func(id string) bool { return id == corruptedMemory }),
		"notes":   fixtureLive["notes"],
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, root string)
		want   map[string][]string
	}{
		{name: "clean", want: fixtureLive},
		{name: "torn tail", damage: tearLastSegment, want: fixtureLive}, // the torn record is the access batch
		{name: "damaged frame in the middle", damage: corruptMiddleFrame, want: withoutCorrupted},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := copyTree(t, clean)
			if c.damage != nil {
				c.damage(t, root)
			}
			out := filepath.Join(t.TempDir(), "repaired")
			if code, stdout, stderr := runCmd(t, root, "repair", root, "--output", out); code != exitOK {
				t.Fatalf("repair exit %d\n%s%s", code, stdout, stderr)
			}
			if code, stdout, _ := runCmd(t, out, "verify", out); code != exitOK {
				t.Fatalf("the repaired copy does not verify clean (exit %d):\n%s", code, stdout)
			}
			for _, space := range []string{"default", "notes"} {
				if _, err := os.Stat(filepath.Join(out, space, "space.json")); err != nil {
					t.Errorf("space.json of %s not copied: %v", space, err)
				}
			}
			got := openMemories(t, out)
			for space, ids := range c.want {
				if !slices.Equal(got[space], ids) {
					t.Errorf("space %s after repair holds %v, want %v", space, got[space], ids)
				}
			}
		})
	}
}

func TestRepairLayouts(t *testing.T) {
	clean := buildFixture(t)
	cases := []struct {
		name    string
		dir     string
		present []string // paths under the output
	}{
		{name: "data root", dir: clean, present: []string{"default/space.json", "default/wal/0000000000000001.wal", "notes/wal/0000000000000001.wal"}},
		{name: "space folder", dir: filepath.Join(clean, "notes"), present: []string{"space.json", "wal/0000000000000001.wal"}},
		{name: "wal folder", dir: filepath.Join(clean, "notes", "wal"), present: []string{"0000000000000001.wal"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if code, stdout, stderr := runCmd(t, clean, "repair", c.dir, "--output", out); code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			for _, p := range c.present {
				if _, err := os.Stat(filepath.Join(out, p)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestRepairRefusesUnsafeOutput(t *testing.T) {
	root := buildFixture(t)
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{name: "no output", args: []string{"repair", root}, want: "--output"},
		{name: "output not empty", args: []string{"repair", root, "--output", nonEmpty}, want: "not empty"},
		{name: "output inside DIR", args: []string{"repair", root, "--output", filepath.Join(root, "repaired")}, want: "overlap"},
		{name: "output is DIR", args: []string{"repair", filepath.Join(root, "notes"), "--output", filepath.Join(root, "notes")}, want: "overlap"},
		{name: "DIR inside output", args: []string{"repair", filepath.Join(root, "notes", "wal"), "--output", root}, want: "overlap"},
		{name: "segment file", args: []string{"repair", filepath.Join(root, "notes", "wal", "0000000000000001.wal"), "--output", filepath.Join(t.TempDir(), "x")}, want: "folder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, root, c.args...)
			if code != exitError || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitError, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(root, "repaired")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused repair created its output inside DIR: %v", err)
	}
}

func TestRepairDryRunWritesNothing(t *testing.T) {
	root := copyTree(t, buildFixture(t))
	corruptMiddleFrame(t, root)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, root, "repair", "--dry-run", root, "--output", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "would drop 1 damaged frame") {
		t.Errorf("dry run does not report the damaged frame:\n%s", stdout)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created %s: %v", out, err)
	}
}
