package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/internal/enginetest"
)

// buildLargeLog writes n memories of about 300 bytes each into the default space of a new
// data root, with the engine's default segment size, and returns the root and the log's size.
func buildLargeLog(b *testing.B, n int) (string, int64) {
	b.Helper()
	root := filepath.Join(b.TempDir(), "data")
	cfg := fixtureConfig(root)
	cfg.Defaults.WALSegmentBytes = 0
	cfg.Defaults.WALSync = "never"
	e := enginetest.Open(b, cfg)
	s, err := e.Space("default")
	if err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	for i := 0; i < n; i += batch {
		ms := make([]engine.Memory, 0, batch)
		for j := i; j < min(n, i+batch); j++ {
			ms = append(ms, engine.Memory{ID: fmt.Sprintf("m-%07d", j),
				Content:   fmt.Sprintf("memory %d: %0200d", j, j),
				Embedding: []float32{float32(j%7) + 1, float32(j%5) + 1, float32(j%3) + 1, 1}})
		}
		if _, errs := s.RememberBatch(context.Background(), ms, engine.RememberOptions{}); errs[0] != nil {
			b.Fatal(errs[0])
		}
	}
	if err := e.Close(); err != nil {
		b.Fatal(err)
	}
	var size int64
	segs, err := listSegments(filepath.Join(root, "default", "wal"))
	if err != nil {
		b.Fatal(err)
	}
	for _, sg := range segs {
		fi, err := os.Stat(sg.path)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	return root, size
}

func BenchmarkCommands(b *testing.B) {
	root, size := buildLargeLog(b, 50000)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"ls", []string{"ls", root}},
		{"verify", []string{"verify", root}},
		{"stats", []string{"stats", root}},
		{"dump", []string{"dump", root}},
		{"dump_json", []string{"dump", "--json", root}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size) // throughput in log bytes read
			for b.Loop() {
				if code := run(c.args, io.Discard, io.Discard); code != exitOK {
					b.Fatalf("%v: exit %d", c.args, code)
				}
			}
		})
	}
}
