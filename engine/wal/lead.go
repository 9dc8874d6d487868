package wal

import (
	"fmt"
	"runtime"
	"time"
)

// maxRetainedBuffer bounds the batch buffer kept for reuse, so one huge record does not pin its
// memory for the life of the log.
const maxRetainedBuffer = 4 << 20

// batch is a group of records committed together: one write(2) (split only at rotation) and,
// for SyncAlways, one fdatasync. Appenders fill it under WAL.mu; the lead takes it whole.
type batch struct {
	buf       []byte // encoded frames in LSN order
	records   int
	waiters   int   // Append and AppendBatch calls waiting on the batch
	firstTime int64 // append time of the first record, unix ns
	returning bool  // holds a record of a type Options.Background does not name
	lastLSN   uint64
	done      chan struct{} // closed once the batch is written (and synced for SyncAlways)
	err       error         // set before done is closed
}

func newBatch(buf []byte) *batch {
	return &batch{buf: buf, done: make(chan struct{})}
}

// The lead. A log has no goroutine of its own: the file is written, fdatasync'ed and
// rotated by whichever caller holds the log's lead (WAL.leading), one at a time. An
// appender that finds nobody leading takes the lead and writes its own batch with the
// records that joined it; one that finds a lead in progress waits, and the lead, when it
// is done and a batch has gathered meanwhile, hands itself to one waiting appender
// (WAL.promote), which writes that batch for all of its waiters. Sync, Close and the interval timer queue for the lead
// (WAL.handoff) and are served before the next batch's waiters, whose records their flush
// covers too.
//
// A lone appender therefore writes (and for SyncAlways syncs) in its own goroutine with no
// wake-up of another, and a busy log pays one hand-off per batch, as a flusher goroutine
// did; with many logs, each taking a record now and then, that saves the two goroutine
// switches per record (to a log's flusher and back) which a flusher per log cost
// (benchmarks/RESULTS.md, "The per-space path").

// await waits until b, which the caller joined (lead: and whose lead it took), is written
// (and synced for SyncAlways), and returns its outcome.
func (w *WAL) await(b *batch, lead bool) error {
	if !lead {
		select {
		case <-b.done:
			return b.err
		case <-w.promote:
			// The lead: any waiter may take it, since whoever holds it writes the
			// current batch, and b is that one or one already taken. The writers the
			// last lead released are queued behind this goroutine (the hand-off put it
			// first on its processor); letting them run first lets the appends they
			// make next join this batch instead of the one after. Taken at once, the
			// batches of one busy space held 34 memories instead of 42, each costing
			// its own fdatasync.
			runtime.Gosched()
		}
	}
	w.leadBatch()
	<-b.done // closed by now, or by the lead writing b
	return b.err
}

// leadBatch writes the current batch as the holder of the lead, letting it gather writers
// first for SyncAlways, then passes the lead on.
func (w *WAL) leadBatch() {
	if w.opts.Sync == SyncAlways {
		w.gather()
	}
	w.flush(w.opts.Sync == SyncAlways)
	w.handOff()
}

// joinLocked reports whether an appender that just joined b takes the lead. Otherwise it
// wakes a lead that lets b fill (group.go) once b has the waiters it waits for. w.mu must
// be held.
func (w *WAL) joinLocked(b *batch) (lead bool) {
	if !w.leading {
		w.leading = true
		return true
	}
	if w.gathering > 0 && b.waiters >= w.gathering {
		select {
		case w.kick <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	return false
}

// acquireLead waits for the lead on behalf of Sync, Close or the interval timer. It
// returns ErrClosed, without the lead, once Close has stopped the log.
func (w *WAL) acquireLead() error {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return ErrClosed
	}
	if !w.leading {
		w.leading = true
		w.mu.Unlock()
		return nil
	}
	c := make(chan bool, 1)
	w.handoff = append(w.handoff, c)
	w.mu.Unlock()
	if !<-c {
		return ErrClosed
	}
	return nil
}

// handOff passes the lead on: to the first caller queued for it, else to a waiter of the
// current batch when it has records, else to nobody (the next appender takes it).
func (w *WAL) handOff() {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case len(w.handoff) > 0:
		c := w.handoff[0]
		w.handoff = w.handoff[1:]
		c <- true
	case w.cur.records > 0:
		w.promote <- struct{}{} // the batch's waiters are waiting for it
	default:
		w.leading = false
	}
}

