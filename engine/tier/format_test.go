package tier

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden and the fuzz seed corpus from the current writer")

// goldenRecords is the worked example of docs/formats/segment.md.
func goldenRecords() []Record {
	return []Record{
		{ID: "b", Meta: []byte("meta-b"), Vector: []float32{0.5, 0.5, 0.5, 0.5}, Norm: 2},
		{ID: "a"},
		{ID: "c", Meta: []byte("meta-c!"), Vector: []float32{1, 0, 0, 0}, Norm: 3},
	}
}

// TestFormatIsStable pins the byte layout: the writer must reproduce the committed warm
// example exactly, and both committed examples must keep reading back the same records.
// (The cold example is only read back: its zstd blocks may legitimately encode
// differently after a compressor upgrade.)
func TestFormatIsStable(t *testing.T) {
	recs := goldenRecords()
	for _, kind := range []Kind{KindWarm, KindCold} {
		t.Run(kind.String(), func(t *testing.T) {
			golden := filepath.Join("testdata", "golden", kind.String()+".seg")
			written, err := os.ReadFile(writeTemp(t, kind, 4, recs))
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				writeGolden(t, golden, written)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestFormatIsStable -update to create it)", err)
			}
			if kind == KindWarm && !bytes.Equal(written, want) {
				t.Errorf("the writer's output differs from %s:\n got %x\nwant %x", golden, written, want)
			}
			s, err := OpenSegment(golden)
			if err != nil {
				t.Fatalf("OpenSegment(%s): %v", golden, err)
			}
			defer s.Close()
			if s.Len() != len(recs) || s.Dim() != 4 || s.Kind() != kind {
				t.Fatalf("golden segment has Len %d Dim %d Kind %v", s.Len(), s.Dim(), s.Kind())
			}
			v := make([]float32, 4)
			for i, r := range recs {
				s.Vector(i, v)
				if s.ID(i) != r.ID || !bytes.Equal(s.Meta(i), r.Meta) || s.HasVector(i) != (r.Vector != nil) || s.Norm(i) != r.Norm {
					t.Errorf("golden record %d reads back as %q %q %v %v", i, s.ID(i), s.Meta(i), s.HasVector(i), s.Norm(i))
				}
				// Both example vectors quantise exactly: their elements are multiples of max/127.
				if r.Vector != nil && fmt.Sprint(v) != fmt.Sprint(r.Vector) {
					t.Errorf("golden record %d vector = %v, want %v", i, v, r.Vector)
				}
			}
		})
	}
}

// writeGolden stores a golden file and the same bytes as a seed of FuzzOpenSegment.
func writeGolden(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join("testdata", "fuzz", "FuzzOpenSegment", filepath.Base(path))
	if err := os.MkdirAll(filepath.Dir(seed), 0o755); err != nil {
		t.Fatal(err)
	}
	corpus := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
	if err := os.WriteFile(seed, []byte(corpus), 0o644); err != nil {
		t.Fatal(err)
	}
}
