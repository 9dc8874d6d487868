package tier

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"
)

func sampleRowGraph() RowGraph {
	ids := NewIDSum()
	for _, id := range []string{"a", "b", "c", "d"} {
		ids.Add(id)
	}
	return RowGraph{DerivedHeader: DerivedHeader{LSN: 42, Rows: 4, IDSum: ids.Sum(), Count: 3}, Edges: []RowEdge{
		{A: 0, B: 1, Weight: 0.5, Kind: 1},
		{A: 0, B: 3, Weight: 1, Kind: 2},
		{A: 2, B: 3, Weight: 0.25, Kind: 3},
	}}
}

func TestRowGraphRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, g := range []RowGraph{sampleRowGraph(), {DerivedHeader: DerivedHeader{LSN: 1}, Edges: []RowEdge{}}} {
		path := filepath.Join(dir, "g")
		if err := WriteRowGraph(path, g); err != nil {
			t.Fatal(err)
		}
		got, err := ReadRowGraph(path)
		if err != nil {
			t.Fatal(err)
		}
		if back := (RowGraph{got.DerivedHeader, got.Edges()}); !reflect.DeepEqual(back, g) {
			t.Fatalf("read %+v, wrote %+v", back, g)
		}
		// Bytes not aligned for words decode the same, from a copy.
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		unaligned, err := DecodeRowGraph(append([]byte{0}, b...)[1:])
		if err != nil {
			t.Fatal(err)
		}
		if back := (RowGraph{unaligned.DerivedHeader, unaligned.Edges()}); !reflect.DeepEqual(back, g) {
			t.Fatalf("read unaligned %+v, wrote %+v", back, g)
		}
	}
	// Each row lists its edges as the association graph keeps them: weight descending,
	// then row ascending.
	path := filepath.Join(dir, "g")
	if err := WriteRowGraph(path, sampleRowGraph()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRowGraph(path)
	if err != nil {
		t.Fatal(err)
	}
	type list struct {
		to   []uint32
		w    []float32
		kind []uint8
	}
	want := []list{
		{[]uint32{3, 1}, []float32{1, 0.5}, []uint8{2, 1}},
		{[]uint32{0}, []float32{0.5}, []uint8{1}},
		{[]uint32{3}, []float32{0.25}, []uint8{3}},
		{[]uint32{0, 2}, []float32{1, 0.25}, []uint8{2, 3}},
	}
	if got.DerivedHeader != sampleRowGraph().DerivedHeader || !slices.Equal(got.Nodes, []uint32{0, 1, 2, 3}) {
		t.Fatalf("read %+v with rows %v", got.DerivedHeader, got.Nodes)
	}
	for i, w := range want {
		to, weight, kind := got.List(i)
		if !reflect.DeepEqual(list{to, weight, kind}, w) {
			t.Fatalf("row %d lists %v %v %v, want %+v", i, to, weight, kind, w)
		}
		// The block is the list as the association graph keeps it.
		if b := got.Block(i); b[0] != uint32(len(w.to)) || len(b) != 1+2*len(w.to)+(len(w.to)+3)/4 {
			t.Fatalf("row %d's block %v", i, b)
		}
	}
}

// TestIDSumSeparatesIDs: ids are delimited, so moving a byte from one id to the next
// changes the sum.
func TestIDSumSeparatesIDs(t *testing.T) {
	a, b := NewIDSum(), NewIDSum()
	a.Add("ab")
	a.Add("c")
	b.Add("a")
	b.Add("bc")
	if a.Sum() == b.Sum() {
		t.Fatal("ids ab,c and a,bc sum the same")
	}
}

func TestWriteRowGraphRejects(t *testing.T) {
	cases := map[string]RowEdge{
		"self loop":      {A: 1, B: 1, Weight: 0.5},
		"reversed":       {A: 3, B: 2, Weight: 0.5},
		"beyond rows":    {A: 0, B: 4, Weight: 0.5},
		"zero weight":    {A: 0, B: 2, Weight: 0},
		"weight above 1": {A: 0, B: 2, Weight: 1.5},
		"out of order":   {A: 0, B: 1, Weight: 0.5},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			g := sampleRowGraph()
			g.Edges = append(g.Edges, e)
			if err := WriteRowGraph(filepath.Join(t.TempDir(), "g"), g); !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("err = %v, want ErrInvalidRecord", err)
			}
		})
	}
}

