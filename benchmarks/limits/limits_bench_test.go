package limits

import (
	"flag"
	"fmt"
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

// spreadRecordBytes is one record of BenchmarkSpreadSync: about a remember with a 384-d
// embedding, as engine's BenchmarkTenancy writes.
const spreadRecordBytes = 2 << 10

// BenchmarkSpreadSync times, in each iteration, two ways of making the same records durable:
// one record in each of files files with one syncfs (what a Committer round costs when
// that many spaces' logs take part) and all of them in one file with one fdatasync (what
// one space's group commit of as many records costs). It reports the median of each and
// their ratio, x-one-file: the price the disk puts on spreading a round over files, the
// floor under durable ingestion spread over many spaces (docs/architecture.md, "Group
// commit across spaces").
func BenchmarkSpreadSync(b *testing.B) {
	for _, files := range []int{10, 50, 100} {
		b.Run(fmt.Sprintf("files=%d", files), func(b *testing.B) {
			dir := *syncDir
			if dir == "" {
				dir = b.TempDir()
			}
			spread, err := NewSpreadProbe(dir, files, spreadRecordBytes)
			if err != nil {
				b.Fatal(err)
			}
			defer spread.Close()
			one, err := NewSyncProbe(dir, files*spreadRecordBytes)
			if err != nil {
				b.Fatal(err)
			}
			defer one.Close()
			var spreadLat, oneLat []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := spread.WriteSync(); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				if err := one.WriteSync(); err != nil {
					b.Fatal(err)
				}
				spreadLat = append(spreadLat, mid.Sub(start))
				oneLat = append(oneLat, time.Since(mid))
			}
			b.StopTimer()
			slices.Sort(spreadLat)
			slices.Sort(oneLat)
			s, o := SyncResult{Latencies: spreadLat}.Quantile(0.5), SyncResult{Latencies: oneLat}.Quantile(0.5)
			b.ReportMetric(float64(s.Nanoseconds())/1e3, "spread-p50-us")
			b.ReportMetric(float64(o.Nanoseconds())/1e3, "one-file-p50-us")
			if o > 0 {
				b.ReportMetric(float64(s)/float64(o), "x-one-file")
			}
		})
	}
}
