package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/engram-go/engram/engine/wal"
)

// targetKind says which layout DIR was recognised as.
type targetKind uint8

const (
	kindDataRoot targetKind = iota // <root>/<space>/wal/
	kindSpace                      // <space>/wal/
	kindWALDir                     // a folder holding segment files
	kindSegment                    // one segment file (or a *.broken copy of one)
)

// walFolder is the name of a space's log folder inside the space folder.
const walFolder = "wal"

// target is what DIR resolved to.
type target struct {
	arg  string // DIR as given; every path shown is built from it
	kind targetKind
	root string // the data root holding DIR, for the running-server check; "" when unknown
	logs []*walLog
}

// walLog is the log of one space: its segments in sequence order.
type walLog struct {
	space    string
	spaceDir string // the space folder; "" when DIR is a wal folder or segment outside a space
	dir      string // the wal folder
	segments []segment
	// whole is false when only one segment file of the log is read: LSN order against the
	// segments before it cannot be checked then.
	whole bool
}

// segment is one segment file.
type segment struct {
	path     string
	name     string
	seq      uint64
	seqKnown bool // the name encodes a sequence, which the header must repeat
	last     bool // the highest sequence of its folder: only its end can be a torn tail
}

// resolveTarget recognises DIR's layout and lists the logs in it, keeping only the space
// named by spaceFilter when it is not empty.
func resolveTarget(arg, spaceFilter string) (*target, error) {
	fi, err := os.Stat(arg)
	if err != nil {
		return nil, fmt.Errorf("engram-wal: %w", err)
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return nil, fmt.Errorf("engram-wal: %w", err)
	}
	t := &target{arg: arg}
	switch {
	case !fi.IsDir():
		err = t.addSegmentFile(arg, abs)
	default:
		err = t.addFolder(arg, abs)
	}
	if err != nil {
		return nil, err
	}
	if spaceFilter != "" {
		t.logs = slices.DeleteFunc(t.logs, func(l *walLog) bool { return l.space != spaceFilter })
		if len(t.logs) == 0 {
			return nil, fmt.Errorf("%w: no space %q in %s", errNoWAL, spaceFilter, arg)
		}
	}
	if len(t.logs) == 0 {
		return nil, fmt.Errorf("%w in %s: give a data root, a space folder, a wal folder or a segment file", errNoWAL, arg)
	}
	return t, nil
}

// addFolder recognises a wal folder, a space folder or a data root.
func (t *target) addFolder(arg, abs string) error {
	ents, err := os.ReadDir(arg)
	if err != nil {
		return fmt.Errorf("engram-wal: %w", err)
	}
	hasSegments := slices.ContainsFunc(ents, func(e os.DirEntry) bool {
		_, ok := wal.ParseSegmentName(e.Name())
		return ok && e.Type().IsRegular()
	})
	switch {
	case hasSegments || filepath.Base(abs) == walFolder:
		t.kind = kindWALDir
		l := &walLog{dir: arg, whole: true}
		if filepath.Base(abs) == walFolder {
			l.space = filepath.Base(filepath.Dir(abs))
			t.root = filepath.Dir(filepath.Dir(abs))
		}
		return t.addLog(l)
	case isDir(filepath.Join(arg, walFolder)):
		t.kind = kindSpace
		t.root = filepath.Dir(abs)
		return t.addLog(&walLog{space: filepath.Base(abs), spaceDir: arg, dir: filepath.Join(arg, walFolder), whole: true})
	}
	t.kind = kindDataRoot
	t.root = abs
	for _, e := range ents { // ReadDir sorts by name
		spaceDir := filepath.Join(arg, e.Name())
		// A name starting with '.' is never a space: the server builds a space being
		// created, and keeps one being deleted, under such names (docs/operations.md).
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || !isDir(filepath.Join(spaceDir, walFolder)) {
			continue
		}
		l := &walLog{space: e.Name(), spaceDir: spaceDir, dir: filepath.Join(spaceDir, walFolder), whole: true}
		if err := t.addLog(l); err != nil {
			return err
		}
	}
	return nil
}

// addLog lists the segments of l's wal folder and adds l.
func (t *target) addLog(l *walLog) error {
	segs, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	l.segments = segs
	if l.space == "" {
		l.space = headerSpace(segs)
	}
	t.logs = append(t.logs, l)
	return nil
}

// addSegmentFile adds a log made of the one segment file at arg. A *.broken copy is read as
// the segment it was set aside from.
func (t *target) addSegmentFile(arg, abs string) error {
	t.kind = kindSegment
	dir := filepath.Dir(arg)
	name := filepath.Base(abs)
	seg := segment{path: arg, name: name, last: true}
	if i := strings.Index(name, ".wal"); i > 0 {
		seg.seq, seg.seqKnown = wal.ParseSegmentName(name[:i+len(".wal")])
	}
	if seg.seqKnown {
		siblings, err := listSegments(dir)
		if err != nil {
			return err
		}
		for _, s := range siblings {
			if s.seq > seg.seq {
				seg.last = false
			}
		}
	}
	l := &walLog{dir: dir, segments: []segment{seg}}
	if absDir := filepath.Dir(abs); filepath.Base(absDir) == walFolder {
		l.space = filepath.Base(filepath.Dir(absDir))
		t.root = filepath.Dir(filepath.Dir(absDir))
	} else {
		l.space = headerSpace(l.segments)
	}
	t.logs = append(t.logs, l)
	return nil
}

// listSegments returns the segment files of dir in sequence order.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("engram-wal: %w", err)
	}
	var segs []segment
	for _, e := range ents {
		if seq, ok := wal.ParseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			segs = append(segs, segment{path: filepath.Join(dir, e.Name()), name: e.Name(), seq: seq, seqKnown: true})
		}
	}
	slices.SortFunc(segs, func(a, b segment) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	if len(segs) > 0 {
		segs[len(segs)-1].last = true
	}
	return segs, nil
}

// headerSpace names a log found outside the usual layout by the space its headers carry.
func headerSpace(segs []segment) string {
	for _, s := range segs {
		if st, err := probeHeader(s.path); err == nil && st.HeaderErr == nil && st.Header.Space != "" {
			return st.Header.Space
		}
	}
	return "-"
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// errProbed ends a scan after the header was decoded.
var errProbed = errors.New("engram-wal: header read")

// probeHeader decodes a segment's header with the log's own decoder, reading no frame.
func probeHeader(path string) (wal.ScanStats, error) {
	st, err := wal.ScanSegment(path, func(wal.Frame) error { return errProbed })
	if err != nil && !errors.Is(err, errProbed) {
		return st, fmt.Errorf("engram-wal: %w", err)
	}
	return st, nil
}
