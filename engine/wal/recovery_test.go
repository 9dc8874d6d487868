package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// buildLog writes n records into a fresh log and returns its options and records. It syncs only
// at rotation and Close: these tests are about the format, not about acknowledgement.
func buildLog(t *testing.T, n int, segmentBytes int64) (Options, []recovered) {
	t.Helper()
	opts := testOptions(t.TempDir())
	opts.SegmentBytes = segmentBytes
	opts.Sync = SyncNever
	w, _, _ := mustOpen(t, opts, 0)
	want := fill(t, w, 0, n)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return opts, want
}

func TestTornTail(t *testing.T) {
	opts, want := buildLog(t, 20, 0)
	seg := segmentPaths(t, opts.Dir)[0]
	pristine, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	locs := frameLocs(t, seg)
	last := locs[len(locs)-1]
	// Every cut inside the last frame, including inside its marker and header.
	for cut := last.off + 1; cut < last.off+int64(last.size); cut++ {
		t.Run(fmt.Sprint(cut-last.off), func(t *testing.T) {
			if err := os.WriteFile(seg, pristine[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			rs, got := reopen(t, opts)
			if rs.TornBytes != cut-last.off || rs.Corrupted != 0 || len(rs.Broken) != 0 {
				t.Fatalf("stats %+v, want TornBytes %d", rs, cut-last.off)
			}
			sameRecords(t, got, want[:len(want)-1])
			if fi, _ := os.Stat(seg); fi.Size() != last.off {
				t.Fatalf("segment is %d bytes after recovery, want %d", fi.Size(), last.off)
			}
			rs, got = reopen(t, opts)
			if rs.TornBytes != 0 || rs.Corrupted != 0 {
				t.Fatalf("second open not clean: %+v", rs)
			}
			sameRecords(t, got, want[:len(want)-1])
		})
	}
}

func TestTornTailAppendsContinue(t *testing.T) {
	opts, want := buildLog(t, 10, 0)
	seg := segmentPaths(t, opts.Dir)[0]
	fi, _ := os.Stat(seg)
	if err := os.Truncate(seg, fi.Size()-3); err != nil {
		t.Fatal(err)
	}
	w, rs, _ := mustOpen(t, opts, 0)
	if rs.TornBytes == 0 || rs.LastLSN != 9 {
		t.Fatalf("stats %+v", rs)
	}
	more := fill(t, w, 100, 3)
	if more[0].LSN != 10 {
		t.Fatalf("LSN after torn tail %d, want 10 (the torn record was never acknowledged durable)", more[0].LSN)
	}
	w.Close()
	_, got := reopen(t, opts)
	sameRecords(t, got, append(want[:9:9], more...))
}

func TestTornTailGarbage(t *testing.T) {
	tests := []struct {
		name string
		tail []byte
		torn bool // false: the tail reads as an unused runway (runway.go), not as damage
	}{
		{"zeros", make([]byte, 4096), false},
		{"zeros then junk", append(make([]byte, 100), 1), true},
		{"marker only", []byte(frameMarkerBytes), true},
		{"marker and junk", append([]byte(frameMarkerBytes), "0123456789abcdef0123456789abcdef0123456789"...), true},
		{"random", []byte("\x13\x37\xfe\xed\xfa\xce\x00\x01\x02"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, want := buildLog(t, 10, 0)
			seg := segmentPaths(t, opts.Dir)[0]
			f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(tt.tail)
			f.Close()
			rs, got := reopen(t, opts)
			wantTorn := int64(0)
			if tt.torn {
				wantTorn = int64(len(tt.tail))
			}
			if rs.TornBytes != wantTorn || rs.Corrupted != 0 {
				t.Fatalf("stats %+v, want TornBytes %d", rs, wantTorn)
			}
			sameRecords(t, got, want)
		})
	}
}

// TestCorruptionInTheMiddle flips one byte in the middle of the log at various places in a frame,
// in a single segment and in the middle segment of several.
func TestCorruptionInTheMiddle(t *testing.T) {
	places := []struct {
		name string
		at   func(l frameLoc) int64
	}{
		{"marker", func(l frameLoc) int64 { return l.off + 1 }},
		{"length", func(l frameLoc) int64 { return l.off + frmLenOff }},
		{"lsn", func(l frameLoc) int64 { return l.off + frmLSNOff + 2 }},
		{"type", func(l frameLoc) int64 { return l.off + frmTypeOff }},
		{"header checksum", func(l frameLoc) int64 { return l.off + frmHdrSumOff }},
		{"payload", func(l frameLoc) int64 { return l.off + frmPayloadOff + 3 }},
		{"record checksum", func(l frameLoc) int64 { return l.off + int64(l.size) - 1 }},
	}
	layouts := []struct {
		name         string
		segmentBytes int64
		segment      func(n int) int // which segment to damage
	}{
		{"single segment", 0, func(int) int { return 0 }},
		{"middle segment", 2048, func(n int) int { return n / 2 }},
		{"first of several", 2048, func(int) int { return 0 }},
	}
	for _, layout := range layouts {
		for _, place := range places {
			t.Run(layout.name+"/"+place.name, func(t *testing.T) {
				opts, want := buildLog(t, 120, layout.segmentBytes)
				segs := segmentPaths(t, opts.Dir)
				seg := segs[layout.segment(len(segs))]
				locs := frameLocs(t, seg)
				victim := locs[len(locs)/2]
				flipByte(t, seg, place.at(victim))

				rs, got := reopen(t, opts)
				if rs.Corrupted < 1 || rs.TornBytes != 0 {
					t.Fatalf("stats %+v, want Corrupted ≥ 1", rs)
				}
				intact := without(want, map[uint64]bool{victim.lsn: true})
				sameRecords(t, got, intact)
				if rs.Records != len(intact) {
					t.Fatalf("Records %d, want %d", rs.Records, len(intact))
				}
				if len(rs.Broken) != 1 || rs.Broken[0] != seg+brokenExt {
					t.Fatalf("Broken %v, want [%s]", rs.Broken, seg+brokenExt)
				}
				if _, err := os.Stat(seg + brokenExt); err != nil {
					t.Fatal(err)
				}

				rs, got = reopen(t, opts)
				if rs.Corrupted != 0 || rs.TornBytes != 0 || len(rs.Broken) != 0 {
					t.Fatalf("second open not clean: %+v", rs)
				}
				sameRecords(t, got, intact)
			})
		}
	}
}

func TestCorruptionSeveralFrames(t *testing.T) {
	opts, want := buildLog(t, 60, 0)
	seg := segmentPaths(t, opts.Dir)[0]
	locs := frameLocs(t, seg)
	// Two neighbours damaged in their payloads and a third far away with a broken header.
	flipByte(t, seg, locs[10].off+frmPayloadOff)
	flipByte(t, seg, locs[11].off+frmPayloadOff+1)
	flipByte(t, seg, locs[40].off+frmHdrSumOff)
	rs, got := reopen(t, opts)
	if rs.Corrupted != 3 {
		t.Fatalf("Corrupted %d, want 3 (%+v)", rs.Corrupted, rs)
	}
	sameRecords(t, got, without(want, map[uint64]bool{locs[10].lsn: true, locs[11].lsn: true, locs[40].lsn: true}))

	// ScanSegment on the kept original names each damaged frame's offset.
	var bad []int64
	st, err := ScanSegment(seg+brokenExt, func(f Frame) error {
		if f.Err != nil {
			if !errors.Is(f.Err, ErrCorrupt) {
				t.Errorf("frame at %d: %v, want ErrCorrupt", f.Offset, f.Err)
			}
			bad = append(bad, f.Offset)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bad, []int64{locs[10].off, locs[11].off, locs[40].off}) || st.Corrupted != 3 || st.Records != 57 {
		t.Fatalf("damaged offsets %v, stats %+v", bad, st)
	}
}

func TestCorruptionAndTornTail(t *testing.T) {
	opts, want := buildLog(t, 30, 0)
	seg := segmentPaths(t, opts.Dir)[0]
	locs := frameLocs(t, seg)
	flipByte(t, seg, locs[5].off+frmPayloadOff)
	last := locs[len(locs)-1]
	if err := os.Truncate(seg, last.off+7); err != nil {
		t.Fatal(err)
	}
	rs, got := reopen(t, opts)
	if rs.Corrupted != 1 || rs.TornBytes != 7 || len(rs.Broken) != 1 {
		t.Fatalf("stats %+v", rs)
	}
	sameRecords(t, got, without(want[:len(want)-1], map[uint64]bool{locs[5].lsn: true}))
	if rs, _ := reopen(t, opts); rs.Corrupted != 0 || rs.TornBytes != 0 {
		t.Fatalf("second open not clean: %+v", rs)
	}
}

func TestDamagedTailOfSealedSegment(t *testing.T) {
	// Damage at the end of a segment that is not the last one is corruption, not a torn tail:
	// later segments hold newer records.
	opts, want := buildLog(t, 80, 2048)
	segs := segmentPaths(t, opts.Dir)
	locs := frameLocs(t, segs[1])
	last := locs[len(locs)-1]
	flipByte(t, segs[1], last.off+int64(last.size)-2)
	rs, got := reopen(t, opts)
	if rs.Corrupted != 1 || rs.TornBytes != 0 || len(rs.Broken) != 1 {
		t.Fatalf("stats %+v", rs)
	}
	sameRecords(t, got, without(want, map[uint64]bool{last.lsn: true}))
}

func TestDuplicateLSNIsCorrupt(t *testing.T) {
	opts, want := buildLog(t, 10, 0)
	seg := segmentPaths(t, opts.Dir)[0]
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	locs := frameLocs(t, seg)
	// Splice a valid copy of frame 3 after frame 6: intact bytes, but its LSN goes backwards.
	dup := data[locs[3].off : locs[3].off+int64(locs[3].size)]
	at := locs[7].off
	spliced := slices.Concat(data[:at], dup, data[at:])
	if err := os.WriteFile(seg, spliced, 0o644); err != nil {
		t.Fatal(err)
	}
	rs, got := reopen(t, opts)
	if rs.Corrupted != 1 {
		t.Fatalf("stats %+v", rs)
	}
	sameRecords(t, got, want)
}

func TestDamagedSegmentHeader(t *testing.T) {
	t.Run("middle segment", func(t *testing.T) {
		opts, want := buildLog(t, 80, 2048)
		segs := segmentPaths(t, opts.Dir)
		flipByte(t, segs[1], hdrFirstLSNOff)
		rs, got := reopen(t, opts)
		if len(rs.Broken) != 1 || rs.Corrupted != 0 {
			t.Fatalf("stats %+v", rs)
		}
		sameRecords(t, got, want)
		if _, err := readHeader(segs[1]); err != nil {
			t.Fatalf("header not rebuilt: %v", err)
		}
		if rs, _ := reopen(t, opts); len(rs.Broken) != 0 {
			t.Fatalf("second open not clean: %+v", rs)
		}
	})
	t.Run("garbage last segment is set aside", func(t *testing.T) {
		opts, want := buildLog(t, 80, 2048)
		segs := segmentPaths(t, opts.Dir)
		next := filepath.Join(opts.Dir, SegmentName(uint64(len(segs)+1)))
		if err := os.WriteFile(next, make([]byte, headerSize+50), 0o644); err != nil {
			t.Fatal(err)
		}
		rs, got := reopen(t, opts)
		if rs.TornBytes != headerSize+50 || len(rs.Broken) != 1 || rs.Broken[0] != next+brokenExt {
			t.Fatalf("stats %+v", rs)
		}
		sameRecords(t, got, want)
	})
	t.Run("unknown version", func(t *testing.T) {
		opts, want := buildLog(t, 80, 2048)
		segs := segmentPaths(t, opts.Dir)
		data, _ := os.ReadFile(segs[0])
		data[hdrVersionOff] = 2
		binary.LittleEndian.PutUint64(data[hdrSumOff:], xxhash.Sum64(data[:hdrSumOff]))
		os.WriteFile(segs[0], data, 0o644)
		rs, got := reopen(t, opts)
		if len(rs.Broken) != 1 {
			t.Fatalf("stats %+v", rs)
		}
		sameRecords(t, got, want)
	})
	t.Run("torn creation of the last segment", func(t *testing.T) {
		for _, size := range []int{0, 10, headerSize} {
			opts, want := buildLog(t, 80, 2048)
			segs := segmentPaths(t, opts.Dir)
			next := filepath.Join(opts.Dir, SegmentName(uint64(len(segs)+1)))
			if err := os.WriteFile(next, make([]byte, size), 0o644); err != nil {
				t.Fatal(err)
			}
			w, rs, got := mustOpen(t, opts, 0)
			if rs.TornBytes != int64(size) || rs.Corrupted != 0 || len(rs.Broken) != 0 {
				t.Fatalf("size %d: stats %+v", size, rs)
			}
			sameRecords(t, got, want)
			more := fill(t, w, 500, 2)
			w.Close()
			_, got = reopen(t, opts)
			sameRecords(t, got, append(want, more...))
		}
	})
}

func TestStaleTempFileIsRemoved(t *testing.T) {
	opts, want := buildLog(t, 5, 0)
	seg := segmentPaths(t, opts.Dir)[0]
	if err := os.WriteFile(seg+tempExt, []byte("half a repair"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, got := reopen(t, opts)
	sameRecords(t, got, want)
	if _, err := os.Stat(seg + tempExt); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file still there: %v", err)
	}
}

func TestRepairCopy(t *testing.T) {
	opts, want := buildLog(t, 100, 2048)
	segs := segmentPaths(t, opts.Dir)
	locs := frameLocs(t, segs[2])
	flipByte(t, segs[2], locs[1].off+frmPayloadOff)
	last := segs[len(segs)-1]
	fi, _ := os.Stat(last)
	os.Truncate(last, fi.Size()-5)
	before := snapshot(t, opts.Dir)

	dry, err := RepairCopy(opts.Dir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if dry.Corrupted != 1 || dry.TornBytes == 0 || len(dry.Broken) != 1 || dry.Broken[0] != segs[2] {
		t.Fatalf("dry run: %+v", dry)
	}
	dst := filepath.Join(t.TempDir(), "repaired")
	rs, err := RepairCopy(opts.Dir, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Corrupted != dry.Corrupted || rs.TornBytes != dry.TornBytes || rs.Records != len(want)-2 {
		t.Fatalf("repair: %+v, dry run %+v", rs, dry)
	}
	if after := snapshot(t, opts.Dir); !maps2Equal(before, after) {
		t.Fatal("RepairCopy modified the source folder")
	}
	copyOpts := opts
	copyOpts.Dir = dst
	rs, got := reopen(t, copyOpts)
	if rs.Corrupted != 0 || rs.TornBytes != 0 {
		t.Fatalf("repaired copy not clean: %+v", rs)
	}
	sameRecords(t, got, without(want[:len(want)-1], map[uint64]bool{locs[1].lsn: true}))
	if _, err := RepairCopy(opts.Dir, dst, nil); err == nil {
		t.Fatal("RepairCopy into a folder with segments succeeded")
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

func maps2Equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestScanSegmentAndListSegmentsAreReadOnly(t *testing.T) {
	opts, want := buildLog(t, 50, 0)
	seg := segmentPaths(t, opts.Dir)[0]
	fi, _ := os.Stat(seg)
	os.Truncate(seg, fi.Size()-4)
	before := snapshot(t, opts.Dir)
	var torn []Frame
	st, err := ScanSegment(seg, func(f Frame) error {
		if f.Err != nil {
			torn = append(torn, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != len(want)-1 || st.TornBytes == 0 || st.Corrupted != 0 || len(torn) != 1 || !errors.Is(torn[0].Err, ErrTorn) {
		t.Fatalf("scan: %+v, damaged %v", st, torn)
	}
	if st.GoodSize != torn[0].Offset || st.Size != fi.Size()-4 {
		t.Fatalf("GoodSize %d, torn frame at %d", st.GoodSize, torn[0].Offset)
	}
	infos, err := ListSegments(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].ScanStats.Records != st.Records || infos[0].LastLSN != uint64(len(want)-1) {
		t.Fatalf("ListSegments: %+v", infos)
	}
	if !maps2Equal(before, snapshot(t, opts.Dir)) {
		t.Fatal("offline readers modified the folder")
	}
	stop := errors.New("stop")
	if _, err := ScanSegment(seg, func(Frame) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error not returned: %v", err)
	}
}

func TestSegmentNames(t *testing.T) {
	tests := []struct {
		name string
		seq  uint64
		ok   bool
	}{
		{"0000000000000001.wal", 1, true},
		{"00000000000000ff.wal", 255, true},
		{"ffffffffffffffff.wal", 1<<64 - 1, true},
		{"00000000000000FF.wal", 0, false},
		{"0000000000000001.wal.broken", 0, false},
		{"0000000000000001.wal.tmp", 0, false},
		{"000000000000001.wal", 0, false},
		{"000000000000000g.wal", 0, false},
	}
	for _, tt := range tests {
		seq, ok := ParseSegmentName(tt.name)
		if ok != tt.ok || seq != tt.seq {
			t.Errorf("ParseSegmentName(%q) = %d, %v", tt.name, seq, ok)
		}
		if tt.ok && SegmentName(tt.seq) != tt.name {
			t.Errorf("SegmentName(%d) = %q", tt.seq, SegmentName(tt.seq))
		}
	}
}
