package tier

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by the package wrap them with context; test with errors.Is.
var (
	// ErrCorrupt marks a file whose bytes fail a checksum or a structural check: a segment, a
	// deletion bitmap, a manifest, an edges file or a row graph. The concrete error is a *CorruptError
	// naming the file and, for a segment, the damaged section.
	ErrCorrupt = errors.New("tier: corrupt segment")
	// ErrVersion marks an intact file written in a format version this package cannot read.
	ErrVersion = errors.New("tier: unsupported format version")
	// ErrByteOrder is returned by OpenSegment on a big-endian host: float32 sections are read
	// in place and are stored little endian.
	ErrByteOrder = errors.New("tier: segments are read in place and need a little-endian host")
	// ErrInvalidRecord rejects input that cannot be written: an empty id, a vector whose
	// length is not the segment's dimension, a non-finite value, oversized metadata.
	ErrInvalidRecord = errors.New("tier: invalid record")
	// ErrDuplicateID rejects a segment in which two records share an id.
	ErrDuplicateID = errors.New("tier: duplicate id")
	// ErrClosed is returned by Close on a segment that is already closed.
	ErrClosed = errors.New("tier: segment closed")
	// ErrInvalidArgument rejects an unknown kind, a dimension out of range or an unusable
	// manifest.
	ErrInvalidArgument = errors.New("tier: invalid argument")
)

// CorruptError describes damage found in a file. It unwraps to ErrCorrupt.
type CorruptError struct {
	// File names the kind of file: "segment", "deletion bitmap", "manifest", "edges" or
	// "row graph".
	File string
	// Path is the file's path; empty from DecodeRowGraph, whose caller names the file.
	Path string
	// Section names the damaged part of a segment: "header", "ids", "meta", "vectors",
	// "scales", "norms", "presence", "padding" or "file" (bytes past the last section).
	// It is empty for other files.
	Section string
	// Reason says what check failed.
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Section != "" {
		return fmt.Sprintf("tier: corrupt %s %s: %s section: %s", e.File, e.Path, e.Section, e.Reason)
	}
	return fmt.Sprintf("tier: corrupt %s %s: %s", e.File, e.Path, e.Reason)
}

// Unwrap returns ErrCorrupt.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }
