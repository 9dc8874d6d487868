package mmap

import (
	"errors"
	"fmt"
	"math"
	"os"

	mmapgo "github.com/edsrzf/mmap-go"
)

// ErrClosed is returned by operations on a File after Close.
var ErrClosed = errors.New("mmap: file closed")

// ErrTooLarge is returned by Open for a file that does not fit in the address space.
var ErrTooLarge = errors.New("mmap: file too large to map")

// File is a read-only memory mapping of a whole file.
type File struct {
	path   string
	data   mmapgo.MMap // nil for a zero-length file
	closed bool
}

// Open maps the file at path read-only. The file's size at the time of the call is the
// size of the mapping.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mmap: open: %w", err)
	}
	// The mapping outlives the descriptor, so there is no reason to keep it open.
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("mmap: stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("mmap: %s is not a regular file", path)
	}
	size := fi.Size()
	if size == 0 {
		return &File{path: path}, nil
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrTooLarge, path, size)
	}
	data, err := mmapgo.MapRegion(f, int(size), mmapgo.RDONLY, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("mmap: map %s: %w", path, err)
	}
	return &File{path: path, data: data}, nil
}

// Path returns the path the file was opened with.
func (f *File) Path() string { return f.path }

// Bytes returns the mapped contents. The slice must not be written to, and must not be
// used after Close.
func (f *File) Bytes() []byte { return f.data }

// Len returns the size of the mapping in bytes.
func (f *File) Len() int { return len(f.data) }

// Close unmaps the file. Closing a closed File returns ErrClosed.
func (f *File) Close() error {
	if f.closed {
		return ErrClosed
	}
	f.closed = true
	if f.data == nil {
		return nil
	}
	if err := f.data.Unmap(); err != nil {
		return fmt.Errorf("mmap: unmap %s: %w", f.path, err)
	}
	return nil
}
