package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// checkGolden compares a command's whole result with testdata/<name>.golden.
func checkGolden(t *testing.T, name string, args []string, code int, stdout, stderr string) {
	t.Helper()
	got := fmt.Sprintf("$ engram-wal %s\nexit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, stdout, stderr)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// goldenCase runs one command line on a fixture; args use $ROOT for the fixture and $NEW for
// a fresh output folder.
type goldenCase struct {
	name   string
	args   []string
	damage func(t *testing.T, root string) // nil: the clean fixture
}

func TestGolden(t *testing.T) {
	clean := buildFixture(t)
	cases := []goldenCase{
		{name: "ls", args: []string{"ls", "$ROOT"}},
		{name: "ls_unix_times", args: []string{"ls", "--times", "unix", "$ROOT/default/wal"}},
		{name: "ls_space_folder", args: []string{"ls", "--times", "none", "$ROOT/notes"}},
		{name: "stats", args: []string{"stats", "$ROOT"}},
		{name: "stats_one_space", args: []string{"stats", "--space", "notes", "$ROOT"}},
		{name: "dump", args: []string{"dump", "$ROOT"}},
		{name: "dump_no_times", args: []string{"dump", "--times", "none", "$ROOT/notes"}},
		{name: "dump_json", args: []string{"dump", "--json", "--space", "default", "$ROOT"}},
		{name: "dump_segment_file", args: []string{"dump", "--raw", "$ROOT/notes/wal/0000000000000001.wal"}},
		{name: "dump_filtered", args: []string{"dump", "--times", "none", "--type", "remember", "--from", "3", "--to", "9", "$ROOT/default/wal"}},
		{name: "verify_clean", args: []string{"verify", "$ROOT"}},
		{name: "repair_dry_run", args: []string{"repair", "--dry-run", "$ROOT"}},
		{name: "repair_clean", args: []string{"repair", "$ROOT", "--output", "$NEW"}},
		{name: "ls_torn", args: []string{"ls", "$ROOT"}, damage: tearLastSegment},
		{name: "verify_torn", args: []string{"verify", "$ROOT"}, damage: tearLastSegment},
		{name: "dump_torn", args: []string{"dump", "--times", "none", "--space", "default", "$ROOT"}, damage: tearLastSegment},
		{name: "ls_corrupt", args: []string{"ls", "--times", "none", "$ROOT"}, damage: corruptMiddleFrame},
		{name: "stats_corrupt", args: []string{"stats", "--space", "default", "$ROOT"}, damage: corruptMiddleFrame},
		{name: "verify_corrupt", args: []string{"verify", "$ROOT"}, damage: corruptMiddleFrame},
		{name: "dump_corrupt", args: []string{"dump", "--times", "none", "--space", "default", "$ROOT"}, damage: corruptMiddleFrame},
		{name: "dump_raw_corrupt", args: []string{"dump", "--raw", "--space", "default", "$ROOT"}, damage: corruptMiddleFrame},
		{name: "dump_raw_json_corrupt", args: []string{"dump", "--raw", "--json", "--type", "forget", "$ROOT/default"}, damage: corruptMiddleFrame},
		{name: "repair_corrupt", args: []string{"repair", "$ROOT/default", "--output", "$NEW"}, damage: corruptMiddleFrame},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := clean
			if c.damage != nil {
				root = copyTree(t, clean)
				c.damage(t, root)
			}
			newDir := filepath.Join(t.TempDir(), "new")
			args := make([]string, len(c.args))
			for i, a := range c.args {
				a = strings.ReplaceAll(a, "$ROOT", root)
				args[i] = strings.ReplaceAll(a, "$NEW", newDir)
			}
			code, stdout, stderr := runCmd(t, root, args...)
			norm := func(s string) string { return strings.ReplaceAll(s, newDir, "$NEW") }
			checkGolden(t, c.name, c.args, code, norm(stdout), norm(stderr))
		})
	}
}

// tearLastSegment cuts the last segment of the default space in the middle of its last frame,
// as a crash during a write leaves it.
func tearLastSegment(t *testing.T, root string) {
	t.Helper()
	segs := framesOf(t, filepath.Join(root, "default", "wal"))
	last := segs[len(segs)-1]
	f := last[len(last)-1]
	if err := os.Truncate(f.seg, f.offset+int64(f.size)/2); err != nil {
		t.Fatal(err)
	}
}

// corruptedMemory is the memory whose remember record corruptMiddleFrame damages.
const corruptedMemory = "charlie"

// corruptMiddleFrame flips a payload byte of the remember record of corruptedMemory, a frame
// with intact frames after it in its segment, in a segment that is not the last.
func corruptMiddleFrame(t *testing.T, root string) {
	t.Helper()
	segs := framesOf(t, filepath.Join(root, "default", "wal"))
	for i, frames := range segs {
		for j, f := range frames {
			if f.typ != 1 || f.id != corruptedMemory {
				continue
			}
			if i == len(segs)-1 || j == 0 || j == len(frames)-1 {
				t.Fatalf("the fixture's %s record is not in the middle of a middle segment (segment %d of %d, frame %d of %d)",
					corruptedMemory, i+1, len(segs), j+1, len(frames))
			}
			flipByte(t, f.seg, f.offset+40)
			return
		}
	}
	t.Fatalf("no remember record of %s in the fixture", corruptedMemory)
}