func encodeRowGraph(t testing.TB, g RowGraph) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "g")
	if err := WriteRowGraph(path, g); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resealRowGraph recomputes both checksums of a row graph file, so that a fuzzed input
// reaches the structural checks behind them.
func resealRowGraph(b []byte) {
	if len(b) < derivedHeaderSize {
		return
	}
	binary.LittleEndian.PutUint64(b[48:], xxhash.Sum64(b[derivedHeaderSize:]))
	binary.LittleEndian.PutUint64(b[56:], xxhash.Sum64(b[:56]))
}

func TestDecodeRowGraphDamage(t *testing.T) {
	intact := encodeRowGraph(t, sampleRowGraph())
	cases := []struct {
		name   string
		damage func(b []byte) []byte
		want   error
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, ErrCorrupt},
		{"short header", func(b []byte) []byte { return b[:30] }, ErrCorrupt},
		{"payload bit", func(b []byte) []byte { b[70] ^= 4; return b }, ErrCorrupt},
		{"header bit", func(b []byte) []byte { b[20] ^= 4; return b }, ErrCorrupt},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, ErrCorrupt},
		{"version 0", func(b []byte) []byte { b[8] = 0; resealRowGraph(b); return b }, ErrVersion},
		{"version 1", func(b []byte) []byte { b[8] = 1; resealRowGraph(b); return b }, ErrVersion},
		{"reserved", func(b []byte) []byte { b[12] = 1; resealRowGraph(b); return b }, ErrCorrupt},
		{"edge past rows", func(b []byte) []byte { b[24] = 2; resealRowGraph(b); return b }, ErrCorrupt},
		// Row 0 lists (3, 1) then (1, 0.5): make the first 1 as well.
		{"two edges to one row", func(b []byte) []byte { b[derivedHeaderSize+8] = 1; resealRowGraph(b); return b }, ErrCorrupt},
		{"edges out of order", func(b []byte) []byte { b[derivedHeaderSize+16+3] = 0x3e; resealRowGraph(b); return b }, ErrCorrupt},
		{"edge to itself", func(b []byte) []byte { b[derivedHeaderSize+8] = 0; resealRowGraph(b); return b }, ErrCorrupt},
		// Row 0's edge to 3 weighs 0.75 where row 3's weighs 1: listed at one end only.
		{"one-sided edge", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[derivedHeaderSize+16:], 0x3f400000)
			resealRowGraph(b)
			return b
		}, ErrCorrupt},
		{"padding", func(b []byte) []byte { b[derivedHeaderSize+26] = 1; resealRowGraph(b); return b }, ErrCorrupt},
		{"count too large", func(b []byte) []byte { b[40] = 4; resealRowGraph(b); return b }, ErrCorrupt},
		{"count too small", func(b []byte) []byte { b[40] = 2; resealRowGraph(b); return b }, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := append([]byte(nil), intact...)
			if _, err := DecodeRowGraph(c.damage(b)); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzDecodeRowGraph feeds arbitrary bytes to DecodeRowGraph, raw and with checksums
// recomputed; whatever decodes must satisfy the documented guarantees and encode back to
// the same bytes.
func FuzzDecodeRowGraph(f *testing.F) {
	f.Add(encodeRowGraph(f, sampleRowGraph()))
	f.Add(encodeRowGraph(f, RowGraph{DerivedHeader: DerivedHeader{Rows: 3}}))
	f.Add([]byte(rowGraphMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		resealed := append([]byte(nil), data...)
		resealRowGraph(resealed)
		for _, b := range [][]byte{data, resealed} {
			g, err := DecodeRowGraph(b)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
					t.Fatalf("error %v wraps neither ErrCorrupt nor ErrVersion", err)
				}
				continue
			}
			edges := g.Edges()
			ends := 0
			for i := range g.Nodes {
				to, _, _ := g.List(i)
				ends += len(to)
			}
			if uint64(len(edges)) != g.Count || ends != 2*len(edges) {
				t.Fatalf("%d edges, %d ends, the header says %d edges", len(edges), ends, g.Count)
			}
			for i, e := range edges {
				if e.A >= e.B || uint64(e.B) >= g.Rows || !(e.Weight > 0 && e.Weight <= 1) ||
					i > 0 && (edges[i-1].A > e.A || edges[i-1].A == e.A && edges[i-1].B >= e.B) {
					t.Fatalf("decoded edge %d %+v breaks the guarantees", i, e)
				}
			}
			if again := encodeRowGraph(t, RowGraph{g.DerivedHeader, edges}); string(again) != string(b) {
				t.Fatalf("re-encoding differs:\n%x\n%x", again, b)
			}
		}
	})
}

