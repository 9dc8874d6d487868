package engine

import (
	"sync"

	"github.com/engram-go/engram/engine/index"
)

// Shared code scans. While the index lags, every recall ranks the rows it does not hold yet
// by their codes (similar, slab.topKCoded): under sustained ingestion tens of thousands of
// rows, most of a recall's CPU (benchmarks/RESULTS.md, "Recall p99 under ingestion"),
// and concurrent recalls scan the same rows. So they scan them together: the
// first to arrive leads a pass over the codes, a block of sharedBlock rows at a time, and
// scores each block for every scan in progress while the block is in cache; a scan that
// arrives meanwhile joins at the block the pass has reached, goes round with it and is
// done when the pass comes back to where it joined. Each scan keeps its own ranking
// (index.Int8Scan), which orders rows by score, then row, so it holds the same rows
// whatever order they were scored in: the result is the one a scan alone would give.
// A leader whose own scan is done hands the pass to a scan still going and returns.
//
// The pass covers the union of the scans' ranges; rows every scan in progress has no use
// for are skipped. Invariant, under sharedScans.mu: every scan in active has its rows
// [lo, hi) within the pass's bounds (the least lo, the greatest hi of active), and left is
// the number of them not scored yet.
type sharedScans struct {
	mu      sync.Mutex
	active  []*sharedScan
	batch   []*sharedScan // the leader's copy of active for one block
	leading bool
	cursor  int // first row of the next block the pass scores, a multiple of sharedBlock
}

// sharedBlock is the rows a pass scores for every scan before moving on: 192 KiB of codes
// at 768 dimensions, within the L2 cache, so the scans after the first read the block from
// cache. Four scans of 32,768 rows together cost 1.9× one scan alone here.
const sharedBlock = 256

// sharedScan is one caller's scan.
type sharedScan struct {
	scan   *index.Int8Scan
	lo, hi int
	left   int
	// wake is signalled once the scan is done, or when it is handed the pass to lead.
	wake chan struct{}
}

// scanCodes ranks rows [lo, hi) of s by their codes into scan, in a pass shared with the
// concurrent calls.
func (s *slab) scanCodes(scan *index.Int8Scan, lo, hi int) {
	if lo >= hi {
		return
	}
	sh := &s.shared
	me := &sharedScan{scan: scan, lo: lo, hi: hi, left: hi - lo, wake: make(chan struct{}, 1)}
	sh.mu.Lock()
	if len(sh.active) == 0 {
		sh.cursor = blockOf(lo)
	}
	sh.active = append(sh.active, me)
	if sh.leading {
		sh.mu.Unlock()
		<-me.wake
		sh.mu.Lock()
		if me.left == 0 {
			sh.mu.Unlock()
			return
		}
		// Handed the pass: sh.leading stays set.
	}
	sh.leading = true
	for me.left > 0 {
		b := sh.block()
		sh.batch = append(sh.batch[:0], sh.active...)
		batch := sh.batch
		sh.mu.Unlock()
		for _, x := range batch {
			if from, to := max(b, x.lo), min(b+sharedBlock, x.hi); from < to {
				s.scanRows(x.scan, from, to)
			}
		}
		sh.mu.Lock()
		for _, x := range batch {
			if from, to := max(b, x.lo), min(b+sharedBlock, x.hi); from < to {
				x.left -= to - from
			}
		}
		keep := sh.active[:0]
		for _, x := range sh.active {
			switch {
			case x.left > 0:
				keep = append(keep, x)
			case x != me:
				x.wake <- struct{}{}
			}
		}
		clear(sh.active[len(keep):])
		sh.active = keep
		clear(batch)
	}
	if len(sh.active) > 0 {
		sh.active[0].wake <- struct{}{} // it leads on
	} else {
		sh.leading = false
	}
	sh.mu.Unlock()
}

// block returns the first row of the block to score next and moves the cursor past it,
// wrapping round to the least lo of the scans in progress after the greatest hi. Caller
// holds sh.mu, with a scan in progress.
func (sh *sharedScans) block() int {
	lo, hi := sh.active[0].lo, sh.active[0].hi
	for _, x := range sh.active[1:] {
		lo, hi = min(lo, x.lo), max(hi, x.hi)
	}
	b := sh.cursor
	if b >= hi || b+sharedBlock <= lo {
		b = blockOf(lo)
	}
	sh.cursor = b + sharedBlock
	return b
}

// blockOf is the first row of row's block.
func blockOf(row int) int { return row - row%sharedBlock }

// scanRows ranks rows [lo, hi) by their codes into scan.
func (s *slab) scanRows(scan *index.Int8Scan, lo, hi int) {
	s.chunkRuns(lo, hi, slabChunkRows, func(first int, ch *slabChunk, off, n int) {
		scan.Scan(ch.codes[off*s.dim:(off+n)*s.dim], ch.scales[off:off+n], n, uint32(first), nil)
	})
}
