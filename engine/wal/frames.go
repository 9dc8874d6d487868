package wal

import (
	"fmt"
	"time"
)

// EachFrame calls fn for every frame of b, a run of whole encoded frames (docs/formats/wal.md,
// "Record frame") such as a Replicator receives. Every frame must be intact and its LSN above
// its predecessor's; otherwise EachFrame returns an error wrapping ErrCorrupt that names the
// offset, having called fn for the frames before it. Frame.Payload and Frame.Raw alias b.
func EachFrame(b []byte, fn func(Frame) error) error {
	var prev uint64
	for off := 0; off < len(b); {
		f, reason := decodeFrame(b[off:])
		if reason == "" && f.lsn <= prev {
			reason = reasonLSNOrder
		}
		if reason != "" {
			return fmt.Errorf("%w: frame at offset %d: %s", ErrCorrupt, off, reason)
		}
		err := fn(Frame{Offset: int64(off), LSN: f.lsn, Type: f.typ, Time: time.Unix(0, f.unixNano),
			Payload: f.payload, Raw: b[off : off+f.size : off+f.size]})
		if err != nil {
			return err
		}
		prev = f.lsn
		off += f.size
	}
	return nil
}

// AppendFrames appends encoded frames as they are, keeping their LSNs and append times: how a
// node copies a partition stream's records into a space's log while catching up. Frames whose
// LSN is below the log's next LSN are already in the log and are skipped, so copying the same
// frames twice is harmless; the rest must be intact and in increasing LSN order (a gap is
// allowed). It returns how many were appended, once they are as durable as the sync mode
// promises. Frames appended this way do not go through the log's Replicator: use it on logs
// opened without one.
func (w *WAL) AppendFrames(frames []byte) (appended int, err error) {
	if err := EachFrame(frames, func(Frame) error { return nil }); err != nil {
		return 0, err
	}
	w.mu.Lock()
	if err := w.refuseLocked(); err != nil {
		w.mu.Unlock()
		return 0, err
	}
	b := w.cur
	for off := 0; off < len(frames); {
		size, lsn := frameSize(frames[off:]), frameLSN(frames[off:])
		if lsn >= w.nextLSN {
			if b.records == 0 {
				b.firstTime = time.Now().UnixNano()
			}
			b.buf = append(b.buf, frames[off:off+size]...)
			b.records++
			b.lastLSN = lsn
			w.nextLSN = lsn + 1
			appended++
		}
		off += size
	}
	if appended == 0 {
		w.mu.Unlock()
		return 0, nil
	}
	b.waiters++
	lead := w.joinLocked(b)
	w.mu.Unlock()
	if err := w.await(b, lead); err != nil {
		return 0, err
	}
	return appended, nil
}

// NextLSN is the LSN the log's next record gets.
func (w *WAL) NextLSN() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nextLSN
}

// FrameLen is the length of the well-formed frame at the start of b (one EachFrame or a
// Replicator was given), read from its header without checking it again.
func FrameLen(b []byte) int { return frameSize(b) }