// TestPayloadFilesRoundTripAndDamage writes each payload file (lexical index, HNSW graph),
// reads it back, and damages it.
func TestPayloadFilesRoundTripAndDamage(t *testing.T) {
	files := []struct {
		name   string
		write  func(string, DerivedHeader, []byte) error
		read   func(string) (PayloadFile, error)
		decode func([]byte) (PayloadFile, error)
		other  string // another derived file's magic
		refuse byte   // a version of the format the reader refuses
	}{
		{"lexical", WriteLexical, ReadLexical, DecodeLexical, hnswMagic, lexicalVersion + 1},
		{"hnsw", WriteHNSW, ReadHNSW, DecodeHNSW, lexicalMagic, hnswVersion - 1},
	}
	for _, file := range files {
		t.Run(file.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), file.name)
			h := DerivedHeader{LSN: 9, Rows: 3, IDSum: 77}
			buf := append(make([]byte, PayloadHeaderSize), "payload bytes"...)
			if err := file.write(path, h, buf); err != nil {
				t.Fatal(err)
			}
			f, err := file.read(path)
			if err != nil {
				t.Fatal(err)
			}
			h.Count = uint64(len("payload bytes"))
			if f.DerivedHeader != h || string(f.Payload) != "payload bytes" {
				t.Fatalf("read %+v %q", f.DerivedHeader, f.Payload)
			}
			if err := file.write(path, h, buf[:PayloadHeaderSize-1]); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("writing without room for the header: %v", err)
			}
			intact, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cases := []struct {
				name   string
				damage func(b []byte) []byte
				want   error
			}{
				{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, ErrCorrupt},
				{"payload bit", func(b []byte) []byte { b[len(b)-2] ^= 1; return b }, ErrCorrupt},
				{"header bit", func(b []byte) []byte { b[20] ^= 4; return b }, ErrCorrupt},
				{"count", func(b []byte) []byte { b[40]++; resealRowGraph(b); return b }, ErrCorrupt},
				{"row graph magic", func(b []byte) []byte { copy(b, rowGraphMagic); resealRowGraph(b); return b }, ErrCorrupt},
				{"other payload magic", func(b []byte) []byte { copy(b, file.other); resealRowGraph(b); return b }, ErrCorrupt},
				{"other version", func(b []byte) []byte { b[8] = file.refuse; resealRowGraph(b); return b }, ErrVersion},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if _, err := file.decode(c.damage(append([]byte(nil), intact...))); !errors.Is(err, c.want) {
						t.Fatalf("err = %v, want %v", err, c.want)
					}
				})
			}
		})
	}
}

// TestRepeated: a row listed twice is found wherever it is, in short lists (the filter)
// and long ones (sorted, or marked by row), and lists of distinct rows pass.
func TestRepeated(t *testing.T) {
	seq := func(n int, step uint32) []uint32 {
		var out []uint32
		for i := range n {
			out = append(out, uint32(i)*step+1)
		}
		return out
	}
	tests := []struct {
		name string
		rows []uint32
		dup  bool
	}{
		{"empty", nil, false},
		{"one", []uint32{7}, false},
		{"pair", []uint32{7, 7}, true},
		{"short distinct", seq(64, 1), false},
		{"short distinct, far apart", seq(40, 128), false},
		{"short, last repeats first", append(seq(30, 3), 1), true},
		{"long distinct", seq(500, 7), false},
		{"long, repeated in the middle", append(seq(300, 5), 5*150+1), true},
	}
	// With marks, a long list is checked against them; lists of earlier rows left their
	// marks, which must not count.
	marks := make([]uint32, 4000)
	for v, tt := range tests {
		for _, m := range [][]uint32{nil, marks} {
			rows := slices.Clone(tt.rows)
			if _, dup := repeated(rows, uint32(v), m); dup != tt.dup {
				t.Errorf("%s (marks %v): repeated = %v, want %v", tt.name, m != nil, dup, tt.dup)
			}
		}
	}
}
