package engine

import (
	"runtime"
	"slices"
	"sync"

	"github.com/engram-go/engram/engine/index"
)

// Shared code scans. While the index lags, every recall ranks the rows it does not hold yet
// by their codes (similar, slab.topKCoded): under sustained ingestion tens of thousands of
// rows, most of a recall's CPU (benchmarks/RESULTS.md, "Recall p99 under ingestion"),
// and concurrent recalls scan the same rows. So they scan them together, in one pass over
// the codes a block of sharedBlock rows at a time: whoever scores a block scores it for
// every scan in progress while the block is in cache. A scan that arrives meanwhile joins
// at the block the pass has reached, goes round with it and is done when the pass comes
// back to where it joined.
//
// The callers are the pass's workers, up to one per CPU (GOMAXPROCS): each takes the next
// block of the pass, scores it and takes another, so a pass uses as many CPUs as the scans
// would alone, rather than a joining caller waiting for one CPU to score every block for
// every scan. Callers beyond that wait to be called in when a worker stops. A worker stops as soon as
// no block of its own scan is left to take, and waits for the blocks of it other workers
// are scoring. A worker scores the rows of its own scan into the caller's index.Int8Scan
// and those of another's into a part of that scan (Int8Scan.Part) it alone writes to;
// the owner merges the parts once every row is scored. Each ranking orders rows by score,
// then row, so the merged one holds the same rows whatever order and whoever scored them:
// the result is the one a scan alone would give.
//
// Invariants, under sharedScans.mu: active holds the scans with rows not scored yet (left
// > 0); a scan's untaken rows are those in no block taken for it yet (left - untaken are
// being scored), and the pass takes a block for a scan only while it has untaken rows,
// which one round of the cursor from where the scan joined uses up, so no row is scored
// twice for one scan; workers is the number of scans with working set, and while a scan
// has untaken rows at least one scan is working.
type sharedScans struct {
	mu      sync.Mutex
	active  []*sharedScan
	workers int
	cursor  int // first row of the next block the pass takes, a multiple of sharedBlock
}

// sharedBlock is the rows a pass scores for every scan before moving on: 192 KiB of codes
// at 768 dimensions, within the L2 cache, so the scans after the first read the block from
// cache. Four scans of 32,768 rows together cost about 2× one scan alone here.
const sharedBlock = 256

// sharedScan is one caller's scan.
type sharedScan struct {
	scan   *index.Int8Scan
	lo, hi int
	// untaken is the rows of [lo, hi) in no block taken for this scan yet, left the rows
	// not scored yet.
	untaken, left int
	// working is set while the caller is one of the pass's workers, or called in to be.
	working bool
	// parts are the rankings other workers scored rows of this scan into.
	parts []scanPart
	// wake is signalled when the scan is done or the caller is called in to work; the
	// caller checks which under the lock.
	wake chan struct{}
}

// scanPart is the ranking one worker keeps for another caller's scan.
type scanPart struct {
	by   *sharedScan // the worker
	scan *index.Int8Scan
}

// scanTask is rows [from, to) of a block, to be scored into into for scan x.
type scanTask struct {
	x        *sharedScan
	into     *index.Int8Scan
	from, to int
}

// scanCodes ranks rows [lo, hi) of s by their codes into scan, in a pass shared with the
// concurrent calls.
func (s *slab) scanCodes(scan *index.Int8Scan, lo, hi int) {
	if lo >= hi {
		return
	}
	sh := &s.shared
	me := &sharedScan{scan: scan, lo: lo, hi: hi, untaken: hi - lo, left: hi - lo, wake: make(chan struct{}, 1)}
	maxWorkers := runtime.GOMAXPROCS(0)
	var tasks []scanTask
	sh.mu.Lock()
	if len(sh.active) == 0 {
		sh.cursor = blockOf(lo)
	}
	sh.active = append(sh.active, me)
	for me.left > 0 {
		if me.untaken == 0 || !me.working && sh.workers >= maxWorkers {
			sh.stopWorking(me, maxWorkers)
			sh.mu.Unlock()
			<-me.wake
			sh.mu.Lock()
			continue
		}
		if !me.working {
			me.working = true
			sh.workers++
		}
		tasks = sh.take(me, tasks[:0])
		sh.mu.Unlock()
		for _, t := range tasks {
			s.scanRows(t.into, t.from, t.to)
		}
		if len(tasks) > 1 {
			// Let other goroutines run between blocks while the pass is shared: with a
			// worker on every CPU the callers whose scans are done would otherwise wait for
			// the scheduler to preempt one (up to 10 ms), start their next scans late and
			// miss the pass under way: with 8 scans on 2 CPUs, 2 scans a block instead of
			// 6.6 (BenchmarkCodeScans). A scan alone does not yield: with a CPU idle the
			// yield moves it from CPU to CPU, 55% more CPU time a scan.
			runtime.Gosched()
		}
		sh.mu.Lock()
		for _, t := range tasks {
			if t.x.left -= t.to - t.from; t.x.left == 0 {
				sh.done(t.x)
			}
		}
		clear(tasks)
	}
	sh.stopWorking(me, maxWorkers)
	sh.mu.Unlock()
	for _, p := range me.parts {
		scan.Merge(p.scan)
	}
}

