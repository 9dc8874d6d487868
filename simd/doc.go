// Package simd holds the float32 and int8 vector kernels behind similarity search:
// dot products, norms, cosine, one-query-against-many-rows scans, axpy, scaling and
// symmetric int8 quantization.
//
// Every kernel exists in a portable Go version that is always compiled. On amd64 the
// package also carries AVX2 (github.com/viterin/vek plus Go assembly) and AVX-512 (Go
// assembly) versions. One path is chosen at package initialisation from the CPU features
// reported by github.com/klauspost/cpuid/v2:
//
//	avx512   AVX-512 F, BW and VL
//	avx2     AVX2 and FMA
//	generic  everything else, and every non-amd64 build
//
// The environment variable ENGRAM_SIMD=generic|avx2|avx512 forces a path; a path the CPU
// cannot run, or an unknown name, is ignored and the detected path is used instead.
//
// Invariants:
//
//   - The kernel table is written exactly once, in init, and only read afterwards, so every
//     function is safe for concurrent use. Path reports which table is in use.
//   - Length preconditions are checked by the exported functions before any kernel runs;
//     a violation panics, because the assembly kernels trust the lengths they are given.
//   - Paths agree exactly on integer results (DotInt8, DotInt8Batch, including int32
//     wrap-around) and up to summation order on float results: the assembly kernels use
//     fused multiply-add and several partial sums, so results differ from the portable
//     path by a few ulps of the sum of |a[i]*b[i]|.
//   - No kernel allocates or retains its arguments.
package simd
