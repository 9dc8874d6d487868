package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
)

// memoryLimitShare is the part of the memory the process may use that the runtime's soft
// limit is set to when [limits] memory_limit_bytes is 0: the rest is left to the page
// cache of the memory-mapped tiers and to the limit being soft.
const memoryLimitShare = 0.75

// setMemoryLimit gives the Go runtime a bounded heap goal (debug.SetMemoryLimit), so that
// the collector runs harder as the heap nears it and the scavenger returns freed memory to
// the operating system after a burst instead of keeping it resident. configured is
// [limits] memory_limit_bytes: a positive value is the limit, 0 derives it from the
// memory available (availableMemory), -1 sets none. GOMEMLIMIT in the environment wins
// over the configuration, as it does for every Go program. It returns the limit in force
// (math.MaxInt64 for none).
func setMemoryLimit(configured int64, log *slog.Logger) int64 {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		limit := debug.SetMemoryLimit(-1) // -1 reads the limit without changing it
		log.Info("memory limit from GOMEMLIMIT", "GOMEMLIMIT", v, "bytes", limit)
		return limit
	}
	limit := configured
	source := "[limits] memory_limit_bytes"
	switch {
	case configured == 0:
		avail, from := availableMemory()
		if avail <= 0 {
			log.Info("no memory limit: the memory available could not be read; set [limits] memory_limit_bytes")
			debug.SetMemoryLimit(math.MaxInt64)
			return math.MaxInt64
		}
		limit = int64(float64(avail) * memoryLimitShare)
		source = from
	case configured < 0:
		log.Info("no memory limit ([limits] memory_limit_bytes = -1)")
		debug.SetMemoryLimit(math.MaxInt64)
		return math.MaxInt64
	}
	debug.SetMemoryLimit(limit)
	log.Info("memory limit set", "bytes", limit, "from", source)
	return limit
}
