package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/engram-go/engram/engine/wal"
)

// entry is one item of a log walk: an intact record, a damaged frame or a damaged header,
// classified by wal.VerifySegment as recovery treats it.
type entry struct {
	seg    *segment
	frame  wal.Frame // Raw and Payload are valid only during the callback
	header bool      // the damage is the segment header; frame.Raw holds its bytes
	damage wal.Damage
	err    error // why the frame is damaged
}

// lsnKnown reports whether a damaged frame's header checked out, so its LSN and type mean something.
func (e *entry) lsnKnown() bool { return !e.header && e.frame.Type != 0 }

// segmentReport summarises one segment after a walk.
type segmentReport struct {
	seg          *segment
	header       wal.SegmentHeader
	headerErr    error
	headerDamage wal.Damage // wal.Intact when the header is valid
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
	case r.headerDamage == wal.Intact && r.header.FirstLSN > 0:
		return max(prev, r.header.FirstLSN-1)
	}
	return prev
}

// walkSegment walks one segment; prevLast is the last LSN of the log before it (0: unknown).
func walkSegment(seg *segment, prevLast uint64, fn func(*entry) error) (segmentReport, error) {
	place := wal.SegmentPlace{Seq: seg.seq, SeqKnown: seg.seqKnown, PrevLSN: prevLast, Last: seg.last}
	st, err := wal.VerifySegment(seg.path, place, func(v *wal.Verified) error {
		if fn == nil {
			return nil
		}
		return fn(&entry{seg: seg, frame: v.Frame, header: v.Header, damage: v.Damage, err: v.Err})
	})
	rep := segmentReport{seg: seg, header: st.Header, headerErr: st.HeaderErr, headerDamage: st.HeaderDamage,
		size: st.Size, records: st.Records, firstLSN: st.FirstLSN, lastLSN: st.LastLSN,
		firstTime: st.FirstTime, lastTime: st.LastTime, corrupted: st.Corrupted, tornBytes: st.TornBytes}
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
	return rep, nil
}
