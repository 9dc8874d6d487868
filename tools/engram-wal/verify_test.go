package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/engine/wal"
)

// setSegmentSeq rewrites the sequence in a segment header (offset 16) and its checksum
// (offset 120, xxHash64 of bytes 0-119), as docs/formats/wal.md lays them out.
func setSegmentSeq(t *testing.T, path string, seq uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(b[16:], seq)
	binary.LittleEndian.PutUint64(b[120:], xxhash.Sum64(b[:120]))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyExitStatus(t *testing.T) {
	clean := buildFixture(t)
	defaultWAL := func(root string) string { return filepath.Join(root, "default", "wal") }
	cases := []struct {
		name       string
		damage     func(t *testing.T, root string)
		want       int
		wantOutput string
	}{
		{name: "clean", want: exitOK, wantOutput: "clean"},
		{name: "torn tail of the last segment", damage: tearLastSegment, want: exitTorn, wantOutput: "torn tail only"},
		{name: "damaged frame followed by intact frames", damage: corruptMiddleFrame, want: exitDamaged, wantOutput: "corrupt frame"},
		{name: "torn end of a segment that is not the last", want: exitDamaged, wantOutput: "corrupt frame",
			damage: func(t *testing.T, root string) {
				segs := framesOf(t, defaultWAL(root))
				f := segs[0][len(segs[0])-1]
				if err := os.Truncate(f.seg, f.offset+10); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "damaged header of a segment that is not the last", want: exitDamaged, wantOutput: "corrupt header",
			damage: func(t *testing.T, root string) {
				flipByte(t, filepath.Join(defaultWAL(root), wal.SegmentName(1)), 3)
			}},
		{name: "header naming another sequence", want: exitDamaged, wantOutput: "does not match the file name",
			damage: func(t *testing.T, root string) {
				setSegmentSeq(t, filepath.Join(defaultWAL(root), wal.SegmentName(1)), 9)
			}},
		{name: "last segment cut inside its header", want: exitTorn, wantOutput: "torn header",
			damage: func(t *testing.T, root string) {
				path := filepath.Join(defaultWAL(root), wal.SegmentName(3))
				if err := os.WriteFile(path, []byte("ENGRMWAL\x01\x00"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "last segment repeating LSNs of the segments before", want: exitTorn, wantOutput: "is not above",
			damage: func(t *testing.T, root string) {
				src := filepath.Join(defaultWAL(root), wal.SegmentName(1))
				dst := filepath.Join(defaultWAL(root), wal.SegmentName(3))
				b, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dst, b, 0o644); err != nil {
					t.Fatal(err)
				}
				setSegmentSeq(t, dst, 3)
			}},
		{name: "undecodable record", want: exitDamaged, wantOutput: "undecodable record",
			damage: func(t *testing.T, root string) {
				// A valid frame whose payload the engine cannot read: an unknown payload version.
				segs := framesOf(t, defaultWAL(root))
				f := segs[0][0]
				b, err := os.ReadFile(f.seg)
				if err != nil {
					t.Fatal(err)
				}
				frame := b[f.offset : f.offset+int64(f.size)]
				frame[32] = 9
				binary.LittleEndian.PutUint64(frame[len(frame)-8:], xxhash.Sum64(frame[4:len(frame)-8]))
				if err := os.WriteFile(f.seg, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := clean
			if c.damage != nil {
				root = copyTree(t, clean)
				c.damage(t, root)
			}
			code, stdout, stderr := runCmd(t, root, "verify", root)
			if code != c.want {
				t.Errorf("verify exit %d, want %d\n%s%s", code, c.want, stdout, stderr)
			}
			if !strings.Contains(stdout, c.wantOutput) {
				t.Errorf("verify output lacks %q:\n%s", c.wantOutput, stdout)
			}
			// Recovery must see the same damage: a torn tail only when verify says so.
			st, err := wal.RepairCopy(defaultWAL(root), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			switch c.want {
			case exitOK:
				if st.TornBytes != 0 || st.Corrupted != 0 || len(st.Broken) != 0 {
					t.Errorf("recovery finds damage in a clean log: %+v", st)
				}
			case exitTorn:
				if st.TornBytes == 0 || st.Corrupted != 0 {
					t.Errorf("recovery does not see a torn tail only: %+v", st)
				}
			case exitDamaged:
				// Undecodable records are the engine's finding, invisible to the log.
				if c.wantOutput != "undecodable record" && st.Corrupted == 0 && len(st.Broken) == 0 {
					t.Errorf("recovery sees no corruption: %+v", st)
				}
			}
		})
	}
}

func TestVerifyOtherErrors(t *testing.T) {
	empty := t.TempDir()
	for _, args := range [][]string{
		{"verify", filepath.Join(empty, "missing")},
		{"verify", empty},
		{"verify"},
		{"verify", "--bogus", empty},
		{"ls", "--space", "nope", buildFixture(t)},
	} {
		code, _, stderr := runCmd(t, empty, args...)
		if code != exitError {
			t.Errorf("%v: exit %d, want %d", args, code, exitError)
		}
		if !strings.HasPrefix(stderr, "engram-wal: ") {
			t.Errorf("%v: stderr %q does not say what went wrong", args, stderr)
		}
	}
}

// TestTornBytesMatchRecovery checks the torn byte count against the file size recovery cuts to.
func TestTornBytesMatchRecovery(t *testing.T) {
	root := copyTree(t, buildFixture(t))
	tearLastSegment(t, root)
	walDir := filepath.Join(root, "default", "wal")
	st, err := wal.RepairCopy(walDir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	l := &walLog{space: "default", dir: walDir, whole: true}
	if l.segments, err = listSegments(walDir); err != nil {
		t.Fatal(err)
	}
	reports, err := walkLog(l, nil)
	if err != nil {
		t.Fatal(err)
	}
	var torn int64
	for _, r := range reports {
		torn += r.tornBytes
	}
	if torn != st.TornBytes {
		t.Errorf("walk counts %d torn bytes, recovery %d", torn, st.TornBytes)
	}
}
