package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// snapshot describes every file under root: path, mode, size, modification time and content hash.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		out[path] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCommandsNeverModifyDIR runs every command on damaged logs, which recovery would
// repair in place, and checks that not a byte, name or time changed.
func TestCommandsNeverModifyDIR(t *testing.T) {
	root := copyTree(t, buildFixture(t))
	corruptMiddleFrame(t, root)
	tearLastSegment(t, root)
	before := snapshot(t, root)
	out := filepath.Join(t.TempDir(), "out")
	for _, args := range [][]string{
		{"ls", root},
		{"stats", root},
		{"dump", root},
		{"dump", "--raw", "--json", root},
		{"verify", root},
		{"verify", filepath.Join(root, "default", "wal", "0000000000000002.wal")},
		{"repair", "--dry-run", root},
		{"repair", root, "--output", out},
	} {
		runCmd(t, root, args...)
	}
	after := snapshot(t, root)
	if len(after) != len(before) {
		t.Errorf("DIR held %d entries, now %d", len(before), len(after))
	}
	for path, desc := range before {
		if after[path] != desc {
			t.Errorf("%s changed: %q, now %q", path, desc, after[path])
		}
	}
}