// take takes the next block of the pass for the worker me and appends its rows for every
// scan that has untaken rows in it to tasks. Caller holds sh.mu, and me has untaken rows.
func (sh *sharedScans) take(me *sharedScan, tasks []scanTask) []scanTask {
	b := sh.block()
	for _, x := range sh.active {
		from, to := max(b, x.lo), min(b+sharedBlock, x.hi)
		if x.untaken == 0 || from >= to {
			continue
		}
		x.untaken -= to - from
		into := x.scan
		if x != me {
			into = x.partBy(me)
		}
		tasks = append(tasks, scanTask{x: x, into: into, from: from, to: to})
	}
	return tasks
}

// block returns the first row of the block to take next and moves the cursor past it,
// wrapping round to the least lo of the scans with untaken rows after their greatest hi.
// Caller holds sh.mu, with a scan with untaken rows in active.
func (sh *sharedScans) block() int {
	lo, hi := -1, -1
	for _, x := range sh.active {
		if x.untaken == 0 {
			continue
		}
		if lo < 0 {
			lo, hi = x.lo, x.hi
		}
		lo, hi = min(lo, x.lo), max(hi, x.hi)
	}
	b := sh.cursor
	if b >= hi || b+sharedBlock <= lo {
		b = blockOf(lo)
	}
	sh.cursor = b + sharedBlock
	return b
}

// partBy returns the part of x the worker w scores into, started on first use. Caller
// holds the pass's lock.
func (x *sharedScan) partBy(w *sharedScan) *index.Int8Scan {
	for _, p := range x.parts {
		if p.by == w {
			return p.scan
		}
	}
	p := scanPart{by: w, scan: x.scan.Part()}
	x.parts = append(x.parts, p)
	return p.scan
}

// done removes x, whose every row is scored, from the pass and wakes its caller. Caller
// holds sh.mu.
func (sh *sharedScans) done(x *sharedScan) {
	for i, y := range sh.active {
		if y == x {
			sh.active = slices.Delete(sh.active, i, i+1)
			break
		}
	}
	x.signal()
}

// stopWorking takes me off the pass's workers, if it is one, and calls in waiting scans
// with untaken rows until the pass has maxWorkers workers again. Caller holds sh.mu.
func (sh *sharedScans) stopWorking(me *sharedScan, maxWorkers int) {
	if !me.working {
		return
	}
	me.working = false
	sh.workers--
	for _, x := range sh.active {
		if sh.workers >= maxWorkers {
			return
		}
		if !x.working && x.untaken > 0 {
			x.working = true
			sh.workers++
			x.signal()
		}
	}
}

// signal wakes x's caller unless a wake is already pending: the caller rereads its state
// under the lock, so one pending wake stands for any number.
func (x *sharedScan) signal() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// blockOf is the first row of row's block.
func blockOf(row int) int { return row - row%sharedBlock }

// scanRows ranks rows [lo, hi) by their codes into scan.
func (s *slab) scanRows(scan *index.Int8Scan, lo, hi int) {
	s.chunkRuns(lo, hi, slabChunkRows, func(first int, ch *slabChunk, off, n int) {
		scan.Scan(ch.codes[off*s.dim:(off+n)*s.dim], ch.scales[off:off+n], n, uint32(first), nil)
	})
}
