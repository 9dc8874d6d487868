//go:build !unix

package cputime

import "time"

// Process is unavailable here: benchmarks report wall time only.
func Process() (time.Duration, bool) { return 0, false }
