//go:build !unix

package engine_test

import "time"

// processCPU is unknown here: the benchmarks that report it report 0.
func processCPU() time.Duration { return 0 }
