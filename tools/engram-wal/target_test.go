package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram-go/engram/engine/wal"
)

func TestResolveTarget(t *testing.T) {
	root := buildFixture(t)
	seg1 := filepath.Join(root, "default", "wal", wal.SegmentName(1))
	broken := seg1 + ".broken"
	b, err := os.ReadFile(seg1)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, broken, string(b))
	// What a delete cut by a crash leaves: never listed as a space of the data root.
	tomb := filepath.Join(root, ".deleted-old-1", "wal")
	if err := os.MkdirAll(tomb, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tomb, wal.SegmentName(1)), string(b))
	elsewhere := filepath.Join(t.TempDir(), "loose")
	if err := os.MkdirAll(elsewhere, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(elsewhere, wal.SegmentName(1)), string(b))

	cases := []struct {
		name     string
		dir      string
		space    string
		kind     targetKind
		root     string
		spaces   string // space of each log, comma separated
		segments int    // segments of the first log
		last     bool   // whether the first log's first segment is the last of its folder
	}{
		{name: "data root", dir: root, kind: kindDataRoot, root: root, spaces: "default,notes", segments: 2},
		{name: "data root, one space", dir: root, space: "notes", kind: kindDataRoot, root: root, spaces: "notes", segments: 1, last: true},
		{name: "space folder", dir: filepath.Join(root, "notes"), kind: kindSpace, root: root, spaces: "notes", segments: 1, last: true},
		{name: "wal folder", dir: filepath.Join(root, "default", "wal"), kind: kindWALDir, root: root, spaces: "default", segments: 2},
		{name: "segment file", dir: seg1, kind: kindSegment, root: root, spaces: "default", segments: 1},
		{name: "broken copy of a segment", dir: broken, kind: kindSegment, root: root, spaces: "default", segments: 1},
		{name: "last segment file", dir: filepath.Join(root, "default", "wal", wal.SegmentName(2)), kind: kindSegment, root: root, spaces: "default", segments: 1, last: true},
		{name: "segments outside a data root", dir: elsewhere, kind: kindWALDir, spaces: "default", segments: 1, last: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg, err := resolveTarget(c.dir, c.space)
			if err != nil {
				t.Fatal(err)
			}
			var spaces []string
			for _, l := range tg.logs {
				spaces = append(spaces, l.space)
			}
			if tg.kind != c.kind || tg.root != c.root || strings.Join(spaces, ",") != c.spaces {
				t.Errorf("kind %d root %q spaces %v; want kind %d root %q spaces %s", tg.kind, tg.root, spaces, c.kind, c.root, c.spaces)
			}
			first := tg.logs[0]
			if len(first.segments) != c.segments || first.segments[0].last != c.last {
				t.Errorf("%d segments, first last=%v; want %d, %v", len(first.segments), first.segments[0].last, c.segments, c.last)
			}
			if first.whole == (c.kind == kindSegment) {
				t.Errorf("whole = %v for kind %d", first.whole, c.kind)
			}
		})
	}
}

func TestResolveTargetErrors(t *testing.T) {
	root := buildFixture(t)
	for _, c := range []struct{ dir, space, want string }{
		{filepath.Join(root, "missing"), "", "no such file"},
		{t.TempDir(), "", "no write-ahead log found"},
		{root, "elsewhere", `no space "elsewhere"`},
	} {
		if _, err := resolveTarget(c.dir, c.space); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("resolveTarget(%s, %q) = %v, want an error saying %q", c.dir, c.space, err, c.want)
		}
	}
}
