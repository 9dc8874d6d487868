package apikey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/engram-go/engram/internal/durable"
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

// WriteFile replaces the keys file atomically (durable.WriteFile: <path>.tmp with mode
// 0600, fsynced, renamed over path, folder fsynced). The folder is created (0700) when
// missing. Writers that may race hold lockWriters, as Update does.
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
	// The folder may hold other secrets: created private, unlike durable's default.
	if err := durable.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("apikey: create folder of the keys file: %w", err)
	}
	if err := durable.WriteFileBytes(path, b, filePerm); err != nil {
		return fmt.Errorf("apikey: write keys file: %w", err)
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
