//go:build amd64

package simd

import "github.com/klauspost/cpuid/v2"

// cpuid reports AVX-512 features only when the operating system saves the ZMM and
// opmask state, so a set flag means the instructions are usable, not merely present.

func hasAVX2() bool { return cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) }

// hasAVX512 also requires AVX2: the AVX-512 kernels finish their reductions with
// 256-bit instructions and share the AVX2 scale kernel.
func hasAVX512() bool {
	return hasAVX2() && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL)
}

func hasAVX512VNNI() bool { return hasAVX512() && cpuid.CPU.Supports(cpuid.AVX512VNNI) }

func availablePaths() []string {
	paths := []string{pathGeneric}
	if hasAVX2() {
		paths = append(paths, pathAVX2)
	}
	if hasAVX512() {
		paths = append(paths, pathAVX512)
	}
	return paths
}

// archKernels returns the table of an assembly path; callers have checked that the
// CPU supports it.
func archKernels(path string) (kernels, bool) {
	switch path {
	case pathAVX2:
		return avx2Kernels(), true
	case pathAVX512:
		return avx512Kernels(hasAVX512VNNI()), true
	}
	return kernels{}, false
}

// batchBytesPerCall bounds the bytes of rows one assembly batch call reads. Assembly
// functions are not asynchronously preemptible, so scanning a whole slab in one call
// would hold off every stop-the-world pause for the full scan (tens of milliseconds for
// 100,000 rows of 768 floats); 1 MiB keeps a call under about 100µs while the per-call
// overhead stays negligible.
const batchBytesPerCall = 1 << 20

// scanInChunks runs an assembly batch kernel over rows in bounded calls.
func scanInChunks(kernel func(q, rows []float32, dim int, out []float32), q, rows []float32, dim int, out []float32) {
	step := max(1, batchBytesPerCall/(4*dim))
	for len(out) > 0 {
		n := min(step, len(out))
		kernel(q, rows[:n*dim], dim, out[:n])
		rows, out = rows[n*dim:], out[n:]
	}
}

// dotInt8Rows runs a single-vector int8 kernel over each row; an int8 row of a typical
// dimension is short enough that a per-row call costs little next to the kernel.
func dotInt8Rows(kernel func(a, b []int8) int32, q, rows []int8, dim int, out []int32) {
	for i := range out {
		out[i] = kernel(q, rows[i*dim:(i+1)*dim])
	}
}
