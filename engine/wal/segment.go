package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/engram-go/engram/internal/durable"
)

const (
	segmentExt   = ".wal"
	brokenExt    = ".broken"
	tempExt      = ".tmp"
	seqNameWidth = 16 // hex digits in a segment file name
)

// SegmentName returns the file name of segment seq: 16 lower-case hex digits and ".wal".
func SegmentName(seq uint64) string {
	return fmt.Sprintf("%0*x%s", seqNameWidth, seq, segmentExt)
}

// ParseSegmentName returns the sequence encoded in a segment file name.
func ParseSegmentName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(hex) != seqNameWidth || strings.ToLower(hex) != hex {
		return 0, false
	}
	seq, err := strconv.ParseUint(hex, 16, 64)
	return seq, err == nil
}

// segmentFile is a segment found in a folder.
type segmentFile struct {
	seq  uint64
	path string
}

// listSegmentFiles returns the segment files of dir in sequence order.
func listSegmentFiles(dir string) ([]segmentFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list segments: %w", err)
	}
	var segs []segmentFile
	for _, e := range ents {
		if seq, ok := ParseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			segs = append(segs, segmentFile{seq: seq, path: filepath.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(segs, func(a, b segmentFile) int { return cmpUint64(a.seq, b.seq) })
	return segs, nil
}

// HasSegments reports whether dir holds at least one segment file: whether it is a log
// with something in it.
func HasSegments(dir string) bool {
	segs, err := listSegmentFiles(dir)
	return err == nil && len(segs) > 0
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SegmentInfo describes one segment file for inspection tools.
type SegmentInfo struct {
	Path string
	Seq  uint64 // from the file name
	ScanStats
}

// ListSegments scans every segment of dir (files named by SegmentName; *.broken and other files
// are ignored) and returns them in sequence order with their LSN and time ranges, record counts
// and damage. It only reads the files. A segment whose header is damaged is still listed, with
// ScanStats.HeaderErr set.
func ListSegments(dir string) ([]SegmentInfo, error) {
	files, err := listSegmentFiles(dir)
	if err != nil {
		return nil, err
	}
	infos := make([]SegmentInfo, 0, len(files))
	var buf []byte
	for _, sf := range files {
		st, data, err := scanFile(sf.path, buf)
		buf = data
		if err != nil {
			return infos, err
		}
		infos = append(infos, SegmentInfo{Path: sf.path, Seq: sf.seq, ScanStats: st})
	}
	return infos, nil
}

// scanFile scans one segment into buf without reporting frames.
func scanFile(path string, buf []byte) (ScanStats, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return ScanStats{}, buf, fmt.Errorf("wal: %w", err)
	}
	defer f.Close()
	data, err := readFull(f, buf)
	if err != nil {
		return ScanStats{}, data, fmt.Errorf("wal: read %s: %w", path, err)
	}
	st, err := scanBytes(data, nil)
	return st, data, err
}

// createSegment creates segment seq in dir with its header, then fsyncs the file and the folder,
// so the segment exists on disk before any record is written to it.
func createSegment(dir string, seq, firstLSN uint64, space string) (*os.File, error) {
	path := filepath.Join(dir, SegmentName(seq))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	var hdr [headerSize]byte
	encodeHeader(hdr[:], SegmentHeader{Seq: seq, Space: space, FirstLSN: firstLSN, Created: time.Now()})
	if _, err := f.Write(hdr[:]); err != nil {
		return nil, errors.Join(fmt.Errorf("wal: write segment header %s: %w", path, err), f.Close())
	}
	if err := f.Sync(); err != nil {
		return nil, errors.Join(fmt.Errorf("wal: sync new segment %s: %w", path, err), f.Close())
	}
	if err := durable.SyncDir(dir); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return f, nil
}

// segmentPath returns the path of segment seq in dir.
func segmentPath(dir string, seq uint64) string { return filepath.Join(dir, SegmentName(seq)) }
