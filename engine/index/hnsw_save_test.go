package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/engram-go/engram/simd"
)

func identity(r uint32) (uint32, bool) { return r, true }

// TestHNSWSaveLoad saves graphs and loads them back: the loaded graph answers every
// search exactly as the saved one did over the rows it kept, saves to the same bytes, and
// takes inserts afterwards.
func TestHNSWSaveLoad(t *testing.T) {
	const rows, dim = 2000, 16
	slab := randomUnitSlab(rows+200, dim, 41)
	queries := randomUnitSlab(50, dim, 42)
	tests := []struct {
		name   string
		delete func(uint32) bool // rows deleted before saving
		remap  func(uint32) (uint32, bool)
		codes  bool // the configuration supplies codes
	}{
		{name: "every row", remap: identity},
		{name: "every row, codes supplied", remap: identity, codes: true},
		{name: "deleted rows dropped", delete: func(r uint32) bool { return r%7 == 3 }, remap: identity},
		{name: "rows left out", remap: func(r uint32) (uint32, bool) { return r, r%5 != 1 }},
		// Renumbered in reverse, so the file's order is not the graph's.
		{name: "renumbered", remap: func(r uint32) (uint32, bool) { return rows - 1 - r, true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := HNSWConfig{Seed: 3}
			vecs := slabVectors(slab, dim)
			h := buildHNSW(slab, dim, rows, cfg)
			if tt.delete != nil {
				for r := range uint32(rows) {
					if tt.delete(r) {
						h.Delete(r)
					}
				}
			}
			data := h.AppendSaved(nil, tt.remap)
			// The loaded graph's row r holds the vector of the original row remapped to r.
			back := make([]uint32, rows)
			for r := range uint32(rows) {
				if nr, ok := tt.remap(r); ok {
					back[nr] = r
				}
			}
			lvecs := func(r uint32) []float32 {
				if int(r) < rows {
					return vecs(back[r])
				}
				return vecs(r)
			}
			lcfg := cfg
			if tt.codes {
				lcfg.Codes = quantized(lvecs, rows+200, dim)
			}
			got, err := loadHNSW(dim, lcfg, lvecs, rows, data, nil)
			if err != nil {
				t.Fatal(err)
			}
			kept := 0
			for r := range uint32(rows) {
				nr, ok := tt.remap(r)
				live := ok && (tt.delete == nil || !tt.delete(r))
				if got.Contains(nr) != live && ok {
					t.Fatalf("row %d (saved as %d): Contains = %v, want %v", r, nr, got.Contains(nr), live)
				}
				if live {
					kept++
				}
			}
			if got.Len() != kept {
				t.Fatalf("Len = %d, want %d", got.Len(), kept)
			}
			if again := got.AppendSaved(nil, identity); !bytes.Equal(again, data) {
				t.Fatal("a loaded graph saves to other bytes")
			}
			if tt.delete == nil && tt.name != "rows left out" {
				// The same nodes with the same links: searches agree row for row.
				for i := range 50 {
					q := queries[i*dim : (i+1)*dim]
					want := h.Search(q, 10, 0, nil)
					for j := range want {
						want[j].Row, _ = tt.remap(want[j].Row)
					}
					g := got.Search(q, 10, 0, nil)
					SortScored(want)
					SortScored(g)
					if !reflect.DeepEqual(g, want) {
						t.Fatalf("query %d: %v from the loaded graph, %v from the saved one", i, g, want)
					}
				}
				// The file keeps no similarities: those computed for a loaded list are the
				// ones its links were made with, but for rounding (a·b·c against a·c·b).
				for r := range uint32(rows) {
					nr, _ := tt.remap(r)
					want, g := h.scoresAt(r), got.scoresAt(nr)
					if len(g) != len(want) {
						t.Fatalf("row %d: %d layer-0 similarities loaded, %d saved", r, len(g), len(want))
					}
					for j := range want {
						if math.Abs(float64(g[j]-want[j])) > 1e-6 {
							t.Fatalf("row %d, link %d: similarity %v loaded, %v saved", r, j, g[j], want[j])
						}
					}
				}
			}
			live := func(r uint32) bool { return got.Contains(r) }
			if r := recallAt(got, flatten(lvecs, rows, dim), dim, rows, queries, 10, 0, live); r < 0.9 {
				t.Errorf("recall@10 of the loaded graph = %.3f", r)
			}
			for r := uint32(rows); r < rows+200; r++ {
				got.Insert(r)
			}
			if got.Len() != kept+200 {
				t.Fatalf("Len = %d after 200 inserts, want %d", got.Len(), kept+200)
			}
		})
	}
}

// quantized gives the codes of rows [0, n), as a store that keeps codes would.
func quantized(vec func(uint32) []float32, n, dim int) func(uint32) ([]int8, float32) {
	codes, scales := make([]int8, n*dim), make([]float32, n)
	for r := range n {
		scales[r] = simd.Quantize(vec(uint32(r)), codes[r*dim:(r+1)*dim])
	}
	return func(r uint32) ([]int8, float32) { return codes[int(r)*dim : (int(r)+1)*dim], scales[r] }
}

// flatten copies rows vectors into one slab.
func flatten(vec func(uint32) []float32, rows, dim int) []float32 {
	out := make([]float32, 0, rows*dim)
	for r := range uint32(rows) {
		out = append(out, vec(r)...)
	}
	return out
}

