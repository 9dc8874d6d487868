package limits

import (
	"flag"
	"slices"
	"testing"
	"time"
)

// syncDir is where BenchmarkFdatasync writes; it defaults to the test's temporary folder,
// so pass the data root's disk when it is another one:
//
//	go test -run '^$' -bench Fdatasync ./benchmarks/limits -limits.dir=/var/lib/engram
var syncDir = flag.String("limits.dir", "", "folder on the data disk for BenchmarkFdatasync (default: a temporary folder)")

// BenchmarkMemCopy copies 256 MiB into another 256 MiB buffer. Its MB/s is the memory
// bandwidth a streaming scan is judged against (simd's BenchmarkDotBatch100k and
// engine/tier's BenchmarkScanWarm100k report MB/s of the same kind: bytes read once).
func BenchmarkMemCopy(b *testing.B) {
	src, dst := make([]byte, DefaultCopyBytes), make([]byte, DefaultCopyBytes)
	Fill(src)
	copy(dst, src) // fault the destination in before timing
	b.SetBytes(DefaultCopyBytes)
	b.ResetTimer()
	for b.Loop() {
		copy(dst, src)
	}
}

// BenchmarkFdatasync appends 4 KiB to a file and makes it durable with fdatasync, one
// operation per iteration: ns/op is the mean latency of a durable write on the disk of
// -limits.dir, the floor under a remember with wal_sync = always. It also reports the
// median and 99th percentile.
func BenchmarkFdatasync(b *testing.B) {
	dir := *syncDir
	if dir == "" {
		dir = b.TempDir()
	}
	p, err := NewSyncProbe(dir, DefaultSyncBytes)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	lat := make([]time.Duration, 0, b.N)
	b.SetBytes(DefaultSyncBytes)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := p.WriteSync(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	r := SyncResult{Latencies: lat}
	b.ReportMetric(float64(r.Quantile(0.5).Nanoseconds())/1e3, "p50-us")
	b.ReportMetric(float64(r.Quantile(0.99).Nanoseconds())/1e3, "p99-us")
}
