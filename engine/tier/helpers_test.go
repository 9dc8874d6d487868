package tier

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/engram-go/engram/simd"
)

func randUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	simd.Normalize(v)
	return v
}

// recordSet describes generated test records.
type recordSet struct {
	n, dim int
	// noVectorEvery leaves every noVectorEvery-th record without a vector (0: all have one).
	noVectorEvery int
	// metaMax bounds the metadata length; lengths vary from 0 to metaMax.
	metaMax int
}

// makeRecords builds records whose ids are not in record order, so that the sorted index
// is a real permutation, with metadata of varying length (some empty).
func makeRecords(seed uint64, rs recordSet) []Record {
	r := rand.New(rand.NewPCG(seed, 7))
	perm := r.Perm(rs.n)
	recs := make([]Record, rs.n)
	for i := range recs {
		rec := Record{ID: fmt.Sprintf("mem-%x-%d", perm[i]*2654435761%1000003, perm[i])}
		if rs.metaMax > 0 {
			rec.Meta = make([]byte, r.IntN(rs.metaMax+1))
			for j := range rec.Meta {
				// Compressible but not constant, like encoded text.
				rec.Meta[j] = "abcdefgh ijklmnop"[r.IntN(17)]
			}
		}
		if rs.dim > 0 && (rs.noVectorEvery == 0 || i%rs.noVectorEvery != rs.noVectorEvery-1) {
			rec.Vector = randUnit(r, rs.dim)
			rec.Norm = 0.5 + 10*r.Float32()
		}
		recs[i] = rec
	}
	return recs
}

func writeTemp(t testing.TB, kind Kind, dim int, recs []Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seg")
	if err := WriteSegment(path, kind, dim, recs); err != nil {
		t.Fatalf("WriteSegment: %v", err)
	}
	return path
}

func openTemp(t testing.TB, kind Kind, dim int, recs []Record) *Segment {
	t.Helper()
	s, err := OpenSegment(writeTemp(t, kind, dim, recs))
	if err != nil {
		t.Fatalf("OpenSegment: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sectionRefs reads the section table of a segment's bytes.
func sectionRefs(b []byte) [numSections]sectionRef {
	return decodeHeader(b).sections
}

// reseal recomputes the section checksums and the header checksum of a segment's bytes, so
// that structural checks can be exercised behind valid checksums. Sections whose table entry
// points outside b are left alone.
func reseal(b []byte) {
	if len(b) < headerSize {
		return
	}
	for s := range numSections {
		e := b[hdrSections+int(s)*sectionEntrySize:]
		off, n := binary.LittleEndian.Uint64(e[0:]), binary.LittleEndian.Uint64(e[8:])
		if off <= uint64(len(b)) && n <= uint64(len(b))-off {
			binary.LittleEndian.PutUint64(e[16:], xxhash.Sum64(b[off:off+n]))
		}
	}
	binary.LittleEndian.PutUint64(b[hdrChecksum:], xxhash.Sum64(b[:hdrChecksum]))
}

// dot64 is an exact-enough reference dot product.
func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// maxAbs returns the largest |v[i]|.
func maxAbs(v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, float32(math.Abs(float64(x))))
	}
	return m
}
