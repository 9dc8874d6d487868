package apikey

import (
	"fmt"
	"slices"
	"time"
)

// Spec describes a key to create.
type Spec struct {
	Name   string
	Spaces []string // memory space ids, or "*"
	Admin  bool
}

// Create adds a new key to the keys file at path and returns the key, which exists
// nowhere else: the file keeps only its hash. now stamps created_at.
func Create(path string, spec Spec, now time.Time) (key string, e Entry, err error) {
	spaces := slices.Clone(spec.Spaces)
	if slices.Contains(spaces, AllSpaces) {
		spaces = []string{AllSpaces}
	}
	if err := checkName(spec.Name); err != nil {
		return "", Entry{}, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	if err := checkSpaces(spaces, spec.Admin); err != nil {
		return "", Entry{}, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	if spaces == nil {
		spaces = []string{}
	}
	key, hash, err := NewKey()
	if err != nil {
		return "", Entry{}, err
	}
	err = Update(path, func(f *File) error {
		id, err := newID()
		for err == nil && f.find(id) != nil {
			id, err = newID()
		}
		if err != nil {
			return err
		}
		e = Entry{ID: id, Name: spec.Name, Hash: hash, Spaces: spaces, Admin: spec.Admin, CreatedAt: now.UTC().Truncate(time.Second)}
		f.Keys = append(f.Keys, e)
		return nil
	})
	if err != nil {
		return "", Entry{}, err
	}
	return key, e, nil
}
