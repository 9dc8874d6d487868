package wal

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppendAlways measures durable appends (SyncAlways) from concurrent writers; the
// group commit should make 64 writers many times faster than one.
func BenchmarkAppendAlways(b *testing.B) {
	payload := bytes.Repeat([]byte("m"), 100)
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			opts := testOptions(b.TempDir())
			w, _, _ := mustOpen(b, opts, 0)
			defer w.Close()
			before := w.Stats()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range writers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := w.Append(Entry{Type: 1, Payload: payload}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			st := w.Stats()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
			if syncs := st.Syncs - before.Syncs; syncs > 0 {
				b.ReportMetric(float64(st.SyncedRecords-before.SyncedRecords)/float64(syncs), "records/fsync")
			}
		})
	}
}

// BenchmarkRecovery replays a log of one million ~100-byte records.
func BenchmarkRecovery(b *testing.B) {
	const records = 1_000_000
	opts := testOptions(b.TempDir())
	opts.Sync = SyncNever
	w, _, _ := mustOpen(b, opts, 0)
	batch := make([]Entry, 10_000)
	for i := range batch {
		batch[i] = Entry{Type: RecordType(1 + i%4), Payload: bytes.Repeat([]byte{byte(i)}, 90+i%20)}
	}
	for range records / len(batch) {
		if _, err := w.AppendBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.Run("records=1M", func(b *testing.B) {
		var sum uint64
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			n := 0
			w, rs, err := Open(opts, 0, func(r Record) error {
				n++
				sum += uint64(len(r.Payload)) // touch the payload as a real replay would
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if n != records || rs.Records != records {
				b.Fatalf("replayed %d records, want %d", n, records)
			}
			w.Close()
		}
		elapsed := time.Since(start)
		b.ReportMetric(float64(b.N*records)/elapsed.Seconds(), "records/s")
		_ = sum
	})
}
