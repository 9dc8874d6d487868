package wal

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Committer makes the appended records of several logs durable together: one shared flush for
// the SyncAlways logs of a node, instead of one fdatasync per log.
//
// Each space has its own log, and a group commit can only share an fdatasync among writers
// of the same log: 64 writers spread over 1,000 spaces would share almost none, and the disk
// allows a few thousand flushes a second. With a Committer, the holder of a log's lead
// (lead.go: the appender writing the log's batch) writes the batch as before and then
// hands the file to the Committer instead of fdatasyncing it. A lead that finds no flush
// in flight flushes its own file at once; logs that arrive while a flush is in flight queue
// up, and one goroutine flushes the queue in rounds while files keep arriving, releasing
// all of a round's logs together. On Linux a round of files on one filesystem is one
// syncfs(2) (datasync_linux.go): a single writeback and journal commit for all of them,
// measured on the development machine at a fifth of the CPU and a third of the latency of
// as many concurrent fdatasyncs (benchmarks/RESULTS.md). A round of one file is that
// file's fdatasync, as without a Committer, and elsewhere, or when syncfs fails, each
// file of the round gets its own fdatasync, issued concurrently.
//
// Invariants:
//
//   - A log's records are acknowledged only after a flush that started after they were
//     written covered its file: a log queues only once its write(2) has returned, and a
//     round takes only files queued before it starts.
//   - Errors reach only the writers of the file that failed. syncfs reports a writeback error
//     of any file of the filesystem (including files that are no logs), so a failed syncfs is
//     never passed on: every file of the round is fdatasync'ed on its own instead, and each
//     log gets its own file's outcome (the kernel reports a writeback error to every open
//     file description of the file that has not seen it yet, so a failure syncfs consumed is
//     still reported to that file's fdatasync).
//   - A lone log never waits for others: with no flush in flight its lead flushes its own
//     file at once, in its own goroutine.
//   - A round's cost is mostly fixed (a journal commit and a device cache flush), so rounds
//     follow each other without a hand-off: the goroutine that ends one starts the next. It
//     takes every file queued during the last flush and waits, for at most the mean round
//     time after it, for the logs that round released to queue again (gather), counting
//     only logs whose batch released an appender that comes back at once (not one of
//     Options.Background's record types: waiting for the engine's edge lanes, which return
//     only at their next wake-up, ran over half of the waits at 1,000 spaces out to the
//     bound; benchmarks/RESULTS.md, "Waiting only for writers that come back"). Handing the
//     next round to a queued lead that had to be scheduled first, and waiting from the first
//     file's arrival for half the recent peak, left the disk idle for 1.5 ms of every 2.9 ms
//     at 1,000 spaces (benchmarks/RESULTS.md, "Shared rounds without gaps").
//   - Only logs opened with SyncAlways use the Committer; SyncInterval and SyncNever logs keep
//     their own fdatasyncs, so they never wait for the others' flushes.
//
// A Committer's goroutine (run) exists only while files wait: it starts when a lead flushing
// alone finds files queued behind it and ends with the first round after which none are. The
// Committer holds one open folder per filesystem that has open logs (the last log's Close,
// or the Committer's, releases it). Its methods are safe for concurrent use.
type Committer struct {
	syncfs func(f *os.File) error // syncfs of f's filesystem; tests replace it

	mu        sync.Mutex
	busy      bool              // a round is flushing, or run is about to flush the queue
	queue     []*commitRequest  // files waiting for the next round
	returning int               // files of queue whose batch had an appender that comes back (Options.Background)
	spare     []*commitRequest  // the last round's slice, recycled
	lone      [1]*commitRequest // the round of a caller that found the Committer idle
	want      int               // while run gathers: the count of returning that wakes it
	full      chan struct{}     // capacity 1: returning reached want
	meanRound time.Duration     // exponential mean of shared rounds' flush time

	devMu  sync.Mutex
	devs   map[uint64]*devFolder // per filesystem with registered logs, the folder syncfs is called on
	closed bool                  // Close ran: registering logs flush alone

	rounds       atomic.Uint64
	files        atomic.Uint64
	sharedRounds atomic.Uint64
	fallbacks    atomic.Uint64
	flushNanos   atomic.Int64
}

