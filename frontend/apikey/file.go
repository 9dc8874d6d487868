package apikey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FormatVersion is the version of the keys file layout this package reads and writes.
const FormatVersion = 1

// filePerm is the mode of the keys file: readable by the server's user only.
const filePerm = 0o600

// File is the content of a keys file: {"version": 1, "keys": [Entry, ...]}.
type File struct {
	Version int     `json:"version"`
	Keys    []Entry `json:"keys"`
}

// ReadFile reads and checks a keys file. A missing file reads as an empty one; the
// returned error then is nil, so callers that must tell the two apart stat first.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{Version: FormatVersion, Keys: []Entry{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("apikey: read %s: %w", path, err)
	}
	f, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrInvalidFile, path, err)
	}
	return f, nil
}

// parse decodes and checks the bytes of a keys file. Unknown fields are errors, so a
// misspelt "revoked" never leaves a key silently valid.
func parse(b []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	if f.Version != FormatVersion {
		return nil, fmt.Errorf("version %d is not supported (this build reads version %d)", f.Version, FormatVersion)
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	if f.Keys == nil {
		f.Keys = []Entry{}
	}
	return &f, nil
}

func (f *File) validate() error {
	ids := map[string]bool{}
	hashes := map[string]bool{}
	for i := range f.Keys {
		e := &f.Keys[i]
		if err := e.validate(); err != nil {
			return err
		}
		if ids[e.ID] {
			return fmt.Errorf("key id %s appears twice", e.ID)
		}
		if hashes[e.Hash] {
			return fmt.Errorf("key %s: its hash appears twice", e.ID)
		}
		ids[e.ID], hashes[e.Hash] = true, true
	}
	return nil
}

// find returns the entry with id, or nil.
func (f *File) find(id string) *Entry {
	for i := range f.Keys {
		if f.Keys[i].ID == id {
			return &f.Keys[i]
		}
	}
	return nil
}

// WriteFile replaces the keys file atomically: a temporary file in the same folder is
// written with mode 0600, fsynced and renamed over path, then the folder is fsynced. The
// folder is created (0700) when missing.
func WriteFile(path string, f *File) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	out := *f
	out.Version = FormatVersion
	if out.Keys == nil {
		out.Keys = []Entry{}
	}
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("apikey: encode keys file: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("apikey: create folder of the keys file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("apikey: create temporary keys file: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(filePerm); err != nil {
		return fmt.Errorf("apikey: chmod temporary keys file: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("apikey: write temporary keys file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("apikey: fsync temporary keys file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("apikey: close temporary keys file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("apikey: replace %s: %w", path, err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("apikey: fsync folder of %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err
	}
	return nil
}

// Update applies fn to the keys file under the writers' lock and writes the result when
// fn succeeds. A missing file starts empty.
func Update(path string, fn func(*File) error) error {
	unlock, err := lockWriters(path)
	if err != nil {
		return err
	}
	defer unlock()
	f, err := ReadFile(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		return err
	}
	return WriteFile(path, f)
}
