package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var errInjected = errors.New("injected fault")

// faulty is the real file system with the named operation failing.
func faulty(op string) ops {
	o := system
	switch op {
	case "open":
		o.openFile = func(string, int, fs.FileMode) (*os.File, error) { return nil, errInjected }
	case "fsync":
		o.syncFile = func(*os.File) error { return errInjected }
	case "rename":
		o.rename = func(string, string) error { return errInjected }
	case "remove":
		o.removeAll = func(string) error { return errInjected }
	case "mkdir":
		o.mkdir = func(string, fs.FileMode) error { return errInjected }
	case "syncdir":
		o.syncDir = func(string) error { return errInjected }
	}
	return o
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestWriteFileFaults(t *testing.T) {
	tests := []struct {
		op       string
		write    error // returned by the write callback
		wantErr  bool
		wantNew  bool // path holds the new contents afterwards
		leftover bool // the temporary file may stay (only when even opening it failed)
	}{
		{op: "none", wantNew: true},
		{op: "open", wantErr: true},
		{op: "write", write: errInjected, wantErr: true},
		{op: "fsync", wantErr: true},
		{op: "rename", wantErr: true},
		// The rename took effect; only its durability is in doubt.
		{op: "syncdir", wantErr: true, wantNew: true},
	}
	for _, tc := range tests {
		t.Run(tc.op, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := faulty(tc.op).WriteFile(path, 0o600, func(f *os.File) error {
				if tc.write != nil {
					f.Write([]byte("partial"))
					return tc.write
				}
				_, err := f.Write([]byte("new"))
				return err
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if tc.wantErr && tc.op != "write" && !errors.Is(err, errInjected) {
				t.Errorf("err = %v, does not wrap the fault", err)
			}
			got, _ := os.ReadFile(path)
			want := "old"
			if tc.wantNew {
				want = "new"
			}
			if string(got) != want {
				t.Errorf("file holds %q, want %q", got, want)
			}
			if n := names(t, dir); !slices.Equal(n, []string{"f"}) {
				t.Errorf("folder holds %v, want only f (no temporary file)", n)
			}
			if tc.wantNew {
				if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
					t.Errorf("mode %v, want 0600", fi.Mode().Perm())
				}
			}
		})
	}
}

func TestWriteFileLeftoverTempKeepsNoOldMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys")
	if err := os.WriteFile(path+TempSuffix, []byte("stale leftover, longer than the new"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileBytes(path, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != 1 {
		t.Errorf("mode %v size %d, want 0600 and 1 byte", fi.Mode().Perm(), fi.Size())
	}
}

func TestRenameRemoveMkdirFaults(t *testing.T) {
	tests := []struct {
		name    string
		op      string
		run     func(o ops, dir string) error
		wantErr bool
		exists  []string // relative paths that must exist afterwards
		gone    []string
	}{
		{name: "rename", op: "none", run: func(o ops, dir string) error {
			return o.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "sub", "b"))
		}, exists: []string{"sub/b"}, gone: []string{"a"}},
		{name: "rename fails", op: "rename", run: func(o ops, dir string) error {
			return o.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "sub", "b"))
		}, wantErr: true, exists: []string{"a"}, gone: []string{"sub/b"}},
		{name: "rename not durable", op: "syncdir", run: func(o ops, dir string) error {
			return o.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b"))
		}, wantErr: true, exists: []string{"b"}},
		{name: "remove all", op: "none", run: func(o ops, dir string) error {
			return o.RemoveAll(filepath.Join(dir, "sub"))
		}, exists: []string{"a"}, gone: []string{"sub"}},
		{name: "remove all missing", op: "none", run: func(o ops, dir string) error {
			return o.RemoveAll(filepath.Join(dir, "nothing"))
		}, exists: []string{"a", "sub"}},
		{name: "remove fails", op: "remove", run: func(o ops, dir string) error {
			return o.RemoveAll(filepath.Join(dir, "sub"))
		}, wantErr: true, exists: []string{"sub"}},
		{name: "remove not durable", op: "syncdir", run: func(o ops, dir string) error {
			return o.RemoveAll(filepath.Join(dir, "sub"))
		}, wantErr: true, gone: []string{"sub"}},
		{name: "mkdir", op: "none", run: func(o ops, dir string) error {
			return o.MkdirAll(filepath.Join(dir, "x", "y"), 0o755)
		}, exists: []string{"x/y"}},
		{name: "mkdir existing", op: "mkdir", run: func(o ops, dir string) error {
			return o.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		}, exists: []string{"sub"}},
		{name: "mkdir fails", op: "mkdir", run: func(o ops, dir string) error {
			return o.MkdirAll(filepath.Join(dir, "x", "y"), 0o755)
		}, wantErr: true, gone: []string{"x"}},
		{name: "mkdir over a file", op: "none", run: func(o ops, dir string) error {
			return o.MkdirAll(filepath.Join(dir, "a"), 0o755)
		}, wantErr: true, exists: []string{"a"}},
		{name: "sync dir fails", op: "syncdir", run: func(o ops, dir string) error {
			return o.SyncDir(dir)
		}, wantErr: true},
		{name: "sync missing dir", op: "none", run: func(o ops, dir string) error {
			return o.SyncDir(filepath.Join(dir, "nothing"))
		}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, "sub", "deep"), 0o755); err != nil {
				t.Fatal(err)
			}
			err := tc.run(faulty(tc.op), dir)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if err != nil && tc.op != "none" && !errors.Is(err, errInjected) {
				t.Errorf("err = %v, does not wrap the fault", err)
			}
			for _, p := range tc.exists {
				if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
			for _, p := range tc.gone {
				if _, err := os.Stat(filepath.Join(dir, p)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s still exists (%v)", p, err)
				}
			}
		})
	}
}
