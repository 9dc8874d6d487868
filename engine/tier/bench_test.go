package tier

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/engram-go/engram/simd"
)

const (
	benchRows = 100_000
	benchDim  = 768
)

// benchData is built once per test binary: 100k random unit vectors in one slab, records
// that reference it, and a warm and a cold segment of them in a temporary folder.
type benchData struct {
	slab      []float32
	recs      []Record
	dir       string
	warm      string
	cold      string
	q         []float32
	buildErr  error
	buildOnce sync.Once
}

var bench benchData

func loadBench(b *testing.B) *benchData {
	b.Helper()
	bench.buildOnce.Do(func() {
		r := rand.New(rand.NewPCG(41, 42))
		bench.slab = make([]float32, benchRows*benchDim)
		for i := range bench.slab {
			bench.slab[i] = float32(r.NormFloat64())
		}
		bench.recs = make([]Record, benchRows)
		for i := range bench.recs {
			v := bench.slab[i*benchDim : (i+1)*benchDim]
			simd.Normalize(v)
			bench.recs[i] = Record{ID: "memory-" + strconv.Itoa(i), Meta: []byte("benchmark metadata " + strconv.Itoa(i)), Vector: v, Norm: 1}
		}
		bench.q = randUnit(r, benchDim)
		bench.dir, bench.buildErr = os.MkdirTemp("", "tier-bench-")
		if bench.buildErr != nil {
			return
		}
		bench.warm = filepath.Join(bench.dir, "warm.seg")
		bench.cold = filepath.Join(bench.dir, "cold.seg")
		if bench.buildErr = WriteSegment(bench.warm, KindWarm, benchDim, bench.recs); bench.buildErr != nil {
			return
		}
		bench.buildErr = WriteSegment(bench.cold, KindCold, benchDim, bench.recs)
	})
	if bench.buildErr != nil {
		b.Fatal(bench.buildErr)
	}
	return &bench
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

func openBench(b *testing.B, path string) *Segment {
	b.Helper()
	s, err := OpenSegment(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkScanWarm100k scans a mapped warm segment of 100k 768-d rows for the top 10.
// MB/s counts the float32 rows read.
func BenchmarkScanWarm100k(b *testing.B) {
	d := loadBench(b)
	s := openBench(b, d.warm)
	b.SetBytes(benchRows * benchDim * 4)
	b.ResetTimer()
	for range b.N {
		if hits := s.Scan(d.q, 10, nil); len(hits) != 10 {
			b.Fatalf("%d hits", len(hits))
		}
	}
}

// BenchmarkScanHotSlab100k is the in-heap reference for BenchmarkScanWarm100k: the same
// rows in a plain []float32, the same blocks and the same top-10 selection.
func BenchmarkScanHotSlab100k(b *testing.B) {
	d := loadBench(b)
	b.SetBytes(benchRows * benchDim * 4)
	b.ResetTimer()
	for range b.N {
		top := topK{k: 10}
		var scores [scanBlockRows]float32
		for start := 0; start < benchRows; start += scanBlockRows {
			m := min(scanBlockRows, benchRows-start)
			simd.DotBatch(d.q, d.slab[start*benchDim:(start+m)*benchDim], benchDim, scores[:m])
			for j, sc := range scores[:m] {
				if top.admits(sc) {
					top.push(Hit{Index: start + j, Score: sc})
				}
			}
		}
		if len(top.sorted()) != 10 {
			b.Fatal("no hits")
		}
	}
}

// BenchmarkScanCold100k scans a mapped cold segment of 100k 768-d int8 rows for the top
// 10. MB/s counts the int8 codes and row scales read.
func BenchmarkScanCold100k(b *testing.B) {
	d := loadBench(b)
	s := openBench(b, d.cold)
	b.SetBytes(benchRows * (benchDim + 4))
	b.ResetTimer()
	for range b.N {
		if hits := s.Scan(d.q, 10, nil); len(hits) != 10 {
			b.Fatalf("%d hits", len(hits))
		}
	}
}

// BenchmarkWriteSegment writes 10k 768-d records, including fsyncs. MB/s counts the
// file's bytes.
func BenchmarkWriteSegment(b *testing.B) {
	d := loadBench(b)
	recs := d.recs[:10_000]
	for _, kind := range []Kind{KindWarm, KindCold} {
		b.Run(kind.String(), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "seg")
			if err := WriteSegment(path, kind, benchDim, recs); err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(fi.Size())
			b.ResetTimer()
			for range b.N {
				if err := WriteSegment(path, kind, benchDim, recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenSegment maps and verifies (checksums, structure) the 100k-row segments,
// with the files in the page cache. MB/s counts the file's bytes.
func BenchmarkOpenSegment(b *testing.B) {
	d := loadBench(b)
	for _, c := range []struct {
		kind Kind
		path string
	}{{KindWarm, d.warm}, {KindCold, d.cold}} {
		b.Run(c.kind.String(), func(b *testing.B) {
			fi, err := os.Stat(c.path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(fi.Size())
			for range b.N {
				s, err := OpenSegment(c.path)
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}

// BenchmarkMetaCold measures one random record's metadata from a cold segment (one block
// decompressed).
func BenchmarkMetaCold(b *testing.B) {
	d := loadBench(b)
	s := openBench(b, d.cold)
	r := rand.New(rand.NewPCG(43, 44))
	b.ResetTimer()
	for range b.N {
		if s.Meta(r.IntN(benchRows)) == nil {
			b.Fatal("no metadata")
		}
	}
}

// BenchmarkLookup measures a lookup by id in the 100k-record sorted index.
func BenchmarkLookup(b *testing.B) {
	d := loadBench(b)
	s := openBench(b, d.warm)
	r := rand.New(rand.NewPCG(45, 46))
	b.ResetTimer()
	for range b.N {
		if _, ok := s.Lookup(d.recs[r.IntN(benchRows)].ID); !ok {
			b.Fatal("not found")
		}
	}
}
