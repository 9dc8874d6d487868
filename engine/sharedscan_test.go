package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/internal/cputime"
	"github.com/engram-go/engram/simd"
)

// TestSharedCodeScans: scans running together in one pass, over equal, overlapping,
// nested and disjoint ranges, joining while the pass is under way, with one, two and eight
// workers, each rank exactly the rows a scan of its range alone ranks, and every caller
// returns.
func TestSharedCodeScans(t *testing.T) {
	const dim, rows, k = 32, 12000, 40
	rng := rand.New(rand.NewPCG(7, 8))
	s := randomCodedSlab(dim, rows, rng)
	query := func(seed uint64) ([]int8, float32) {
		r := rand.New(rand.NewPCG(seed, 1))
		q := make([]float32, dim)
		for i := range q {
			q[i] = float32(r.NormFloat64())
		}
		simd.Normalize(q)
		qc := make([]int8, dim)
		return qc, simd.Quantize(q, qc)
	}
	alone := func(seed uint64, lo, hi int) []index.Scored {
		qc, qs := query(seed)
		scan := index.NewInt8Scan(qc, qs, k)
		s.scanRows(scan, lo, hi)
		return scan.Sorted()
	}
	type span struct{ lo, hi int }
	for _, tc := range []struct {
		name  string
		spans []span
	}{
		{"one", []span{{0, rows}}},
		{"equal", []span{{0, rows}, {0, rows}, {0, rows}, {0, rows}}},
		{"overlapping, unaligned", []span{{100, 7001}, {5000, rows}, {3, 9999}}},
		{"nested", []span{{0, rows}, {4096, 4352}, {6000, 6001}}},
		{"disjoint", []span{{0, 1000}, {11000, rows}, {5000, 5300}}},
		{"many", func() []span {
			var out []span
			for i := range 24 {
				lo := (i * 397) % rows
				out = append(out, span{lo, min(rows, lo+1+(i*1733)%rows)})
			}
			return out
		}()},
	} {
		for _, procs := range []int{1, 2, 8} {
			t.Run(fmt.Sprintf("%s/procs=%d", tc.name, procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				got := make([][]index.Scored, len(tc.spans))
				var wg sync.WaitGroup
				for i, sp := range tc.spans {
					wg.Go(func() {
						qc, qs := query(uint64(i))
						scan := index.NewInt8Scan(qc, qs, k)
						s.scanCodes(scan, sp.lo, sp.hi)
						got[i] = scan.Sorted()
					})
				}
				wg.Wait()
				for i, sp := range tc.spans {
					if want := alone(uint64(i), sp.lo, sp.hi); fmt.Sprint(got[i]) != fmt.Sprint(want) {
						t.Fatalf("scan %d of [%d, %d):\nshared %v\nalone  %v", i, sp.lo, sp.hi, got[i], want)
					}
				}
				s.shared.mu.Lock()
				defer s.shared.mu.Unlock()
				if len(s.shared.active) != 0 || s.shared.workers != 0 {
					t.Fatalf("after every scan returned: %d scans in progress, %d workers", len(s.shared.active), s.shared.workers)
				}
			})
		}
	}
}

// BenchmarkCodeScans: 1, 2, 4 or 8 goroutines each ranking the codes of the same 32,768
// rows of 768 dimensions, each alone or in shared passes (scanCodes); b.N is the number of
// scans, p50-ms the median time of one scan (what a caller waits for its own) and
// cpu-ms/scan the process's CPU time per scan, which moves far less than wall time on a
// shared machine.
func BenchmarkCodeScans(b *testing.B) {
	const dim, rows = 768, 32768
	rng := rand.New(rand.NewPCG(1, 2))
	s := randomCodedSlab(dim, rows, rng)
	qc := make([]int8, dim)
	for i := range qc {
		qc[i] = int8(rng.IntN(255) - 127)
	}
	for _, mode := range []string{"alone", "shared"} {
		for _, scanners := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("%s/scanners=%d", mode, scanners), func(b *testing.B) {
				lat := make([][]time.Duration, scanners)
				cpu, _ := cputime.Process()
				var wg sync.WaitGroup
				for g := range scanners {
					n := b.N / scanners
					if g < b.N%scanners {
						n++
					}
					wg.Go(func() {
						for range n {
							start := time.Now()
							scan := index.NewInt8Scan(qc, 1, 40)
							if mode == "shared" {
								s.scanCodes(scan, 0, rows)
							} else {
								s.scanRows(scan, 0, rows)
							}
							lat[g] = append(lat[g], time.Since(start))
						}
					})
				}
				wg.Wait()
				if now, ok := cputime.Process(); ok {
					b.ReportMetric(float64((now-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/scan")
				}
				all := slices.Concat(lat...)
				slices.Sort(all)
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")

			})
		}
	}
}

// randomCodedSlab is a slab of rows random unit vectors of dim dimensions, each encoded.
func randomCodedSlab(dim, rows int, rng *rand.Rand) *slab {
	s := newSlab(dim)
	s.reserve(0, rows)
	for r := range rows {
		v := s.row(uint32(r))
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		simd.Normalize(v)
		s.encode(uint32(r))
	}
	return s
}
