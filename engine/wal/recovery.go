package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// RecoveryStats reports what Open (or RepairCopy) found in the log.
type RecoveryStats struct {
	Records   int      // intact records replayed (LSN > afterLSN)
	Corrupted int      // damaged records skipped in the middle of the log
	TornBytes int64    // bytes cut from the tail of the last segment
	Segments  int      // live segment files after recovery
	Broken    []string // segment files set aside as *.broken
	LastLSN   uint64   // highest LSN the log holds; 0 for an empty log
}

// segmentMeta describes a live segment for retention and statistics.
type segmentMeta struct {
	seq      uint64
	path     string
	firstLSN uint64 // from the header
	lastLSN  uint64 // last record's LSN; firstLSN-1 when the segment holds none
	size     int64
}

// segmentRecovery is the outcome of recovering one segment file.
type segmentRecovery struct {
	file      segmentFile
	header    SegmentHeader
	headerErr error
	size      int64
	goodEnd   int    // end of the last intact frame in the original bytes
	records   int    // intact frames, replayed or not
	firstLSN  uint64 // of the intact frames
	lastLSN   uint64
	corrupted int
	tornBytes int64
	firstBad  error // the first damaged frame, for the log
	// rewrite is the complete repaired file when the segment must be replaced, nil otherwise.
	rewrite []byte
	// drop: the last segment has no usable header and no intact record, the mark of a crash
	// while it was being created. It is removed (or set aside if it holds more than a header).
	drop bool
}

// recoverSegment verifies one segment in memory (verifyBytes: the one classification of damage,
// shared with offline checks) and calls emit for each intact frame in order. prevLSN is the
// last LSN of the log before this segment; isLast selects torn-tail handling. space names the
// log in a header rebuilt for a damaged one.
func recoverSegment(sf segmentFile, data []byte, isLast bool, prevLSN uint64, space string, emit func(Frame) error) (segmentRecovery, error) {
	r := segmentRecovery{file: sf, size: int64(len(data))}
	var out []byte // the repaired file, once damage is known to need one
	place := SegmentPlace{Seq: sf.seq, SeqKnown: true, PrevLSN: prevLSN, Last: isLast}
	st, err := verifyBytes(data, place, func(v *Verified) error {
		switch {
		case v.Header:
			out = make([]byte, headerSize, max(len(data), headerSize))
		case v.Damage == Intact:
			if out != nil {
				out = append(out, v.Raw...)
			}
			if emit != nil {
				return emit(v.Frame)
			}
		case v.Damage == Corrupt:
			if r.firstBad == nil {
				r.firstBad = v.Err
			}
			if out == nil {
				// Everything before the first damage is the intact header and frames.
				out = make([]byte, 0, len(data))
				out = append(out, data[:v.Offset]...)
			}
		}
		return nil
	})
	r.header, r.headerErr = st.Header, st.HeaderErr
	r.goodEnd, r.records, r.firstLSN, r.lastLSN = int(st.GoodEnd), st.Records, st.FirstLSN, st.LastLSN
	r.corrupted, r.tornBytes = st.Corrupted, st.TornBytes
	if err != nil {
		return r, err
	}
	if r.headerErr != nil {
		if st.HeaderDamage == TornTail {
			r.drop, r.tornBytes, r.corrupted = true, int64(len(data)), 0
			return r, nil
		}
		first := prevLSN + 1
		if r.records > 0 {
			first = r.firstLSN
		}
		encodeHeader(out, SegmentHeader{Seq: sf.seq, Space: space, FirstLSN: first, Created: time.Now()})
	}
	r.rewrite = out
	return r, nil
}

// meta returns the segment's description once the recovery outcome is applied.
func (r *segmentRecovery) meta() segmentMeta {
	m := segmentMeta{seq: r.file.seq, path: r.file.path, size: int64(r.goodEnd)}
	if r.rewrite != nil {
		m.size = int64(len(r.rewrite))
		h, _ := decodeHeader(r.rewrite)
		m.firstLSN = h.FirstLSN
	} else {
		m.firstLSN = r.header.FirstLSN
	}
	m.lastLSN = m.firstLSN - 1
	if r.records > 0 {
		m.lastLSN = r.lastLSN
	}
	if m.firstLSN == 0 {
		m.lastLSN = r.lastLSN
	}
	return m
}

