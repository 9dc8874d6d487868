package tier

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestSegmentRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		rs   recordSet
	}{
		{"warm empty", KindWarm, recordSet{n: 0, dim: 16}},
		{"cold empty", KindCold, recordSet{n: 0, dim: 16}},
		{"warm one", KindWarm, recordSet{n: 1, dim: 8, metaMax: 40}},
		{"cold one", KindCold, recordSet{n: 1, dim: 8, metaMax: 40}},
		{"warm no vectors at all", KindWarm, recordSet{n: 50, dim: 0, metaMax: 30}},
		{"cold no vectors at all", KindCold, recordSet{n: 50, dim: 0, metaMax: 30}},
		{"warm odd dim, some missing", KindWarm, recordSet{n: 257, dim: 3, noVectorEvery: 5, metaMax: 100}},
		{"cold odd dim, some missing", KindCold, recordSet{n: 257, dim: 3, noVectorEvery: 5, metaMax: 100}},
		{"warm block boundary", KindWarm, recordSet{n: 64, dim: 128, metaMax: 10}},
		{"cold block boundary", KindCold, recordSet{n: 64, dim: 128, metaMax: 10}},
		{"cold one past block", KindCold, recordSet{n: 65, dim: 128, metaMax: 10}},
		{"warm 768", KindWarm, recordSet{n: 600, dim: 768, noVectorEvery: 7, metaMax: 300}},
		{"cold 768", KindCold, recordSet{n: 600, dim: 768, noVectorEvery: 7, metaMax: 300}},
		{"cold big metadata splits blocks early", KindCold, recordSet{n: 300, dim: 4, metaMax: 6000}},
		{"warm empty metadata", KindWarm, recordSet{n: 20, dim: 4}},
		{"cold empty metadata", KindCold, recordSet{n: 20, dim: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := makeRecords(uint64(len(tt.name)), tt.rs)
			s := openTemp(t, tt.kind, tt.rs.dim, recs)
			if s.Kind() != tt.kind || s.Dim() != tt.rs.dim || s.Len() != len(recs) {
				t.Fatalf("Kind, Dim, Len = %v, %d, %d; want %v, %d, %d", s.Kind(), s.Dim(), s.Len(), tt.kind, tt.rs.dim, len(recs))
			}
			if err := s.Verify(); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got := make([]float32, tt.rs.dim)
			for i, rec := range recs {
				if id := s.ID(i); id != rec.ID {
					t.Fatalf("ID(%d) = %q, want %q", i, id, rec.ID)
				}
				if m := s.Meta(i); !bytes.Equal(m, rec.Meta) || m == nil {
					t.Fatalf("Meta(%d) = %q, want %q", i, m, rec.Meta)
				}
				if j, ok := s.Lookup(rec.ID); !ok || j != i {
					t.Fatalf("Lookup(%q) = %d, %v; want %d, true", rec.ID, j, ok, i)
				}
				has := len(rec.Vector) > 0
				if s.HasVector(i) != has {
					t.Fatalf("HasVector(%d) = %v, want %v", i, !has, has)
				}
				wantNorm := rec.Norm
				if !has {
					wantNorm = 0
				}
				if s.Norm(i) != wantNorm {
					t.Fatalf("Norm(%d) = %v, want %v", i, s.Norm(i), wantNorm)
				}
				for j := range got {
					got[j] = 42
				}
				s.Vector(i, got)
				// A cold element is off by at most half the row's quantisation step.
				tol := float32(0)
				if tt.kind == KindCold && has {
					tol = maxAbs(rec.Vector)/127/2 + 1e-7
				}
				for j := range got {
					want := float32(0)
					if has {
						want = rec.Vector[j]
					}
					if d := got[j] - want; d > tol || d < -tol {
						t.Fatalf("Vector(%d)[%d] = %v, want %v ± %v", i, j, got[j], want, tol)
					}
				}
			}
			for _, id := range []string{"", "mem", "mem-", "zzz", "\x00", strings.Repeat("m", 300)} {
				if j, ok := s.Lookup(id); ok {
					t.Errorf("Lookup(%q) = %d, true; want absent", id, j)
				}
			}
		})
	}
}

