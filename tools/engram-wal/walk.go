package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/engram-go/engram/engine/wal"
)

// damage classifies a frame the way recovery treats it.
type damage uint8

const (
	intact     damage = iota
	tornTail          // at the end of the last segment with nothing intact after it: cut off, not an error
	corruption        // anywhere else: dropped, and the segment is rewritten
)

func (d damage) String() string {
	switch d {
	case tornTail:
		return "torn"
	case corruption:
		return "corrupt"
	}
	return "intact"
}

// segmentHeaderSize is the size of a segment header (docs/formats/wal.md).
const segmentHeaderSize = 128

// entry is one item of a log walk: an intact record, a damaged frame or a damaged header.
type entry struct {
	seg    *segment
	frame  wal.Frame // Raw and Payload are valid only during the callback
	header bool      // the damage is the segment header; frame.Raw holds its bytes
	damage damage
	err    error // why the frame is damaged
}

// lsnKnown reports whether a damaged frame's header checked out, so its LSN and type mean something.
func (e *entry) lsnKnown() bool { return !e.header && e.frame.Type != 0 }

// segmentReport summarises one segment after a walk.
type segmentReport struct {
	seg          *segment
	header       wal.SegmentHeader
	headerErr    error
	headerDamage damage // intact when the header is valid
	size         int64
	records      int // intact frames in LSN order
	firstLSN     uint64
	lastLSN      uint64
	firstTime    time.Time
	lastTime     time.Time
	corrupted    int   // damaged frames that are corruption (the header is not counted)
	tornBytes    int64 // bytes of the torn tail, header included when the whole segment is torn
}

// errStopWalk, returned by a walk's callback, ends the walk of that log without error.
var errStopWalk = errors.New("engram-wal: stop walk")

// walkLog reads the segments of l in order and calls fn (if not nil) for every intact record
// and every damaged frame or header, in file order, classified as recovery would.
func walkLog(l *walLog, fn func(*entry) error) ([]segmentReport, error) {
	reports := make([]segmentReport, 0, len(l.segments))
	var prevLast uint64 // the last LSN of the log before the current segment
	for i := range l.segments {
		rep, err := walkSegment(&l.segments[i], prevLast, fn)
		reports = append(reports, rep)
		if errors.Is(err, errStopWalk) {
			return reports, nil
		}
		if err != nil {
			return reports, err
		}
		if l.whole {
			prevLast = rep.lastLSNAfter(prevLast)
		}
	}
	return reports, nil
}

// lastLSNAfter is the last LSN of the log once this segment is read after prev, following
// recovery: an empty segment still vouches for the LSNs below its header's first LSN.
func (r *segmentReport) lastLSNAfter(prev uint64) uint64 {
	switch {
	case r.records > 0:
		return max(prev, r.lastLSN)
	case r.headerDamage == intact && r.header.FirstLSN > 0:
		return max(prev, r.header.FirstLSN-1)
	}
	return prev
}

// segmentWalker classifies the frames of one segment. Damage whose class depends on what
// follows (a damaged header of the last segment, frames whose LSN is not above the previous
// segment's last) is held until an intact frame or the end of the segment decides it.
type segmentWalker struct {
	seg      *segment
	rep      *segmentReport
	prevLast uint64
	fn       func(*entry) error
	held     []entry
}

// walkSegment walks one segment; prevLast is the last LSN of the log before it (0: unknown).
func walkSegment(seg *segment, prevLast uint64, fn func(*entry) error) (segmentReport, error) {
	rep := segmentReport{seg: seg}
	probe, err := probeHeader(seg.path)
	if err != nil {
		return rep, err
	}
	rep.header, rep.headerErr, rep.size = probe.Header, probe.HeaderErr, probe.Size
	if rep.headerErr == nil && seg.seqKnown && rep.header.Seq != seg.seq {
		rep.headerErr = fmt.Errorf("%w: segment header: sequence %d does not match the file name", wal.ErrCorrupt, rep.header.Seq)
	}
	w := &segmentWalker{seg: seg, rep: &rep, prevLast: prevLast, fn: fn}
	if rep.headerErr != nil {
		raw, err := readHead(seg.path)
		if err != nil {
			return rep, err
		}
		e := entry{seg: seg, header: true, frame: wal.Frame{Raw: raw}, err: rep.headerErr}
		if seg.last {
			// A last segment with a bad header and no intact frame was being created when the
			// server stopped: recovery removes it as torn. With an intact frame, it is rebuilt.
			w.hold(e)
		} else if err := w.emit(&e, corruption); err != nil {
			return rep, err
		}
	}
	st, err := wal.ScanSegment(seg.path, w.visit)
	rep.size = st.Size
	if err != nil {
		if errors.Is(err, errStopWalk) {
			return rep, errStopWalk
		}
		var es *exitStatus
		if errors.As(err, &es) {
			return rep, es
		}
		return rep, fmt.Errorf("engram-wal: %w", err)
	}
	if seg.last {
		return rep, w.release(tornTail)
	}
	return rep, w.release(corruption)
}

// visit is the ScanSegment callback.
func (w *segmentWalker) visit(f wal.Frame) error {
	e := entry{seg: w.seg, frame: f, err: f.Err}
	switch {
	case f.Err == nil && f.LSN <= w.prevLast:
		e.err = fmt.Errorf("%w at offset %d: LSN %d is not above %d, the last LSN of the segments before",
			wal.ErrCorrupt, f.Offset, f.LSN, w.prevLast)
		w.hold(e)
		return nil
	case f.Err == nil:
		if err := w.release(corruption); err != nil {
			return err
		}
		return w.emit(&e, intact)
	case len(w.held) > 0:
		w.hold(e)
		return nil
	case errors.Is(f.Err, wal.ErrTorn) && w.seg.last:
		return w.emit(&e, tornTail)
	}
	return w.emit(&e, corruption)
}

// hold keeps a copy of e until its class is known.
func (w *segmentWalker) hold(e entry) {
	e.frame.Raw = append([]byte(nil), e.frame.Raw...)
	e.frame.Payload = nil
	w.held = append(w.held, e)
}

// release emits the held entries as d.
func (w *segmentWalker) release(d damage) error {
	held := w.held
	w.held = nil
	for i := range held {
		if err := w.emit(&held[i], d); err != nil {
			return err
		}
	}
	return nil
}

// emit accounts e as d in the segment report and passes it on.
func (w *segmentWalker) emit(e *entry, d damage) error {
	e.damage = d
	r := w.rep
	switch {
	case d == intact:
		if r.records == 0 {
			r.firstLSN, r.firstTime = e.frame.LSN, e.frame.Time
		}
		r.records++
		r.lastLSN, r.lastTime = e.frame.LSN, e.frame.Time
	case e.header:
		r.headerDamage = d
		if d == tornTail {
			r.tornBytes += int64(len(e.frame.Raw))
		}
	case d == tornTail:
		r.tornBytes += int64(len(e.frame.Raw))
	default:
		r.corrupted++
	}
	if w.fn == nil {
		return nil
	}
	return w.fn(e)
}

// readHead returns the first bytes of a file, up to a segment header's size.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("engram-wal: %w", err)
	}
	defer f.Close()
	buf := make([]byte, segmentHeaderSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("engram-wal: read %s: %w", path, err)
	}
	return buf[:n], nil
}