// syncNow writes and fdatasyncs everything appended so far, as the holder of the lead.
func (w *WAL) syncNow() error {
	if err := w.acquireLead(); err != nil {
		return err
	}
	err := w.flush(true)
	w.handOff()
	return err
}

// intervalSync is the SyncInterval timer's function.
func (w *WAL) intervalSync() {
	if err := w.acquireLead(); err != nil {
		return // closed: Close synced
	}
	w.timerArmed = false
	w.flush(true)
	w.handOff()
}

// stop is Close's last flush: with the lead, it writes and syncs what is left, closes the
// active segment and keeps the lead for good, refusing it to every caller still queued.
func (w *WAL) stop() error {
	if err := w.acquireLead(); err != nil {
		return err
	}
	err := w.flush(true)
	if cerr := w.active.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wal: close segment %s: %w", w.active.path, cerr)
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Lock()
	w.stopped = true
	for _, c := range w.handoff {
		c <- false
	}
	w.handoff = nil
	w.mu.Unlock()
	return err
}

// flush takes the current batch, writes it, fdatasyncs if sync is set (or arms the interval
// timer), and releases the batch's waiters with the outcome. The caller holds the lead.
func (w *WAL) flush(sync bool) error {
	w.mu.Lock()
	b := w.cur
	if b.records > 0 {
		w.cur = newBatch(w.freeBuf)
		w.freeBuf = nil
		if w.unsyncedSince == 0 {
			w.unsyncedSince = b.firstTime
		}
	} else {
		b = nil
	}
	err := w.failed
	w.mu.Unlock()

	// A flush that carries no batch (Sync, Close, the interval timer) releases no appender.
	w.commitReq.returning = b != nil && b.returning
	if err == nil && b != nil {
		err = w.writeReplicated(b)
	}
	if err == nil && w.unsyncedRecords > 0 {
		if sync {
			err = w.syncActive(0)
		} else if w.opts.Sync == SyncInterval && !w.timerArmed {
			w.timer.Reset(w.opts.SyncInterval)
			w.timerArmed = true
		}
	}
	if err != nil {
		err = w.fail(err)
	}
	if b != nil {
		w.mu.Lock()
		queued := w.cur.waiters
		w.mu.Unlock()
		w.sizer.released(b.waiters + queued)
		b.err = err
		close(b.done)
		if cap(b.buf) <= maxRetainedBuffer {
			w.freeBuf = b.buf[:0]
		}
		b.buf = nil
	}
	return err
}