func TestWriteSegmentRejects(t *testing.T) {
	vec := []float32{0.6, 0.8}
	tests := []struct {
		name   string
		kind   Kind
		dim    int
		recs   []Record
		target error
	}{
		{"unknown kind", Kind(3), 2, nil, ErrInvalidArgument},
		{"kind zero", Kind(0), 2, nil, ErrInvalidArgument},
		{"negative dim", KindWarm, -1, nil, ErrInvalidArgument},
		{"dim too large", KindWarm, MaxDim + 1, nil, ErrInvalidArgument},
		{"empty id", KindWarm, 2, []Record{{ID: ""}}, ErrInvalidRecord},
		{"duplicate id", KindCold, 2, []Record{{ID: "a"}, {ID: "b"}, {ID: "a"}}, ErrDuplicateID},
		{"short vector", KindWarm, 2, []Record{{ID: "a", Vector: []float32{1}, Norm: 1}}, ErrInvalidRecord},
		{"long vector", KindCold, 2, []Record{{ID: "a", Vector: []float32{1, 0, 0}, Norm: 1}}, ErrInvalidRecord},
		{"vector with dim 0", KindWarm, 0, []Record{{ID: "a", Vector: vec, Norm: 1}}, ErrInvalidRecord},
		{"NaN element", KindWarm, 2, []Record{{ID: "a", Vector: []float32{float32(nan()), 0}, Norm: 1}}, ErrInvalidRecord},
		{"infinite norm", KindCold, 2, []Record{{ID: "a", Vector: vec, Norm: float32(inf())}}, ErrInvalidRecord},
		{"negative norm", KindWarm, 2, []Record{{ID: "a", Vector: vec, Norm: -1}}, ErrInvalidRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "seg")
			err := WriteSegment(path, tt.kind, tt.dim, tt.recs)
			if !errors.Is(err, tt.target) {
				t.Fatalf("WriteSegment = %v, want %v", err, tt.target)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a rejected write left %d files behind", len(entries))
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }
func inf() float64 { var z float64; return 1 / z }

func TestWriteSegmentReplacesAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "space", "warm")
	path := filepath.Join(dir, "0001.seg")
	first := makeRecords(1, recordSet{n: 10, dim: 4, metaMax: 10})
	second := makeRecords(2, recordSet{n: 20, dim: 4, metaMax: 10})
	for _, recs := range [][]Record{first, second} {
		if err := WriteSegment(path, KindWarm, 4, recs); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "0001.seg" {
		t.Fatalf("folder holds %v, want only 0001.seg", entries)
	}
	s, err := OpenSegment(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != len(second) {
		t.Errorf("Len = %d, want %d (the second write)", s.Len(), len(second))
	}
}

func TestSegmentCloseAndUseAfter(t *testing.T) {
	for _, kind := range []Kind{KindWarm, KindCold} {
		t.Run(kind.String(), func(t *testing.T) {
			recs := makeRecords(3, recordSet{n: 100, dim: 8, metaMax: 50})
			s, err := OpenSegment(writeTemp(t, kind, 8, recs))
			if err != nil {
				t.Fatal(err)
			}
			id, meta := s.ID(7), s.Meta(7)
			hits := s.Scan(recs[7].Vector, 3, nil)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := s.Close(); !errors.Is(err, ErrClosed) {
				t.Errorf("second Close = %v, want ErrClosed", err)
			}
			if id != recs[7].ID || !bytes.Equal(meta, recs[7].Meta) || len(hits) != 3 || hits[0].Index != 7 {
				t.Errorf("values read before Close changed: id %q meta %q hits %v", id, meta, hits)
			}
			if s.Len() != 0 {
				t.Errorf("Len after Close = %d, want 0", s.Len())
			}
		})
	}
}

func TestSegmentAccessorsPanicOutOfRange(t *testing.T) {
	s := openTemp(t, KindWarm, 2, makeRecords(4, recordSet{n: 3, dim: 2}))
	calls := map[string]func(){
		"ID(-1)":           func() { s.ID(-1) },
		"Meta(3)":          func() { s.Meta(3) },
		"HasVector(3)":     func() { s.HasVector(3) },
		"Norm(-1)":         func() { s.Norm(-1) },
		"Vector(3)":        func() { s.Vector(3, make([]float32, 2)) },
		"Vector(0, short)": func() { s.Vector(0, make([]float32, 1)) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			call()
		})
	}
}

func TestSegmentConcurrentReaders(t *testing.T) {
	for _, kind := range []Kind{KindWarm, KindCold} {
		t.Run(kind.String(), func(t *testing.T) {
			recs := makeRecords(5, recordSet{n: 500, dim: 32, noVectorEvery: 9, metaMax: 200})
			s := openTemp(t, kind, 32, recs)
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out := make([]float32, 32)
					for i := w; i < len(recs); i += 4 {
						if !bytes.Equal(s.Meta(i), recs[i].Meta) {
							errs <- "Meta differs"
							return
						}
						if j, ok := s.Lookup(recs[i].ID); !ok || j != i {
							errs <- "Lookup differs"
							return
						}
						s.Vector(i, out)
						if i%50 == 0 && recs[i].Vector != nil {
							s.Scan(recs[i].Vector, 5, func(int) bool { return true })
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

func TestWarmVectorsAreAlignedInPlace(t *testing.T) {
	recs := makeRecords(6, recordSet{n: 10, dim: 5, metaMax: 33})
	s := openTemp(t, KindWarm, 5, recs)
	p := uintptr(unsafe.Pointer(&s.floats[0]))
	if p%sectionAlign != 0 {
		t.Errorf("vector block at address %#x is not 64-byte aligned", p)
	}
	base := uintptr(unsafe.Pointer(&s.file.Bytes()[0]))
	if p < base || p >= base+uintptr(s.file.Len()) {
		t.Errorf("vector block is not inside the mapping")
	}
}
