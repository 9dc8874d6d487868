package mmap

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenMapsWholeFile(t *testing.T) {
	page := os.Getpagesize()
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"one page", page},
		{"page and a byte", page + 1},
		{"several pages", 5*page + 123},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := make([]byte, tt.size)
			for i := range want {
				want[i] = byte(i*7 + 3)
			}
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if f.Len() != tt.size {
				t.Errorf("Len = %d, want %d", f.Len(), tt.size)
			}
			if !bytes.Equal(f.Bytes(), want) {
				t.Errorf("Bytes differ from the file contents")
			}
			if f.Path() != path {
				t.Errorf("Path = %q, want %q", f.Path(), path)
			}
			for _, a := range []Advice{AdviceRandom, AdviceSequential, AdviceWillNeed, AdviceNormal} {
				if err := f.Advise(a); err != nil {
					t.Errorf("Advise(%s): %v", a, err)
				}
			}
			if err := f.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := f.Close(); !errors.Is(err, ErrClosed) {
				t.Errorf("second Close = %v, want ErrClosed", err)
			}
			if err := f.Advise(AdviceRandom); !errors.Is(err, ErrClosed) {
				t.Errorf("Advise after Close = %v, want ErrClosed", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		path   string
		target error
	}{
		{"missing file", filepath.Join(dir, "missing"), fs.ErrNotExist},
		{"directory", dir, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(tt.path)
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("Open error = %v, want %v", err, tt.target)
			}
		})
	}
}

func TestMappingOutlivesRename(t *testing.T) {
	// Segment files are replaced by rename; a reader that mapped the old file keeps seeing it.
	dir := t.TempDir()
	path := filepath.Join(dir, "seg")
	if err := os.WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte("new contents!"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if got := string(f.Bytes()); got != "old contents" {
		t.Errorf("mapping reads %q after rename, want the old contents", got)
	}
}

func TestAdviceString(t *testing.T) {
	tests := []struct {
		a    Advice
		want string
	}{
		{AdviceNormal, "normal"},
		{AdviceRandom, "random"},
		{AdviceSequential, "sequential"},
		{AdviceWillNeed, "willneed"},
		{Advice(42), "Advice(42)"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("Advice(%d).String() = %q, want %q", int(tt.a), got, tt.want)
		}
	}
}

func TestAdviseUnknown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Advise(Advice(42)); err == nil {
		t.Error("Advise(42) succeeded, want an error")
	}
}