// logOutcome reports damage found in one segment.
func (r *segmentRecovery) logOutcome(logger *slog.Logger, broken string) {
	switch {
	case r.drop:
		logger.Warn("wal: removed a last segment with no valid header and no records (crash while it was created)",
			"segment", r.file.path, "bytes", r.size, "err", r.headerErr, "kept_as", broken)
		return
	case r.headerErr != nil:
		logger.Warn("wal: rebuilt a damaged segment header", "segment", r.file.path, "err", r.headerErr)
	}
	if r.corrupted > 0 {
		logger.Warn("wal: skipped damaged records in the middle of the log",
			"segment", r.file.path, "damaged", r.corrupted, "first", r.firstBad, "intact", r.records, "kept_as", broken)
	}
	if r.tornBytes > 0 {
		logger.Warn("wal: cut a torn tail off the last segment",
			"segment", r.file.path, "offset", r.goodEnd, "bytes", r.tornBytes)
	}
}

// logRecovery is the recovery of a whole folder.
type logRecovery struct {
	stats    RecoveryStats
	live     []segmentMeta // in order; the last one is where appends continue
	lastSeq  uint64        // highest sequence seen, live or dropped
	lastHead uint64        // FirstLSN of the last live segment's header
}

// recoverLog recovers the segments of one folder in order. emit receives every intact frame
// (nil skips nothing and replays nothing); apply makes each segment's outcome real (in place for
// Open, into another folder for RepairCopy) and returns the path the damaged original was kept
// under, if any. Segments that only hold records ≤ afterLSN are skipped unread.
func recoverLog(files []segmentFile, afterLSN uint64, space string, logger *slog.Logger,
	emit func(Frame) error, apply func(r *segmentRecovery, data []byte) (string, error)) (logRecovery, error) {
	var lr logRecovery
	heads := make([]uint64, len(files)) // header FirstLSN, 0 when unreadable
	for i, sf := range files {
		if i > 0 && afterLSN > 0 {
			if h, err := readHeader(sf.path); err == nil {
				heads[i] = h.FirstLSN
			}
		}
	}
	var buf []byte
	var prevLSN uint64
	for i, sf := range files {
		lr.lastSeq = sf.seq
		isLast := i == len(files)-1
		if !isLast && heads[i+1] > 0 && heads[i+1] <= afterLSN+1 {
			// Every record here is below the next segment's first LSN, so none is replayed.
			fi, err := os.Stat(sf.path)
			if err != nil {
				return lr, fmt.Errorf("wal: %w", err)
			}
			lr.live = append(lr.live, segmentMeta{seq: sf.seq, path: sf.path, lastLSN: heads[i+1] - 1, size: fi.Size()})
			prevLSN = max(prevLSN, heads[i+1]-1)
			continue
		}
		f, err := os.Open(sf.path)
		if err != nil {
			return lr, fmt.Errorf("wal: open segment: %w", err)
		}
		buf, err = readFull(f, buf)
		f.Close()
		if err != nil {
			return lr, fmt.Errorf("wal: read segment %s: %w", sf.path, err)
		}
		r, err := recoverSegment(sf, buf, isLast, prevLSN, space, emit)
		if err != nil {
			return lr, err
		}
		broken, err := apply(&r, buf)
		if err != nil {
			return lr, err
		}
		r.logOutcome(logger, broken)
		if broken != "" {
			lr.stats.Broken = append(lr.stats.Broken, broken)
		}
		lr.stats.Corrupted += r.corrupted
		lr.stats.TornBytes += r.tornBytes
		if r.records > 0 {
			prevLSN = max(prevLSN, r.lastLSN)
		}
		if r.drop {
			continue
		}
		m := r.meta()
		lr.live = append(lr.live, m)
		prevLSN = max(prevLSN, m.lastLSN)
		lr.lastHead = m.firstLSN
	}
	lr.stats.Segments = len(lr.live)
	lr.stats.LastLSN = prevLSN
	return lr, nil
}

// readHeader reads and decodes the header of a segment file.
func readHeader(path string) (SegmentHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return SegmentHeader{}, err
	}
	defer f.Close()
	var hdr [headerSize]byte
	n, err := f.ReadAt(hdr[:], 0)
	if n < headerSize && err != nil {
		return SegmentHeader{}, errors.Join(ErrCorrupt, err)
	}
	return decodeHeader(hdr[:])
}
