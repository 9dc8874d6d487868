package httpapi

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fastjson"
)

// TestVecArena: a batch's embeddings are read back to back into the lent buffer while they
// fit and allocated once they do not; each item keeps its own values, and the buffer lent
// to the next batch has room for all of them.
func TestVecArena(t *testing.T) {
	s := &Server{opts: frontend.Options{MaxContentBytes: 1 << 10, MaxBatchItems: 100}}
	for _, c := range []struct {
		name     string
		dims     []int // embedding length of each item, 0 for none
		buf      int   // floats lent
		inArena  int   // items whose embedding lands in the buffer
		nextSize int   // floats lent to the next batch
	}{
		{"all fit", []int{3, 3, 3}, 9, 3, 9},
		{"room to spare", []int{2, 0, 4}, 16, 2, 16},
		{"the last spills", []int{4, 4, 4}, 10, 2, 12},
		{"nothing lent", []int{5, 5}, 0, 0, 10},
		{"mixed lengths", []int{2, 6, 1}, 3, 2, 9}, // the third fits where the second did not
	} {
		t.Run(c.name, func(t *testing.T) {
			var elems []string
			var want [][]float32
			for i, d := range c.dims {
				vec := make([]float32, d)
				parts := make([]string, d)
				for k := range vec {
					vec[k] = float32(10*i + k + 1)
					parts[k] = fmt.Sprint(vec[k])
				}
				want = append(want, vec)
				if d == 0 {
					elems = append(elems, fmt.Sprintf(`{"content":"item %d"}`, i))
					continue
				}
				elems = append(elems, fmt.Sprintf(`{"content":"item %d","embedding":[%s]}`, i, strings.Join(parts, ",")))
			}
			body := []byte("[" + strings.Join(elems, ",") + "]")
			split, n, ok := vecjson.Elements(body, 100)
			if !ok || n != len(c.dims) {
				t.Fatalf("split %v, %d elements", ok, n)
			}
			arena := &vecArena{buf: make([]float32, c.buf)}
			var p fastjson.Parser
			items, err := s.decodeElements(&p, body, split, arena)
			if err != nil {
				t.Fatal(err)
			}
			inArena := 0
			for i, it := range items {
				if it.err != nil {
					t.Fatalf("item %d: %v", i, it.err)
				}
				if got := it.in.mem.Embedding; !slices.Equal(got, want[i]) && (len(got) > 0 || len(want[i]) > 0) {
					t.Errorf("item %d: embedding %v, want %v", i, got, want[i])
				}
				if within(it.in.mem.Embedding, arena.buf) {
					inArena++
				}
			}
			if inArena != c.inArena {
				t.Errorf("%d embeddings in the buffer, want %d", inArena, c.inArena)
			}
			s.returnArena(arena)
			if len(arena.buf) != c.nextSize || arena.used != 0 || arena.need != 0 {
				t.Errorf("next batch gets %d floats (used %d, need %d), want %d", len(arena.buf), arena.used, arena.need, c.nextSize)
			}
		})
	}
}

// within reports whether v starts inside buf.
func within(v, buf []float32) bool {
	if len(v) == 0 || len(buf) == 0 {
		return false
	}
	p, lo := uintptr(unsafe.Pointer(&v[0])), uintptr(unsafe.Pointer(&buf[0]))
	return p >= lo && p < lo+uintptr(len(buf))*unsafe.Sizeof(buf[0])
}