// CommitterStats counts a Committer's flushes.
type CommitterStats struct {
	Rounds       uint64        // flushes led
	Files        uint64        // files made durable by them; Files/Rounds = logs per flush
	SharedRounds uint64        // rounds that covered more than one file
	Fallbacks    uint64        // shared rounds whose syncfs failed or was unavailable, done file by file
	FlushTime    time.Duration // time spent in the rounds' flushes (syncfs or fdatasyncs)
}

// commitRequest is one log's file waiting for a round. Each log owns one, reused by its
// lead, which has at most one request in flight.
type commitRequest struct {
	f        *os.File
	dev      uint64 // filesystem of f (0 where unknown)
	datasync func(*os.File) error
	err      error
	// returning: the batch being flushed released an appender that comes back, i.e. a
	// record of a type Options.Background does not name.
	returning bool
	wake      chan struct{} // capacity 1: the round covering f is over, err is set
}

// NewCommitter returns a Committer for logs opened with Options.Committer set to it.
func NewCommitter() *Committer {
	return &Committer{syncfs: syncfs, full: make(chan struct{}, 1)}
}

// devFolder is the open folder of one filesystem and the number of open logs on it.
type devFolder struct {
	f    *os.File
	logs int
}

// register notes an opened log's folder and returns the filesystem it is on. The first log
// of each filesystem opens its folder for the Committer's syncfs calls: the kernel reports a
// writeback error to an open file only if it happened after the open, so the file syncfs is
// called on must have been open before any record it covers was written. (Calling it on a
// log's segment, opened later than other logs' writes, could miss their errors.) Every
// register is matched by an unregister when the log closes; the last one of a filesystem
// closes its folder, so a Committer holds nothing open for logs that are gone.
func (c *Committer) register(dir string) (uint64, error) {
	dev, err := deviceOf(dir)
	if err != nil {
		return 0, err
	}
	c.devMu.Lock()
	defer c.devMu.Unlock()
	if c.closed || !haveSyncfs {
		return dev, nil
	}
	if d, ok := c.devs[dev]; ok {
		d.logs++
		return dev, nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	if c.devs == nil {
		c.devs = map[uint64]*devFolder{}
	}
	c.devs[dev] = &devFolder{f: f, logs: 1}
	return dev, nil
}

// unregister notes that a log of filesystem dev closed. Its last flush is over, so no
// round holds its file; rounds of the filesystem's other logs keep the folder open.
func (c *Committer) unregister(dev uint64) error {
	c.devMu.Lock()
	defer c.devMu.Unlock()
	d, ok := c.devs[dev]
	if !ok {
		return nil // registered after Close, or where there is no syncfs
	}
	if d.logs--; d.logs > 0 {
		return nil
	}
	delete(c.devs, dev)
	return d.f.Close()
}

// syncfsFile returns the open folder of filesystem dev, or nil.
func (c *Committer) syncfsFile(dev uint64) *os.File {
	c.devMu.Lock()
	defer c.devMu.Unlock()
	if d, ok := c.devs[dev]; ok {
		return d.f
	}
	return nil
}

// Close releases the folders the Committer holds open. Logs still using it afterwards, and
// logs opened afterwards, flush each file with its own fdatasync.
func (c *Committer) Close() error {
	c.devMu.Lock()
	defer c.devMu.Unlock()
	var errs []error
	for _, d := range c.devs {
		errs = append(errs, d.f.Close())
	}
	c.devs = nil
	c.closed = true
	return errors.Join(errs...)
}

// Stats returns the Committer's counters.
func (c *Committer) Stats() CommitterStats {
	return CommitterStats{
		Rounds:       c.rounds.Load(),
		Files:        c.files.Load(),
		SharedRounds: c.sharedRounds.Load(),
		Fallbacks:    c.fallbacks.Load(),
		FlushTime:    time.Duration(c.flushNanos.Load()),
	}
}

// commit returns once r.f was made durable by a round that started after the call, with the
// outcome for r.f alone.
func (c *Committer) commit(r *commitRequest) error {
	r.err = nil
	c.mu.Lock()
	if !c.busy {
		c.busy = true
		c.mu.Unlock()
		c.round(c.own(r))
		c.next()
		return r.err
	}
	c.queue = append(c.queue, r)
	if r.returning {
		c.returning++
	}
	if c.want > 0 && c.returning >= c.want {
		c.want = 0
		select {
		case c.full <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	<-r.wake
	return r.err
}

// own is the round of r's file alone, in the caller's slice of one.
func (c *Committer) own(r *commitRequest) []*commitRequest {
	c.lone[0] = r
	return c.lone[:]
}

// next ends the caller's round: with files queued meanwhile, a goroutine flushes them
// (run), else the Committer is idle.
func (c *Committer) next() {
	c.lone[0] = nil
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.busy = false
		return
	}
	go c.run()
}

// run flushes the queued files in rounds while any are queued: each round takes every file
// queued while the previous one flushed, plus those its released logs queue again within
// the mean round time (gather), and releases all of its logs at once. It ends, leaving the
// Committer idle, when a round ends with nothing queued.
func (c *Committer) run() {
	expect, ended := 0, time.Time{}
	for {
		c.gather(expect, ended)
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.busy = false
			c.mu.Unlock()
			return
		}
		round := c.queue
		c.queue = c.spare
		c.spare = nil
		inRound := c.returning
		c.returning = 0
		c.mu.Unlock()

		d := c.round(round)
		for _, r := range round {
			r.wake <- struct{}{}
		}
		clear(round)
		c.mu.Lock()
		c.spare = round[:0]
		c.meanRound += (d - c.meanRound) / 8
		expect = inRound + c.returning
		c.mu.Unlock()
		ended = time.Now()
	}
}

// gather waits, after a round ended, until as many returning files (commitRequest.returning)
// are queued as there were in flight at its end (the round's and those queued meanwhile),
// for at most the mean round time after the end. A round's cost is mostly fixed, so when
// the writers a round released come back within a round's time, one round of all of them
// (a writer's cycle: one round and its own computing) beats two alternating halves (two
// rounds); when they come back slower than that, the round starts without them, as it
// would have without waiting.
func (c *Committer) gather(expect int, ended time.Time) {
	c.mu.Lock()
	if expect <= 1 || c.returning >= expect || c.meanRound <= 0 {
		c.mu.Unlock()
		return
	}
	deadline := ended.Add(c.meanRound)
	c.want = expect
	select {
	case <-c.full: // left by a queue that reached the last gather's want as it ended
	default:
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.want = 0
		c.mu.Unlock()
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.full:
	case <-t.C:
	}
}

// round flushes the files of one round and counts it.
func (c *Committer) round(files []*commitRequest) time.Duration {
	start := time.Now()
	c.flush(files)
	d := time.Since(start)
	c.flushNanos.Add(int64(d))
	c.rounds.Add(1)
	c.files.Add(uint64(len(files)))
	if len(files) > 1 {
		c.sharedRounds.Add(1)
	}
	return d
}

// flush makes every file of round durable and sets each request's err.
func (c *Committer) flush(round []*commitRequest) {
	if len(round) == 1 {
		r := round[0]
		r.err = r.datasync(r.f)
		return
	}
	// Rounds almost always hold files of one filesystem; group them only when they do not.
	for i := 1; i < len(round); i++ {
		if round[i].dev != round[0].dev {
			c.flushByDevice(round)
			return
		}
	}
	c.flushShared(round)
}

// flushByDevice flushes the files of each filesystem of round together.
func (c *Committer) flushByDevice(round []*commitRequest) {
	groups := map[uint64][]*commitRequest{}
	for _, r := range round {
		groups[r.dev] = append(groups[r.dev], r)
	}
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Go(func() { c.flush(g) })
	}
	wg.Wait()
}

// flushShared flushes files of one filesystem: one syncfs, or each file's fdatasync when
// syncfs is unavailable or reports an error (which may belong to any file of the filesystem).
func (c *Committer) flushShared(files []*commitRequest) {
	if f := c.syncfsFile(files[0].dev); f != nil && c.syncfs(f) == nil {
		for _, r := range files {
			r.err = nil
		}
		return
	}
	c.fallbacks.Add(1)
	datasyncEach(files)
}

// datasyncEach fdatasyncs every file at once, so the device sees their flushes together.
func datasyncEach(files []*commitRequest) {
	var wg sync.WaitGroup
	for _, r := range files[1:] {
		wg.Go(func() { r.err = r.datasync(r.f) })
	}
	files[0].err = files[0].datasync(files[0].f)
	wg.Wait()
}
