package wal

import (
	"errors"
	"fmt"
)

// Replicator receives a log's batches before they are written to its file: in a cluster the
// partition stream, not the local file, is the log of record (docs/cluster.md).
//
// A log with a Replicator hands each batch's encoded frames to Replicate from the holder of its lead
// and writes them to its file only once Replicate returned nil, so the file never holds a
// record the replica lacks. A failed Replicate fails the log like a failed fdatasync: every
// waiter of the batch and every later append gets the error (wrapped in ErrFailed). Its
// records are then in an unknown state (a stream may have taken them before the error), so
// the log must be reopened from what the replica holds, never written on.
type Replicator interface {
	// Replicate makes frames (whole encoded frames, LSN firstLSN to lastLSN, records of
	// them) durable in the replica. It is called by one goroutine at a time per log, in
	// LSN order; frames is only valid during the call.
	Replicate(frames []byte, records int, firstLSN, lastLSN uint64) error
	// Diverged reports that after a successful Replicate the log failed to write or sync
	// its file: the replica holds records the local file may lack.
	Diverged(err error)
}

// errReplicate marks a failure of Replicate, as opposed to one of the local file.
var errReplicate = errors.New("replicate")

// writeReplicated writes b to the file, first through the Replicator when there is one.
func (w *WAL) writeReplicated(b *batch) error {
	r := w.opts.Replicator
	if r == nil {
		return w.writeBatch(b)
	}
	if err := r.Replicate(b.buf, b.records, frameLSN(b.buf), b.lastLSN); err != nil {
		return fmt.Errorf("%w LSN %d-%d: %w", errReplicate, frameLSN(b.buf), b.lastLSN, err)
	}
	return w.writeBatch(b)
}

// noteDivergence tells the Replicator when the local file failed, so records it holds may
// be missing here. A failure of Replicate itself diverges nothing.
func (w *WAL) noteDivergence(err error) {
	if r := w.opts.Replicator; r != nil && !errors.Is(err, errReplicate) {
		r.Diverged(err)
	}
}
