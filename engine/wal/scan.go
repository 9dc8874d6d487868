package wal

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Frame is one item of ScanSegment: an intact record, or a damaged frame (Err != nil).
type Frame struct {
	Offset  int64 // byte offset of the frame in the segment file
	LSN     uint64
	Type    RecordType
	Time    time.Time // append time written in the frame
	Payload []byte    // the record's payload; nil for damage
	Raw     []byte    // the frame's bytes as stored (for damage: the damaged bytes)
	// Err is nil for an intact record. For damage it wraps ErrCorrupt (an intact frame follows
	// in this segment) or ErrTorn (nothing intact follows) and names the offset and the reason.
	// LSN, Type and Time of a damaged frame are filled in only when its frame header checked out.
	Err error
}

// ScanStats summarises one segment.
type ScanStats struct {
	Header    SegmentHeader
	HeaderErr error // non-nil when the header is short or damaged; frames are scanned anyway
	Size      int64 // file size
	GoodSize  int64 // end of the last intact frame (the header size if there is none)
	Records   int   // intact records
	Corrupted int   // damaged frames with an intact frame after them
	TornBytes int64 // bytes of damage at the end of the segment with no intact frame after them
	Unwritten int64 // zeros ending the segment where the next frame would go: an unused runway
	FirstLSN  uint64
	LastLSN   uint64
	FirstTime time.Time // append time of the first intact record
	LastTime  time.Time // append time of the last intact record
}

// ScanSegment reads the segment file at path and calls fn for every intact record and every
// damaged frame, in file order. It continues after damage by resynchronising on the frame marker.
// Frame slices alias a buffer that is reused after fn returns: copy what must outlive the call.
// A non-nil error from fn stops the scan and is returned. The file is only read.
func ScanSegment(path string, fn func(f Frame) error) (ScanStats, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ScanStats{}, fmt.Errorf("wal: scan segment: %w", err)
	}
	st, err := scanBytes(data, fn)
	if err != nil {
		return st, fmt.Errorf("wal: scan segment %s: %w", path, err)
	}
	return st, nil
}

// scanBytes is ScanSegment over a segment already in memory.
func scanBytes(data []byte, fn func(f Frame) error) (ScanStats, error) {
	st := ScanStats{Size: int64(len(data)), GoodSize: int64(min(len(data), headerSize))}
	var prev uint64
	st.Header, st.HeaderErr = decodeHeader(data)
	if st.HeaderErr == nil && st.Header.FirstLSN > 0 {
		prev = st.Header.FirstLSN - 1
	}
	sc := newScanner(data, headerSize, prev)
	var it scanItem
	for sc.next(&it) {
		fr := Frame{Offset: int64(it.off), Raw: data[it.off:it.end:it.end]}
		if it.f.size > 0 {
			fr.LSN, fr.Type, fr.Time = it.f.lsn, it.f.typ, time.Unix(0, it.f.unixNano)
		}
		switch {
		case it.intact:
			fr.Payload = it.f.payload
			if st.Records == 0 {
				st.FirstLSN, st.FirstTime = fr.LSN, fr.Time
			}
			st.Records++
			st.LastLSN, st.LastTime = fr.LSN, fr.Time
			st.GoodSize = int64(it.end)
		case it.tail:
			fr.Err = fmt.Errorf("%w at offset %d: %s", ErrTorn, it.off, it.reason)
			st.TornBytes += int64(it.end - it.off)
		default:
			fr.Err = fmt.Errorf("%w at offset %d: %s", ErrCorrupt, it.off, it.reason)
			st.Corrupted++
		}
		if fn != nil {
			if err := fn(fr); err != nil {
				return st, err
			}
		}
	}
	st.Unwritten = int64(sc.unwritten)
	return st, nil
}

// readFull reads the whole file f into buf (grown as needed) and returns the filled slice.
func readFull(f *os.File, buf []byte) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return buf[:0], err
	}
	size := int(fi.Size())
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	n, err := io.ReadFull(f, buf)
	if err == io.ErrUnexpectedEOF {
		err = nil // the file shrank since Stat: use what is there
	}
	return buf[:n], err
}
