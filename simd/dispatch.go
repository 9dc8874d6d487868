package simd

import (
	"os"
	"slices"
)

// envPath names the environment variable that forces a kernel path.
const envPath = "ENGRAM_SIMD"

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
