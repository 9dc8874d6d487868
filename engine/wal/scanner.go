package wal

import "encoding/binary"

// scanner walks the frames of one segment held in memory. It yields intact frames and, for
// damage, one piece per damaged frame: a piece starts where a damaged frame starts (the start of
// the damage, or a later marker whose frame header checks out) and runs to the next piece or to
// the next intact frame. Every byte of the frame area belongs to exactly one yielded item, and
// each step advances by at least one byte, so the walk always ends.
type scanner struct {
	data      []byte // the whole segment file
	pos       int    // start of the next item
	prevLSN   uint64 // LSN of the last intact frame; the next one must be above it
	damageEnd int    // end of the damaged region pos is in; ≤ pos when not in one
	unwritten int    // zeros ending the segment where a frame would start: an unused runway
}

// scanItem is one step of a scan.
type scanItem struct {
	off, end int    // byte range in the segment
	intact   bool   // f holds a whole, checksummed, in-order frame
	f        frame  // decoded frame (for damage: only when its header checked out, f.size > 0)
	tail     bool   // damage with no intact frame after it in this segment
	reason   string // why a damaged piece does not decode
}

func newScanner(data []byte, start int, prevLSN uint64) *scanner {
	start = min(start, len(data))
	return &scanner{data: data, pos: start, prevLSN: prevLSN, damageEnd: start}
}

// next fills it with the next item and reports false at the end of the data.
func (s *scanner) next(it *scanItem) bool {
	if s.pos >= len(s.data) {
		return false
	}
	if s.pos >= s.damageEnd && s.data[s.pos] == 0 && allZero(s.data[s.pos:]) {
		// No frame starts with a zero byte: the rest was never written (runway.go).
		s.unwritten = len(s.data) - s.pos
		s.pos = len(s.data)
		return false
	}
	f, reason := decodeFrame(s.data[s.pos:])
	if s.pos >= s.damageEnd {
		if reason == "" && f.lsn <= s.prevLSN {
			reason = reasonLSNOrder
		}
		if reason == "" {
			*it = scanItem{off: s.pos, end: s.pos + f.size, intact: true, f: f}
			s.prevLSN = f.lsn
			s.pos += f.size
			return true
		}
		s.damageEnd = s.resync(s.pos + 1)
	} else if reason == "" {
		// Inside a damaged region, a frame that decodes was rejected by resync for its LSN.
		reason = reasonLSNOrder
	}
	end := s.nextPiece(s.pos, f)
	*it = scanItem{off: s.pos, end: end, f: f, tail: s.damageEnd == len(s.data), reason: reason}
	s.pos = end
	return true
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// resync returns the offset of the first intact frame at or after from whose LSN is above
// prevLSN, or len(data) if there is none.
func (s *scanner) resync(from int) int {
	for from < len(s.data) {
		j := indexMarker(s.data[from:])
		if j < 0 {
			break
		}
		at := from + j
		if f, reason := decodeFrame(s.data[at:]); reason == "" && f.lsn > s.prevLSN {
			return at
		}
		from = at + 1
	}
	return len(s.data)
}

// nextPiece returns where the damaged piece starting at start (whose decode result is f) ends:
// at the next marker inside the damaged region whose frame header checks out, or at the region's
// end. A piece whose header checked out and whose frame fits in the region is not searched
// inside, so markers in its payload do not split it.
func (s *scanner) nextPiece(start int, f frame) int {
	from := start + 1
	if f.size > 0 && start+f.size <= s.damageEnd {
		from = start + f.size
	}
	for from < s.damageEnd {
		j := indexMarker(s.data[from:s.damageEnd])
		if j < 0 {
			break
		}
		at := from + j
		if g, _ := decodeFrame(s.data[at:]); g.size > 0 {
			return at
		}
		from = at + 1
	}
	return s.damageEnd
}
