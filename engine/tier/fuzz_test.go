package tier

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenSegment feeds arbitrary bytes to OpenSegment, then the same bytes with their
// checksums recomputed, so that the structural checks behind the checksums are exercised
// too. Whatever opens must answer every accessor on every index without panicking.
func FuzzOpenSegment(f *testing.F) {
	for _, kind := range []Kind{KindWarm, KindCold} {
		for _, rs := range []recordSet{
			{n: 0, dim: 4},
			{n: 5, dim: 0, metaMax: 6},
			{n: 9, dim: 3, noVectorEvery: 3, metaMax: 12},
		} {
			b, err := os.ReadFile(writeTemp(f, kind, rs.dim, makeRecords(uint64(rs.n), rs)))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(segmentMagic))
	f.Add(make([]byte, headerSize))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		resealed := append([]byte(nil), data...)
		reseal(resealed)
		for name, b := range map[string][]byte{"raw": data, "resealed": resealed} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := OpenSegment(path)
			if err != nil {
				continue
			}
			exercise(s)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
	})
}

// exercise calls every accessor of s on every index.
func exercise(s *Segment) {
	_, _, _ = s.Kind(), s.Path(), s.Verify()
	v := make([]float32, s.Dim())
	for i := range s.Len() {
		id := s.ID(i)
		s.Lookup(id)
		s.Meta(i)
		s.HasVector(i)
		s.Vector(i, v)
		s.Norm(i)
	}
	s.Lookup("")
	s.Lookup("\xff\xff")
	q := make([]float32, s.Dim())
	if len(q) > 0 {
		q[0] = 1
	}
	s.Scan(q, 3, nil)
	s.Scan(q, s.Len()+1, func(i int) bool { return i%2 == 0 })
	s.Scan(v, 2, nil)
}
