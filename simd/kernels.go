package simd

import (
	"os"
	"slices"
)

// Path names, from the portable one to the widest.
const (
	pathGeneric = "generic"
	pathAVX2    = "avx2"
	pathAVX512  = "avx512"
)

// envPath names the environment variable that forces a kernel path.
const envPath = "ENGRAM_SIMD"

// kernels is one complete set of implementations. Callers guarantee the preconditions
// the exported functions check: equal lengths for pairs, len(q) == dim > 0 and
// len(rows) >= len(out)*dim for the batch kernels.
type kernels struct {
	path         string
	dot          func(a, b []float32) float32
	norm         func(a []float32) float32
	cosine       func(a, b []float32) float32
	dotBatch     func(q, rows []float32, dim int, out []float32)
	axpy         func(alpha float32, x, y []float32)
	scale        func(alpha float32, x []float32)
	dotInt8      func(a, b []int8) int32
	dotInt8Batch func(q, rows []int8, dim int, out []int32)
}

// active is the kernel table every exported function dispatches through. It is the
// package's only package-level variable: written once by init, read-only afterwards.
var active kernels

func init() {
	k, ok := kernelsFor(choosePath(os.Getenv(envPath), availablePaths()))
	if !ok {
		k = genericKernels()
	}
	active = k
}

// choosePath returns the path to run: requested if it is one of available, otherwise
// the last (widest) available path. available is never empty.
func choosePath(requested string, available []string) string {
	if slices.Contains(available, requested) {
		return requested
	}
	return available[len(available)-1]
}

// kernelsFor returns the kernel table of the named path, or false if this CPU or
// build cannot run it. Tests use it to run every available path against the portable one.
func kernelsFor(path string) (kernels, bool) {
	if path == pathGeneric {
		return genericKernels(), true
	}
	if !slices.Contains(availablePaths(), path) {
		return kernels{}, false
	}
	return archKernels(path)
}

// Path returns the name of the kernel path in use: "avx512", "avx2" or "generic".
func Path() string { return active.path }

// Available returns the paths this CPU and build can run, from the portable one to the
// widest; "generic" is always first. The slice is freshly allocated.
func Available() []string { return availablePaths() }

// genericKernels returns the portable table, present in every build.
func genericKernels() kernels {
	return kernels{
		path:         pathGeneric,
		dot:          dotGeneric,
		norm:         normGeneric,
		cosine:       cosineGeneric,
		dotBatch:     dotBatchGeneric,
		axpy:         axpyGeneric,
		scale:        scaleGeneric,
		dotInt8:      dotInt8Generic,
		dotInt8Batch: dotInt8BatchGeneric,
	}
}
