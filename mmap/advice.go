package mmap

import "fmt"

// Advice tells the kernel how a mapping is going to be read, so that it can size its
// read-ahead. It is only a hint: on systems without madvise(2) it has no effect.
type Advice int

const (
	// AdviceNormal restores the default read-ahead.
	AdviceNormal Advice = iota
	// AdviceRandom disables read-ahead: pages are read one at a time, as they are touched
	// (lookups by id, metadata of a few hits).
	AdviceRandom
	// AdviceSequential asks for aggressive read-ahead and early reclaim behind the reader
	// (a full scan of a vector block).
	AdviceSequential
	// AdviceWillNeed starts reading the whole mapping into the page cache now.
	AdviceWillNeed
)

// String returns the advice's name.
func (a Advice) String() string {
	switch a {
	case AdviceNormal:
		return "normal"
	case AdviceRandom:
		return "random"
	case AdviceSequential:
		return "sequential"
	case AdviceWillNeed:
		return "willneed"
	}
	return fmt.Sprintf("Advice(%d)", int(a))
}

// Advise gives the kernel advice about the whole mapping. It is a no-op for a zero-length
// file and on systems without madvise(2).
func (f *File) Advise(a Advice) error {
	if f.closed {
		return ErrClosed
	}
	if len(f.data) == 0 {
		return nil
	}
	if err := madvise(f.data, a); err != nil {
		return fmt.Errorf("mmap: madvise %s %s: %w", a, f.path, err)
	}
	return nil
}