// TestLoadHNSWRejects damages saved data in ways a checksum would not catch.
func TestLoadHNSWRejects(t *testing.T) {
	const rows, dim = 300, 8
	slab := randomUnitSlab(rows, dim, 51)
	good := buildHNSW(slab, dim, rows, HNSWConfig{Seed: 4}).AppendSaved(nil, identity)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	le := binary.LittleEndian
	tests := []struct {
		name string
		data []byte
		rows int
		cfg  HNSWConfig
	}{
		{"empty", nil, rows, HNSWConfig{}},
		{"other M", good, rows, HNSWConfig{M: 8}},
		{"fewer rows", good, rows - 1, HNSWConfig{}},
		{"reserved byte", edit(func(b []byte) []byte { b[14] = 1; return b }), rows, HNSWConfig{}},
		{"truncated", good[:len(good)-3], rows, HNSWConfig{}},
		{"trailing byte", append(bytes.Clone(good), 0), rows, HNSWConfig{}},
		{"node count", edit(func(b []byte) []byte { le.PutUint32(b[4:], rows+1); return b }), rows, HNSWConfig{}},
		{"entry row", edit(func(b []byte) []byte { le.PutUint32(b[8:], rows); return b }), rows, HNSWConfig{}},
		{"top level", edit(func(b []byte) []byte { b[12] = 31; return b }), rows, HNSWConfig{}},
		{"rows out of order", edit(func(b []byte) []byte { le.PutUint32(b[hnswSavedHeader:], 5); return b }), rows, HNSWConfig{}},
		{"link to itself", edit(func(b []byte) []byte { le.PutUint32(b[hnswSavedHeader+hnswNodeMin:], 0); return b }), rows, HNSWConfig{}},
		{"link past the rows", edit(func(b []byte) []byte { le.PutUint32(b[hnswSavedHeader+hnswNodeMin:], rows); return b }), rows, HNSWConfig{}},
		{"layer-0 count", edit(func(b []byte) []byte { le.PutUint16(b[hnswSavedHeader+5:], 33); return b }), rows, HNSWConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHNSW(dim, tt.cfg, slabVectors(slab, dim))
			if err := h.Load(tt.rows, tt.data, nil); !errors.Is(err, ErrHNSWData) {
				t.Fatalf("Load = %v; want an error wrapping ErrHNSWData", err)
			}
			if h.Len() != 0 || h.Contains(0) {
				t.Fatalf("a graph that failed to load holds %d rows", h.Len())
			}
		})
	}
	t.Run("row the store does not index", func(t *testing.T) {
		h := NewHNSW(dim, HNSWConfig{}, slabVectors(slab, dim))
		if err := h.Load(rows, good, func(r uint32) bool { return r != 5 }); !errors.Is(err, ErrHNSWData) {
			t.Fatalf("Load = %v; want an error wrapping ErrHNSWData", err)
		}
		if err := h.Load(rows, good, func(uint32) bool { return true }); err != nil {
			t.Fatal(err)
		}
		if err := h.Load(rows, good, nil); err == nil {
			t.Fatal("Load into a loaded graph succeeded")
		}
	})
}

// FuzzLoadHNSW feeds arbitrary bytes to LoadHNSW over 64 rows; whatever loads must save
// back to the same bytes and take searches and inserts.
func FuzzLoadHNSW(f *testing.F) {
	const rows, dim = 64, 4
	slab := randomUnitSlab(rows, dim, 61)
	f.Add(buildHNSW(slab, dim, rows, HNSWConfig{Seed: 5}).AppendSaved(nil, identity))
	small := buildHNSW(slab, dim, 3, HNSWConfig{Seed: 6})
	f.Add(small.AppendSaved(nil, identity))
	f.Add(NewHNSW(dim, HNSWConfig{}, nil).AppendSaved(nil, identity))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := loadHNSW(dim, HNSWConfig{}, slabVectors(slab, dim), rows, data, nil)
		if err != nil {
			if !errors.Is(err, ErrHNSWData) {
				t.Fatalf("error %v does not wrap ErrHNSWData", err)
			}
			return
		}
		if again := h.AppendSaved(nil, identity); !bytes.Equal(again, data) {
			t.Fatalf("a loaded graph saves to other bytes:\n%x\n%x", again, data)
		}
		h.Search(slab[:dim], 5, 0, nil)
		for r := range uint32(rows) {
			if !h.Contains(r) {
				h.Insert(r)
			}
		}
		if h.Len() != rows {
			t.Fatalf("Len = %d after inserting every row", h.Len())
		}
	})
}

// BenchmarkHNSWLoad loads a saved graph of 20,000 rows of 64 dimensions (codes supplied
// by the store, as the engine's slab does): the vector index's share of opening a space.
func BenchmarkHNSWLoad(b *testing.B) {
	const rows, dim = 20000, 64
	slab := randomUnitSlab(rows, dim, 71)
	vecs := slabVectors(slab, dim)
	cfg := HNSWConfig{Seed: 7, EfConstruction: 100, Codes: quantized(vecs, rows, dim)}
	h := NewHNSW(dim, cfg, vecs)
	for r := range uint32(rows) {
		h.Insert(r)
	}
	data := h.AppendSaved(nil, identity)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if err := NewHNSW(dim, cfg, vecs).Load(rows, data, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
}
