//go:build amd64

package simd

// kernelVariants returns kernel tables the dispatcher would not pick on this CPU but
// another CPU of the same path would: the AVX-512 table without VNNI (int8 by widening
// to int16) when the CPU has VNNI and therefore normally gets the VNNI kernel.
func kernelVariants() []kernels {
	if !hasAVX512VNNI() {
		return nil
	}
	k := avx512Kernels(false)
	k.path = "avx512-novnni"
	return []kernels{k}
}
