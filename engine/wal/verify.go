package wal

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Damage is how recovery treats a frame or a segment header.
type Damage uint8

const (
	Intact Damage = iota
	// TornTail is damage at the end of the log's last segment with nothing intact after it:
	// an append the crash interrupted. Recovery cuts it off; it is not an error.
	TornTail
	// Corrupt is damage anywhere else: recovery drops it and rewrites the segment without it.
	Corrupt
)

// String names the class as engram-wal prints it.
func (d Damage) String() string {
	switch d {
	case TornTail:
		return "torn"
	case Corrupt:
		return "corrupt"
	}
	return "intact"
}

// SegmentPlace says where a segment stands in its log, which decides how its damage is treated.
type SegmentPlace struct {
	Seq      uint64 // the sequence in the file name, which the header must repeat
	SeqKnown bool   // false for a file whose name encodes no sequence: the header's is not checked
	PrevLSN  uint64 // last LSN of the log before this segment; 0 when unknown
	Last     bool   // the log's last segment, where appends continue
}

// Verified is one item of VerifySegment: an intact record, a damaged frame or a damaged header.
type Verified struct {
	// Frame is the record or the damaged frame. For a damaged header, Raw holds the header's
	// bytes (up to the header size) and Err why it does not decode; Offset is 0.
	Frame
	Header bool
	Damage Damage
}

// VerifyStats summarises one verified segment.
type VerifyStats struct {
	Header       SegmentHeader
	HeaderErr    error  // non-nil when the header is short, damaged or names another sequence
	HeaderDamage Damage // Intact when the header is valid
	Size         int64  // file size
	GoodEnd      int64  // end of the last intact frame (the header size if there is none)
	Records      int    // intact records
	FirstLSN     uint64
	LastLSN      uint64
	FirstTime    time.Time
	LastTime     time.Time
	Corrupted    int   // damaged frames that are corruption (a damaged header is not counted)
	TornBytes    int64 // bytes of the torn tail, header included when the whole segment is torn
}

// VerifySegment reads the segment file at path and calls fn for a damaged header and for every
// intact record and damaged frame, in file order, classified as Open's recovery treats them
// when the segment stands at place in its log. Frames whose LSN is not above place.PrevLSN are
// damage. Damage whose class depends on what follows (a damaged header of the last segment,
// frames below PrevLSN) is passed to fn once an intact frame or the end of the segment decides
// it; such items hold copies of their bytes. A non-nil error from fn stops the walk and is
// returned as it is. The file is only read.
func VerifySegment(path string, place SegmentPlace, fn func(*Verified) error) (VerifyStats, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return VerifyStats{}, fmt.Errorf("wal: scan segment: %w", err)
	}
	return verifyBytes(data, place, fn)
}

// verifier classifies the items of one segment's scan.
type verifier struct {
	place SegmentPlace
	st    *VerifyStats
	fn    func(*Verified) error
	held  []Verified
	cur   Verified // the item being passed on, reused so that intact frames cost no allocation
}

// verifyBytes is VerifySegment over a segment already in memory; Raw and Payload of the items
// it passes on alias data unless they were held.
func verifyBytes(data []byte, place SegmentPlace, fn func(*Verified) error) (VerifyStats, error) {
	st := VerifyStats{Size: int64(len(data)), GoodEnd: int64(min(len(data), headerSize))}
	st.Header, st.HeaderErr = decodeHeader(data)
	if st.HeaderErr == nil && place.SeqKnown && st.Header.Seq != place.Seq {
		st.HeaderErr = fmt.Errorf("%w: segment header: sequence %d does not match the file name", ErrCorrupt, st.Header.Seq)
	}
	v := &verifier{place: place, st: &st, fn: fn}
	if st.HeaderErr != nil {
		h := Verified{Header: true, Frame: Frame{Raw: data[:min(len(data), headerSize)], Err: st.HeaderErr}}
		if place.Last {
			// A last segment with a bad header and no intact frame was being created when the
			// process stopped: recovery removes it as torn. With an intact frame, it is rebuilt.
			v.hold(h)
		} else if err := v.emit(&h, Corrupt); err != nil {
			return st, err
		}
	}
	if _, err := scanBytes(data, v.visit); err != nil {
		return st, err
	}
	if place.Last {
		return st, v.release(TornTail)
	}
	return st, v.release(Corrupt)
}

// visit is the scanBytes callback.
func (v *verifier) visit(f Frame) error {
	v.cur = Verified{Frame: f}
	it := &v.cur
	switch {
	case f.Err == nil && f.LSN <= v.place.PrevLSN:
		it.Err = fmt.Errorf("%w at offset %d: LSN %d is not above %d, the last LSN of the segments before",
			ErrCorrupt, f.Offset, f.LSN, v.place.PrevLSN)
		v.hold(*it)
		return nil
	case f.Err == nil:
		if err := v.release(Corrupt); err != nil {
			return err
		}
		return v.emit(it, Intact)
	case len(v.held) > 0:
		v.hold(*it)
		return nil
	case errors.Is(f.Err, ErrTorn) && v.place.Last:
		return v.emit(it, TornTail)
	}
	return v.emit(it, Corrupt)
}

// hold keeps a copy of it until its class is known.
func (v *verifier) hold(it Verified) {
	it.Raw = append([]byte(nil), it.Raw...)
	it.Payload = nil
	v.held = append(v.held, it)
}

// release passes the held items on as d.
func (v *verifier) release(d Damage) error {
	held := v.held
	v.held = nil
	for i := range held {
		if err := v.emit(&held[i], d); err != nil {
			return err
		}
	}
	return nil
}

// emit accounts it as d and passes it on.
func (v *verifier) emit(it *Verified, d Damage) error {
	it.Damage = d
	st := v.st
	switch {
	case d == Intact:
		if st.Records == 0 {
			st.FirstLSN, st.FirstTime = it.LSN, it.Time
		}
		st.Records++
		st.LastLSN, st.LastTime = it.LSN, it.Time
		st.GoodEnd = it.Offset + int64(len(it.Raw))
	case it.Header:
		st.HeaderDamage = d
		if d == TornTail {
			st.TornBytes += int64(len(it.Raw))
		}
	case d == TornTail:
		st.TornBytes += int64(len(it.Raw))
	default:
		st.Corrupted++
	}
	if v.fn == nil {
		return nil
	}
	return v.fn(it)
}
