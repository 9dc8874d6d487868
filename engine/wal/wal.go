package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram-go/engram/internal/durable"
)

// RecordType identifies a record's payload encoding. Values 1..255 belong to the caller; 0 is
// reserved and rejected.
type RecordType uint8

// Entry is a record to append.
type Entry struct {
	Type    RecordType
	Payload []byte // copied by Append; the caller may reuse it as soon as Append returns
}

// Record is a recovered record handed to the replay callback of Open.
type Record struct {
	LSN     uint64
	Type    RecordType
	Payload []byte    // valid only during the callback: it aliases a reused read buffer, copy to keep
	Time    time.Time // when the record was appended (writer's wall clock)
}

// Stats is a snapshot of a WAL's state and counters.
type Stats struct {
	LastLSN, DurableLSN uint64
	Lag                 time.Duration // age of the oldest appended-but-not-yet-durable record; 0 when caught up
	LastSync            time.Duration // latency of the last fdatasync
	Syncs               uint64
	SyncedRecords       uint64 // records made durable; SyncedRecords/Syncs = records per fsync
	Bytes               int64  // total bytes of live segments
	Segments            int
}

// fileOps are the two file operations the append path depends on; tests replace them to inject
// failures.
type fileOps struct {
	writeAt  func(f *os.File, p []byte, off int64) (int, error)
	datasync func(f *os.File) error
}

func osFileOps() fileOps {
	return fileOps{writeAt: (*os.File).WriteAt, datasync: datasync}
}

// WAL is an open write-ahead log. Its methods are safe for concurrent use.
type WAL struct {
	opts   Options
	logger *slog.Logger
	ops    fileOps

	mu            sync.Mutex
	cur           *batch // records appended and not yet taken by the lead
	nextLSN       uint64
	unsyncedSince int64 // append time (unix ns) of the oldest record taken by the lead and not yet durable
	closed        bool
	failed        error       // wraps ErrFailed once a write or fdatasync failed
	gathering     int         // while the lead lets cur fill (group.go): the waiters that wake it
	leading       bool        // a caller holds the lead (lead.go); from Close's final flush on, for good
	stopped       bool        // Close has written and closed the log
	handoff       []chan bool // Sync, Close and timer calls queued for the lead: true = take it, false = stopped

	kick    chan struct{} // capacity 1: "cur reached gathering"
	promote chan struct{} // capacity 1: the lead, handed to a waiter (handOff)
	closing chan struct{} // closed by Close: a gathering lead stops waiting

	// Owned by the holder of the lead (and by open before any append).
	active          activeSegment
	freeBuf         []byte      // the buffer of the last written batch, recycled for the next
	writtenLSN      uint64      // last LSN handed to write(2)
	unsyncedRecords int         // records written since the last fdatasync
	timer           *time.Timer // SyncInterval: runs intervalSync
	timerArmed      bool
	sizer           groupSizer
	gatherTimer     *time.Timer
	committer       *Committer    // shared flushes (SyncAlways only), or nil
	commitReq       commitRequest // this log's request to committer

	segMu  sync.Mutex
	sealed []segmentMeta // segments before the active one, oldest first

	durableLSN    atomic.Uint64
	lastSyncNanos atomic.Int64
	syncs         atomic.Uint64
	syncedRecords atomic.Uint64
	bytes         atomic.Int64
	segments      atomic.Int64
}

// activeSegment is the segment appends go to.
type activeSegment struct {
	f        *os.File
	seq      uint64
	path     string
	firstLSN uint64
	lastLSN  uint64
	size     int64 // end of the last frame written: where the next one goes
	// allocated is the file's length: size plus the zeros written ahead of the frames
	// (runway.go).
	allocated int64
}

func (a *activeSegment) meta() segmentMeta {
	return segmentMeta{seq: a.seq, path: a.path, firstLSN: a.firstLSN, lastLSN: a.lastLSN, size: a.size}
}

// Open recovers the log in opts.Dir, calling replay for every intact record with LSN > afterLSN
// in LSN order, then returns a WAL ready for appends. LSNs continue after the highest of the last
// recovered LSN and afterLSN, so they never go backwards relative to a checkpoint. Damaged data
// does not make Open fail (see the package doc); a replay error, or an I/O error, does.
// replay may be nil.
func Open(opts Options, afterLSN uint64, replay func(Record) error) (*WAL, RecoveryStats, error) {
	return open(opts, afterLSN, replay, osFileOps())
}

