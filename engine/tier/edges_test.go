package tier

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestEdgesRoundTrip(t *testing.T) {
	many := make([]EdgeRecord, 5000)
	for i := range many {
		many[i] = EdgeRecord{From: fmt.Sprintf("mem-%d", i/7), To: fmt.Sprintf("mem-%d", i*31%997), Weight: float32(i%100) / 100, Kind: uint8(1 + i%3)}
	}
	tests := []struct {
		name  string
		edges []EdgeRecord
	}{
		{"none", nil},
		{"one", []EdgeRecord{{From: "a", To: "b", Weight: 0.75, Kind: 1}}},
		{"empty and unicode ids", []EdgeRecord{{From: "", To: "記憶", Weight: -0.5, Kind: 0}, {From: "x", To: "", Weight: 1, Kind: 255}}},
		{"many", many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "graph.edges")
			if err := WriteEdges(path, tt.edges); err != nil {
				t.Fatalf("WriteEdges: %v", err)
			}
			got, err := ReadEdges(path)
			if err != nil {
				t.Fatalf("ReadEdges: %v", err)
			}
			if len(got) != len(tt.edges) || (len(got) > 0 && !reflect.DeepEqual(got, tt.edges)) {
				t.Fatalf("ReadEdges returned %d edges differing from the %d written", len(got), len(tt.edges))
			}
		})
	}
}

func TestWriteEdgesRejectsNonFiniteWeight(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.edges")
	err := WriteEdges(path, []EdgeRecord{{From: "a", To: "b", Weight: float32(nan())}})
	if !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("WriteEdges = %v, want ErrInvalidRecord", err)
	}
}

func TestReadEdgesDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "graph.edges")
	edges := []EdgeRecord{{From: "a", To: "b", Weight: 0.5, Kind: 1}, {From: "b", To: "c", Weight: 0.25, Kind: 2}}
	if err := WriteEdges(path, edges); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for at := range good {
		bad := append([]byte(nil), good...)
		bad[at] ^= 0x10
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadEdges(path); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flipping byte %d: %v, want ErrCorrupt", at, err)
		}
	}
	for _, cut := range []int{0, edgesHeaderSize - 1, edgesHeaderSize, len(good) - 1} {
		if err := os.WriteFile(path, good[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadEdges(path); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("edges cut to %d bytes: %v, want ErrCorrupt", cut, err)
		}
	}
	if _, err := ReadEdges(filepath.Join(filepath.Dir(path), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadEdges of a missing file = %v, want a not-exist error", err)
	}
}
