package wal

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// copyDir copies the segment files of src into a new folder, as a crash would leave them
// for the next open while the log was still running.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestRunway(t *testing.T) {
	const record = 4 << 10
	big := func(i int) []byte { return bytes.Repeat([]byte{byte(1 + i%250)}, record) }
	tests := []struct {
		name    string
		records int
		runway  bool // the active segment is expected to carry zeros past its frames
	}{
		{"a quiet log keeps no runway", 10, false},
		{"a busy log writes zeros ahead", 200, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			w, _, _ := mustOpen(t, testOptions(dir), 0)
			var want []recovered
			for i := range tc.records {
				lsn, err := w.Append(Entry{Type: 2, Payload: big(i)})
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, recovered{lsn, 2, string(big(i))})
			}
			path := w.active.path
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			frames := w.Stats().Bytes
			if got := fi.Size() > frames; got != tc.runway {
				t.Fatalf("file %d bytes, frames end at %d: runway %v, want %v", fi.Size(), frames, got, tc.runway)
			}
			st, err := ScanSegment(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != tc.records || st.TornBytes != 0 || st.Corrupted != 0 || st.Unwritten != fi.Size()-frames {
				t.Fatalf("scan of the running segment: %+v", st)
			}

			// What a crash leaves: the files as they are while the log runs.
			crashed := copyDir(t, dir)
			w2, rs, got := mustOpen(t, testOptions(crashed), 0)
			if rs.TornBytes != 0 || rs.Corrupted != 0 || !slices.Equal(got, want) {
				t.Fatalf("recovery after a crash: %+v, %d of %d records", rs, len(got), len(want))
			}
			// Appends continue right after the last frame, over the runway.
			lsn, err := w2.Append(Entry{Type: 3, Payload: []byte("after the crash")})
			if err != nil {
				t.Fatal(err)
			}
			want2 := append(slices.Clone(want), recovered{lsn, 3, "after the crash"})
			if err := w2.Close(); err != nil {
				t.Fatal(err)
			}
			if _, got := reopen(t, testOptions(crashed)); !slices.Equal(got, want2) {
				t.Fatalf("after appending to a recovered runway: %d records, want %d", len(got), len(want2))
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSealedSegmentsKeepNoRunway: rotation trims the zeros off the segment it seals.
func TestSealedSegmentsKeepNoRunway(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	opts.SegmentBytes = 1 << 20
	w, _, _ := mustOpen(t, opts, 0)
	for i := range 800 {
		if _, err := w.Append(Entry{Type: 2, Payload: bytes.Repeat([]byte{byte(1 + i%250)}, 4<<10)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := listSegmentFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("%d segments, want several", len(files))
	}
	for _, f := range files[:len(files)-1] {
		st, err := ScanSegment(f.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Unwritten != 0 || st.GoodSize != st.Size {
			t.Fatalf("sealed segment %s: %d bytes, frames end at %d, %d unwritten", f.path, st.Size, st.GoodSize, st.Unwritten)
		}
	}
	if _, got := reopen(t, opts); len(got) != 800 {
		t.Fatalf("reopen found %d records, want 800", len(got))
	}
}
