//go:build !amd64

package simd

func kernelVariants() []kernels { return nil }