// writeBatch writes b's frames to the active segment, rotating first whenever the next frame
// would take the segment past SegmentBytes. A frame larger than a segment goes alone into one.
func (w *WAL) writeBatch(b *batch) error {
	buf := b.buf
	if w.active.size+int64(len(buf)) <= w.opts.SegmentBytes {
		return w.writeFrames(buf, b.records, b.lastLSN)
	}
	for len(buf) > 0 {
		room := w.opts.SegmentBytes - w.active.size
		n, records, last := 0, 0, 0
		for n < len(buf) {
			size := frameSize(buf[n:])
			if int64(n+size) > room && (n > 0 || w.active.size > headerSize) {
				break
			}
			last = n
			n += size
			records++
		}
		if n == 0 {
			if err := w.rotate(frameLSN(buf), frameTime(buf)); err != nil {
				return err
			}
			continue
		}
		if err := w.writeFrames(buf[:n], records, frameLSN(buf[last:])); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

// writeFrames appends whole frames to the active segment with one write(2), after extending
// the zero runway ahead of them when they would run past it.
func (w *WAL) writeFrames(p []byte, records int, lastLSN uint64) error {
	if err := w.extendRunway(int64(len(p))); err != nil {
		return err
	}
	if _, err := w.ops.writeAt(w.active.f, p, w.active.size); err != nil {
		return fmt.Errorf("write %s: %w", w.active.path, err)
	}
	w.active.size += int64(len(p))
	w.active.lastLSN = lastLSN
	w.writtenLSN = lastLSN
	w.unsyncedRecords += records
	w.bytes.Add(int64(len(p)))
	return nil
}

// rotate seals the active segment and starts the next one at firstLSN. The old segment is made
// durable first, in every sync mode, so a durable segment never follows a non-durable one.
// pendingSince is the append time of the first record not yet written, for Stats.Lag.
func (w *WAL) rotate(firstLSN uint64, pendingSince int64) error {
	if w.unsyncedRecords > 0 {
		if err := w.syncActive(pendingSince); err != nil {
			return err
		}
	}
	seq := w.active.seq + 1
	f, err := createSegment(w.opts.Dir, seq, firstLSN, w.opts.Space)
	if err != nil {
		return err
	}
	old := w.active
	if old.allocated > old.size {
		// A sealed segment keeps no runway. Readers stop at zeros anyway, so a truncation
		// lost in a crash costs disk space, not records.
		if err := old.f.Truncate(old.size); err != nil {
			w.logger.Warn("wal: trim the unused runway of a sealed segment", "segment", old.path, "err", err)
		}
	}
	if err := old.f.Close(); err != nil {
		// The segment's data is already durable; a failing close only leaks nothing we need.
		w.logger.Warn("wal: close sealed segment", "segment", old.path, "err", err)
	}
	w.segMu.Lock()
	w.sealed = append(w.sealed, old.meta())
	w.segMu.Unlock()
	w.active = activeSegment{f: f, seq: seq, path: segmentPath(w.opts.Dir, seq), firstLSN: firstLSN, lastLSN: firstLSN - 1,
		size: headerSize, allocated: headerSize}
	w.bytes.Add(headerSize)
	w.segments.Add(1)
	return nil
}

// syncActive fdatasyncs the active segment, or has the Committer flush it with other logs'
// files, making every written record durable. Its latency is the time the log waited for
// that, whether the flush was its own or shared. pendingSince becomes the oldest not-durable
// append time (0 when everything taken from appenders is written).
func (w *WAL) syncActive(pendingSince int64) error {
	start := time.Now()
	if err := w.datasyncActive(); err != nil {
		return fmt.Errorf("fdatasync %s: %w", w.active.path, err)
	}
	d := time.Since(start)
	w.sizer.synced(d)
	n := w.unsyncedRecords
	w.unsyncedRecords = 0
	w.durableLSN.Store(w.writtenLSN)
	w.lastSyncNanos.Store(int64(d))
	w.syncs.Add(1)
	w.syncedRecords.Add(uint64(n))
	w.mu.Lock()
	w.unsyncedSince = pendingSince
	w.mu.Unlock()
	if w.opts.OnSync != nil {
		w.opts.OnSync(d, n)
	}
	return nil
}

// datasyncActive makes the active segment's written bytes durable.
func (w *WAL) datasyncActive() error {
	if w.committer == nil {
		return w.ops.datasync(w.active.f)
	}
	w.commitReq.f = w.active.f
	err := w.committer.commit(&w.commitReq)
	w.commitReq.f = nil
	return err
}

// fail records the first write or fdatasync error; from then on the log refuses appends, since
// after a failed fdatasync the kernel may have dropped the dirty pages it could not write.
func (w *WAL) fail(err error) error {
	w.mu.Lock()
	first := w.failed == nil
	if first {
		w.failed = fmt.Errorf("%w: %w", ErrFailed, err)
	}
	failed := w.failed
	w.mu.Unlock()
	if first {
		w.logger.Error("wal: log failed, refusing further appends", "dir", w.opts.Dir, "err", err)
		w.noteDivergence(err)
	}
	return failed
}
