// Package waltest helps tests of the packages built on engine/wal.
package waltest

import (
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/engram-go/engram/engine/wal"
)

// frameTap is a wal.Replicator keeping the frames a log hands it.
type frameTap struct {
	mu     sync.Mutex
	frames []byte
}

func (r *frameTap) Replicate(frames []byte, _ int, _, _ uint64) error {
	r.mu.Lock()
	r.frames = append(r.frames, frames...)
	r.mu.Unlock()
	return nil
}

func (r *frameTap) Diverged(error) {}

// Frames writes entries to a real log of its own and returns the log's encoded frames, as
// a replicated log hands them on.
func Frames(t testing.TB, entries ...wal.Entry) []byte {
	t.Helper()
	tap := &frameTap{}
	w, _, err := wal.Open(wal.Options{Dir: t.TempDir(), Space: "frames", Replicator: tap,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := w.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return tap.frames
}