func open(opts Options, afterLSN uint64, replay func(Record) error, ops fileOps) (*WAL, RecoveryStats, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, RecoveryStats{}, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, RecoveryStats{}, fmt.Errorf("wal: %w", err)
	}
	if err := removeTemps(opts.Dir); err != nil {
		return nil, RecoveryStats{}, err
	}
	files, err := listSegmentFiles(opts.Dir)
	if err != nil {
		return nil, RecoveryStats{}, err
	}
	replayed := 0
	emit := func(f Frame) error {
		if f.LSN <= afterLSN || replay == nil {
			return nil
		}
		replayed++
		if err := replay(Record{LSN: f.LSN, Type: f.Type, Payload: f.Payload, Time: f.Time}); err != nil {
			return fmt.Errorf("wal: replay LSN %d: %w", f.LSN, err)
		}
		return nil
	}
	lr, err := recoverLog(files, afterLSN, opts.Space, opts.Logger, emit, applyInPlace)
	lr.stats.Records = replayed
	if err != nil {
		return nil, lr.stats, err
	}

	w := &WAL{
		opts:    opts,
		logger:  opts.Logger,
		ops:     ops,
		kick:    make(chan struct{}, 1),
		promote: make(chan struct{}, 1),
		closing: make(chan struct{}),
		cur:     newBatch(nil),
	}
	last := max(lr.stats.LastLSN, afterLSN)
	if len(lr.live) > 0 && lr.lastHead > 0 {
		last = max(last, lr.lastHead-1)
	}
	w.nextLSN = last + 1
	if err := w.openActive(lr); err != nil {
		return nil, lr.stats, err
	}
	w.writtenLSN = last
	w.durableLSN.Store(last)
	var total int64
	for _, m := range w.sealed {
		total += m.size
	}
	w.bytes.Store(total + w.active.size)
	w.segments.Store(int64(len(w.sealed) + 1))
	lr.stats.Segments = len(w.sealed) + 1
	if opts.Sync == SyncInterval {
		w.timer = time.AfterFunc(time.Hour, w.intervalSync)
		w.timer.Stop()
	}
	w.gatherTimer = time.NewTimer(time.Hour)
	w.gatherTimer.Stop()
	if opts.Committer != nil && opts.Sync == SyncAlways {
		w.committer = opts.Committer
		dev, err := opts.Committer.register(opts.Dir)
		if err != nil {
			w.active.f.Close()
			return nil, lr.stats, fmt.Errorf("wal: %w", err)
		}
		w.commitReq = commitRequest{dev: dev, datasync: ops.datasync, wake: make(chan struct{}, 1)}
	}
	return w, lr.stats, nil
}

// openActive opens the last live segment for appending, or creates the first one. Either way
// its contents are fdatasync'ed, so everything recovered is durable before new appends.
func (w *WAL) openActive(lr logRecovery) error {
	live := lr.live
	if len(live) == 0 {
		f, err := createSegment(w.opts.Dir, lr.lastSeq+1, w.nextLSN, w.opts.Space)
		if err != nil {
			return err
		}
		w.active = activeSegment{f: f, seq: lr.lastSeq + 1, path: filepath.Join(w.opts.Dir, SegmentName(lr.lastSeq+1)),
			firstLSN: w.nextLSN, lastLSN: w.nextLSN - 1, size: headerSize, allocated: headerSize}
		return nil
	}
	m := live[len(live)-1]
	f, err := os.OpenFile(m.path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("wal: open active segment: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return errors.Join(fmt.Errorf("wal: open active segment: %w", err), f.Close())
	}
	if err := w.ops.datasync(f); err != nil {
		return errors.Join(fmt.Errorf("wal: sync active segment %s: %w", m.path, err), f.Close())
	}
	// Recovery found only zeros past m.size (an unused runway) or cut the file there.
	w.active = activeSegment{f: f, seq: m.seq, path: m.path, firstLSN: m.firstLSN, lastLSN: m.lastLSN, size: m.size,
		allocated: max(m.size, fi.Size())}
	w.sealed = live[:len(live)-1]
	return nil
}

// checkEntry rejects entries that cannot be written.
func checkEntry(e Entry) error {
	if e.Type == 0 {
		return fmt.Errorf("%w: record type 0 is reserved", ErrInvalidRecord)
	}
	if len(e.Payload) > MaxPayloadBytes {
		return fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrInvalidRecord, len(e.Payload), MaxPayloadBytes)
	}
	return nil
}

// refuseLocked returns why the log takes no appends, or nil. w.mu must be held.
func (w *WAL) refuseLocked() error {
	if w.closed {
		return ErrClosed
	}
	return w.failed
}

