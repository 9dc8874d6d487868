//go:build !amd64

package simd

// Builds other than amd64 run the portable kernels only.

func availablePaths() []string { return []string{pathGeneric} }

func archKernels(string) (kernels, bool) { return kernels{}, false }
