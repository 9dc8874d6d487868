package wal

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
)

// quietLogger discards log output; tests assert on RecoveryStats and files instead.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testOptions(dir string) Options {
	return Options{Dir: dir, Space: "test-space", Logger: quietLogger()}
}

// payloadFor returns a deterministic, LSN-independent payload for the i-th test record.
func payloadFor(i int) []byte {
	return fmt.Appendf(nil, "record-%06d:%s", i, bytes.Repeat([]byte{byte('a' + i%26)}, i%97))
}

// recovered is a copied recovered record.
type recovered struct {
	LSN     uint64
	Type    RecordType
	Payload string
}

// mustOpen opens a WAL, collecting replayed records (copied).
func mustOpen(t testing.TB, opts Options, after uint64) (*WAL, RecoveryStats, []recovered) {
	t.Helper()
	var recs []recovered
	w, rs, err := Open(opts, after, func(r Record) error {
		recs = append(recs, recovered{r.LSN, r.Type, string(r.Payload)})
		return nil
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return w, rs, recs
}

// reopen opens and closes the log, returning what it replayed.
func reopen(t testing.TB, opts Options) (RecoveryStats, []recovered) {
	t.Helper()
	w, rs, recs := mustOpen(t, opts, 0)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return rs, recs
}

// fill appends n records with payloadFor(start..start+n) and returns what was written.
func fill(t testing.TB, w *WAL, start, n int) []recovered {
	t.Helper()
	out := make([]recovered, 0, n)
	for i := start; i < start+n; i++ {
		p := payloadFor(i)
		typ := RecordType(1 + i%3)
		lsn, err := w.Append(Entry{Type: typ, Payload: p})
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		out = append(out, recovered{lsn, typ, string(p)})
	}
	return out
}

// sameRecords fails the test unless got equals want record for record.
func sameRecords(t testing.TB, got, want []recovered) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("recovered %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d: got LSN %d type %d %q, want LSN %d type %d %q",
				i, got[i].LSN, got[i].Type, got[i].Payload, want[i].LSN, want[i].Type, want[i].Payload)
		}
	}
}

// without returns recs minus the records whose LSN is in drop.
func without(recs []recovered, drop map[uint64]bool) []recovered {
	var out []recovered
	for _, r := range recs {
		if !drop[r.LSN] {
			out = append(out, r)
		}
	}
	return out
}

// segmentPaths lists the live segment files of dir.
func segmentPaths(t testing.TB, dir string) []string {
	t.Helper()
	files, err := listSegmentFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	return paths
}

// frameOffsets returns the offset, LSN and size of every intact frame in a segment file.
type frameLoc struct {
	off  int64
	lsn  uint64
	size int
}

func frameLocs(t testing.TB, path string) []frameLoc {
	t.Helper()
	var locs []frameLoc
	if _, err := ScanSegment(path, func(f Frame) error {
		if f.Err == nil {
			locs = append(locs, frameLoc{f.Offset, f.LSN, len(f.Raw)})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return locs
}

func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[off] ^= 0x5a
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