// Append writes one record and returns its LSN once the record is as durable as the sync mode
// promises: on disk for SyncAlways, in the operating system for the other modes.
func (w *WAL) Append(e Entry) (lsn uint64, err error) {
	if err := checkEntry(e); err != nil {
		return 0, err
	}
	w.mu.Lock()
	if err := w.refuseLocked(); err != nil {
		w.mu.Unlock()
		return 0, err
	}
	lsn = w.nextLSN
	b := w.addLocked(e, time.Now().UnixNano())
	b.waiters++
	lead := w.joinLocked(b)
	w.mu.Unlock()
	if err := w.await(b, lead); err != nil {
		return 0, err
	}
	return lsn, nil
}

// AppendBatch writes es as records with consecutive LSNs, committed together (one write and, for
// SyncAlways, one fdatasync shared with concurrent appenders), and returns the first LSN. An
// empty batch writes nothing and returns 0.
func (w *WAL) AppendBatch(es []Entry) (firstLSN uint64, err error) {
	if len(es) == 0 {
		return 0, nil
	}
	for _, e := range es {
		if err := checkEntry(e); err != nil {
			return 0, err
		}
	}
	w.mu.Lock()
	if err := w.refuseLocked(); err != nil {
		w.mu.Unlock()
		return 0, err
	}
	firstLSN = w.nextLSN
	now := time.Now().UnixNano()
	var b *batch
	for _, e := range es {
		b = w.addLocked(e, now)
	}
	b.waiters++
	lead := w.joinLocked(b)
	w.mu.Unlock()
	if err := w.await(b, lead); err != nil {
		return 0, err
	}
	return firstLSN, nil
}

// addLocked assigns the next LSN to e and encodes it into the current batch. w.mu must be held.
func (w *WAL) addLocked(e Entry, now int64) *batch {
	b := w.cur
	if b.records == 0 {
		b.firstTime = now
	}
	b.buf = appendFrame(b.buf, w.nextLSN, e.Type, now, e.Payload)
	b.records++
	if !b.returning && (w.opts.Background == nil || !w.opts.Background(e.Type)) {
		b.returning = true
	}
	b.lastLSN = w.nextLSN
	w.nextLSN++
	return b
}

// Sync writes and fdatasyncs everything appended before the call.
func (w *WAL) Sync() error {
	w.mu.Lock()
	err := w.refuseLocked()
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return w.syncNow()
}

// Stats returns a snapshot of the log's counters.
func (w *WAL) Stats() Stats {
	w.mu.Lock()
	last := w.nextLSN - 1
	oldest := w.unsyncedSince
	if w.cur.records > 0 && (oldest == 0 || w.cur.firstTime < oldest) {
		oldest = w.cur.firstTime
	}
	w.mu.Unlock()
	s := Stats{
		LastLSN:       last,
		DurableLSN:    w.durableLSN.Load(),
		LastSync:      time.Duration(w.lastSyncNanos.Load()),
		Syncs:         w.syncs.Load(),
		SyncedRecords: w.syncedRecords.Load(),
		Bytes:         w.bytes.Load(),
		Segments:      int(w.segments.Load()),
	}
	if oldest != 0 {
		s.Lag = max(0, time.Duration(time.Now().UnixNano()-oldest))
	}
	return s
}

// TruncateBefore deletes the oldest segments whose records all have LSNs below lsn (typically
// the LSN a checkpoint covers, plus one). The active segment is never deleted.
func (w *WAL) TruncateBefore(lsn uint64) error {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	w.segMu.Lock()
	defer w.segMu.Unlock()
	removed := 0
	var err error
	for _, m := range w.sealed {
		if m.lastLSN >= lsn {
			break
		}
		// Oldest first, so an interruption leaves a contiguous suffix of the log.
		if rerr := os.Remove(m.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("wal: remove segment: %w", rerr)
			break
		}
		removed++
		w.bytes.Add(-m.size)
		w.segments.Add(-1)
	}
	if removed == 0 {
		return err
	}
	w.sealed = append(w.sealed[:0], w.sealed[removed:]...)
	return errors.Join(err, durable.SyncDir(w.opts.Dir))
}

// Close writes and fdatasyncs everything appended, then closes the log. Appends after Close
// return ErrClosed. If the log had failed, Close returns that failure.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	close(w.closing)
	err := w.stop()
	if w.committer != nil {
		if err := w.committer.unregister(w.commitReq.dev); err != nil {
			w.logger.Warn("wal: close the committer's folder", "dir", w.opts.Dir, "err", err)
		}
	}
	return err
}
