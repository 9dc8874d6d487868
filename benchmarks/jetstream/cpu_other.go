//go:build !linux

package jetstream

import (
	"runtime/metrics"
	"time"
)

// ReadCPU samples the Go runtime's estimate of this process's CPU time (all classes but
// idle); the machine's load is not known here.
func ReadCPU() CPUSample {
	s := []metrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"}}
	metrics.Read(s)
	var out CPUSample
	if s[0].Value.Kind() == metrics.KindFloat64 && s[1].Value.Kind() == metrics.KindFloat64 {
		out.Process = time.Duration((s[0].Value.Float64() - s[1].Value.Float64()) * float64(time.Second))
	}
	return out
}
