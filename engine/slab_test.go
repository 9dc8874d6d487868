package engine

import (
	"fmt"
	"testing"
)

func TestSlabChunkLayout(t *testing.T) {
	// Every row maps to exactly one chunk slot, in order, with no gaps.
	c, off := 0, 0
	for r := 0; r < slabGrowRows+3*slabChunkRows; r++ {
		gc, goff := chunkOf(r)
		if gc != c || goff != off {
			t.Fatalf("row %d: chunk %d offset %d, want %d %d", r, gc, goff, c, off)
		}
		if chunkStart(gc)+goff != r {
			t.Fatalf("row %d: chunkStart(%d)+%d != row", r, gc, goff)
		}
		if off++; off == chunkRows(c) {
			c, off = c+1, 0
		}
	}
	s := newSlab(4)
	s.reserve(0, 1)
	if got := s.allocatedRows(); got != slabFirstRows {
		t.Fatalf("one memory reserves %d rows, want %d", got, slabFirstRows)
	}
	s.reserve(5000, 5001)
	copy(s.row(5000), []float32{1, 2, 3, 4})
	var seen []int
	s.blocks(0, 6000, 1000, func(first int, vecs []float32) { seen = append(seen, first, len(vecs)/4) })
	want := []int{0, slabFirstRows, slabGrowRows, 1000, slabGrowRows + 1000, 6000 - slabGrowRows - 1000}
	if fmt.Sprint(seen) != fmt.Sprint(want) || s.row(5000)[3] != 4 {
		t.Fatalf("blocks over a sparse slab: %v, want %v", seen, want)
	}
}
