//go:build linux

package simd

import (
	"slices"
	"syscall"
	"testing"
	"unsafe"
)

// guardedBytes returns n bytes whose last byte is immediately followed by a page
// mapped PROT_NONE, so a kernel that reads or writes even one element past the end
// of a slice faults instead of passing silently.
func guardedBytes(t *testing.T, n int) []byte {
	t.Helper()
	page := syscall.Getpagesize()
	dataPages := (n + page - 1) / page
	mem, err := syscall.Mmap(-1, 0, (dataPages+1)*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[dataPages*page:], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	return mem[dataPages*page-n : dataPages*page : dataPages*page]
}

func guardedFloats(t *testing.T, n int, seed uint64) []float32 {
	t.Helper()
	// For n == 0 the slice points at the guard page itself.
	b := guardedBytes(t, 4*n)
	f := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n)
	copy(f, randFloats(newRand(seed), n, 0))
	return f
}

func guardedInt8s(t *testing.T, n int, seed uint64) []int8 {
	t.Helper()
	b := guardedBytes(t, n)
	s := unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), n)
	copy(s, randInt8s(newRand(seed), n, 0))
	return s
}

// TestKernelsStayInBounds runs every kernel on slices that end at a guard page.
func TestKernelsStayInBounds(t *testing.T) {
	for _, k := range testKernels(t) {
		t.Run(k.path, func(t *testing.T) {
			for _, n := range edgeLengths {
				a, b := guardedFloats(t, n, 1), guardedFloats(t, n, 2)
				_, sumAbs := dotReference(a, b)
				if got, want := k.dot(a, b), dotGeneric(a, b); !closeTo(got, want, dotTolerance(sumAbs)) {
					t.Errorf("n=%d: dot = %v, generic %v", n, got, want)
				}
				k.norm(a)
				k.cosine(a, b)
				k.axpy(0.5, a, b)
				k.scale(2, b)
				if got, want := k.maxAbs(a), maxAbsGeneric(a); got != want {
					t.Errorf("n=%d: maxAbs = %v, generic %v", n, got, want)
				}
				codes, want := guardedInt8s(t, n, 10), make([]int8, n)
				k.quantize(a, 100, codes)
				quantizeGeneric(a, 100, want)
				if !slices.Equal(codes, want) {
					t.Errorf("n=%d: quantize differs from generic", n)
				}

				ia, ib := guardedInt8s(t, n, 3), guardedInt8s(t, n, 4)
				if got, want := k.dotInt8(ia, ib), dotInt8Generic(ia, ib); got != want {
					t.Errorf("n=%d: dotInt8 = %d, generic %d", n, got, want)
				}
			}
			for _, dim := range []int{1, 7, 17, 33, 768} {
				for _, rows := range []int{1, 3, 5} {
					q, slab := guardedFloats(t, dim, 5), guardedFloats(t, rows*dim, 6)
					k.dotBatch(q, slab, dim, guardedFloats(t, rows, 7))
					iq, islab := guardedInt8s(t, dim, 8), guardedInt8s(t, rows*dim, 9)
					k.dotInt8Batch(iq, islab, dim, make([]int32, rows))
				}
			}
		})
	}
}
