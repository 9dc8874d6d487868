package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/wal"
	"github.com/engram-go/engram/internal/enginetest"
)

// fixtureNow is the engine clock of the fixture, so payload times are the same every run.
var fixtureNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixtureSegmentBytes makes the fixture's logs rotate every few records.
const fixtureSegmentBytes = 900

// fixtureConfig opens an engine on root with the fixture's settings.
func fixtureConfig(root string) engine.Config {
	return engine.Config{
		DataRoot:          root,
		AutoCreate:        true,
		Defaults:          engine.SpaceSettings{Dimension: 4, WALSegmentBytes: fixtureSegmentBytes},
		EmbeddingProvider: "none",
		Logger:            enginetest.QuietLogger(),
		Now:               func() time.Time { return fixtureNow },
	}
}

// fixtureMemory is one memory the fixture remembers.
type fixtureMemory struct {
	space, id, content string
	vec                []float32
	tags               []string
	episode            *engine.Episode
}

var fixtureMemories = []fixtureMemory{
	{"default", "alpha", "The deploy key rotates on the first Monday of each month.", []float32{1, 0, 0, 0}, []string{"ops"}, nil},
	{"default", "bravo", "Lunch with Ada on Thursday: bring the draft of the storage chapter and the benchmark figures.", []float32{0, 1, 0, 0}, nil, nil},
	{"default", "charlie", "Café opens at 7:30 — \"early bird\" pricing until nine.", []float32{0, 0, 1, 0}, []string{"food", "morning"},
		&engine.Episode{Where: "Rue Oberkampf", Who: []string{"Ada", "Grace"}, Why: "breakfast", How: "on foot", EmotionalValence: 0.5, Importance: 0.25}},
	{"default", "delta", "Backups run nightly at 02:00 UTC.", []float32{0.9, 0.1, 0, 0}, []string{"ops"}, nil},
	{"default", "echo", "The staging database is seeded from last week's snapshot.", []float32{0, 0, 0, 1}, nil, nil},
	{"notes", "n-1", "Read chapter 3 of the storage book.", []float32{0, 1, 0, 0}, nil, nil},
	{"notes", "n-2", "Buy coffee filters.", []float32{0, 0, 1, 0}, nil, nil},
	{"notes", "n-3", "Call the plumber about the kitchen sink.", []float32{0, 0, 0, 1}, nil, nil},
}

// Expected live memories of the fixture, per space, after its forgets.
var fixtureLive = map[string][]string{
	"default": {"alpha", "charlie", "delta", "echo"},
	"notes":   {"n-1", "n-3"},
}

// buildFixture writes a data root with two spaces through the real engine: remembers with
// their association edges, a replaced memory, forgets and one batch of accesses.
func buildFixture(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "data")
	e := enginetest.Open(t, fixtureConfig(root))
	ctx := context.Background()
	space := func(id string) *engine.Space {
		s, err := e.SpaceForWrite(id)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	remember := func(fm fixtureMemory, observed time.Time) {
		t.Helper()
		m := engine.Memory{ID: fm.id, Content: fm.content, Embedding: fm.vec, Tags: fm.tags, Confidence: 0.8, ObservedAt: observed, Episode: fm.episode}
		// AutoLink waits for the edges record, so the log order is the same every run.
		if _, err := space(fm.space).Remember(ctx, m, engine.RememberOptions{AutoLink: true}); err != nil {
			t.Fatalf("remember %s: %v", fm.id, err)
		}
	}
	for i, fm := range fixtureMemories {
		remember(fm, fixtureNow.Add(-time.Duration(len(fixtureMemories)-i)*time.Hour))
	}
	replaced := fixtureMemories[3]
	replaced.content = "Backups run nightly at 03:00 UTC since the move."
	remember(replaced, fixtureNow)
	for _, f := range []struct{ space, id string }{{"default", "bravo"}, {"notes", "n-2"}} {
		if err := space(f.space).Forget(ctx, f.id); err != nil {
			t.Fatalf("forget %s: %v", f.id, err)
		}
	}
	// A recall reinforces what it returns: the access record is written at the latest on close.
	if _, err := space("default").Recall(ctx, engine.Cue{Embedding: []float32{1, 0, 0, 0}, MaxResults: 2, Threshold: 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, space := range []string{"default", "notes"} {
		pinLogTimes(t, filepath.Join(root, space, "wal"))
	}
	return root
}

// pinLogTimes replaces the wall-clock times the log wrote (segment creation, frame append
// times) with fixed ones: fixtureNow for headers, fixtureNow + LSN milliseconds for frames.
// It rewrites the fields and their checksums as docs/formats/wal.md lays them out, so that
// outputs showing times are the same every run.
func pinLogTimes(t *testing.T, walDir string) {
	t.Helper()
	segs, err := wal.ListSegments(walDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint64(b[32:], uint64(fixtureNow.UnixNano()))
		binary.LittleEndian.PutUint64(b[120:], xxhash.Sum64(b[:120]))
		_, err = wal.ScanSegment(s.Path, func(f wal.Frame) error {
			if f.Err != nil {
				return f.Err
			}
			fr := b[f.Offset : f.Offset+int64(len(f.Raw))]
			at := fixtureNow.Add(time.Duration(f.LSN) * time.Millisecond)
			binary.LittleEndian.PutUint64(fr[16:], uint64(at.UnixNano()))
			binary.LittleEndian.PutUint32(fr[28:], uint32(xxhash.Sum64(fr[4:28])))
			binary.LittleEndian.PutUint64(fr[len(fr)-8:], xxhash.Sum64(fr[4:len(fr)-8]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.Path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// copyTree copies a fixture so that a test can damage it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "copy")
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// frameAt describes an intact frame of a segment.
type frameAt struct {
	seg    string
	offset int64
	size   int
	lsn    uint64
	typ    wal.RecordType
	id     string // the memory the record is about
}

// framesOf lists the intact frames of every segment of a wal folder, in order.
func framesOf(t *testing.T, walDir string) [][]frameAt {
	t.Helper()
	segs, err := wal.ListSegments(walDir)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]frameAt, len(segs))
	for i, s := range segs {
		_, err := wal.ScanSegment(s.Path, func(f wal.Frame) error {
			if f.Err != nil {
				return nil // damaged by an earlier step of the test
			}
			info, err := engine.DescribeRecord(f.Type, f.Payload)
			if err != nil {
				t.Fatalf("fixture record %d: %v", f.LSN, err)
			}
			out[i] = append(out[i], frameAt{seg: s.Path, offset: f.Offset, size: len(f.Raw), lsn: f.LSN, typ: f.Type, id: info.MemoryID})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// flipByte inverts one byte of a file.
func flipByte(t *testing.T, path string, offset int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[offset] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runCmd runs the program with args and returns its exit status and outputs, with the
// fixture's temporary folder replaced by $ROOT so that outputs compare across runs.
func runCmd(t *testing.T, root string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	norm := func(s string) string { return strings.ReplaceAll(s, root, "$ROOT") }
	return code, norm(stdout.String()), norm(stderr.String())
}
