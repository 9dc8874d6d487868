package limits

import (
	"fmt"
	"os"
	"slices"
	"time"
)

// DefaultSyncBytes is the size of one durable write of the fdatasync limit: 4 KiB, one
// page, about what a group commit of a few small records appends.
const DefaultSyncBytes = 4 << 10

// SyncResult is the outcome of Fdatasync: the latency of each append-and-fdatasync, in
// ascending order.
type SyncResult struct {
	Dir       string
	Bytes     int
	Latencies []time.Duration // sorted ascending
}

// Quantile returns the latency at q in [0, 1] (0.5 is the median).
func (r SyncResult) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q * float64(len(r.Latencies)))
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Mean is the mean latency.
func (r SyncResult) Mean() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range r.Latencies {
		sum += d
	}
	return sum / time.Duration(len(r.Latencies))
}

// SyncsPerSecond is how many durable writes one writer completes per second: the most
// group commits a single log can make on this disk.
func (r SyncResult) SyncsPerSecond() float64 {
	if m := r.Mean(); m > 0 {
		return 1 / m.Seconds()
	}
	return 0
}

func (r SyncResult) String() string {
	return fmt.Sprintf("fdatasync of %d KiB appends in %s: p50 %s, p99 %s, mean %s (%.0f syncs/s) over %d writes",
		r.Bytes>>10, r.Dir, r.Quantile(0.5).Round(time.Microsecond), r.Quantile(0.99).Round(time.Microsecond),
		r.Mean().Round(time.Microsecond), r.SyncsPerSecond(), len(r.Latencies))
}

// Fdatasync appends size bytes to a new file in dir and makes them durable with
// fdatasync, writes times, as a write-ahead log does for each group commit, and reports
// each round's latency. The file grows, so every sync also persists the new size, as
// the log's do. The file is removed before returning.
func Fdatasync(dir string, size, writes int) (SyncResult, error) {
	if size <= 0 || writes <= 0 {
		return SyncResult{}, fmt.Errorf("fdatasync of %d bytes × %d writes: %w", size, writes, ErrInvalidArgument)
	}
	p, err := NewSyncProbe(dir, size)
	if err != nil {
		return SyncResult{}, err
	}
	r := SyncResult{Dir: dir, Bytes: size, Latencies: make([]time.Duration, 0, writes)}
	for range writes {
		start := time.Now()
		if err := p.WriteSync(); err != nil {
			p.Close()
			return SyncResult{}, err
		}
		r.Latencies = append(r.Latencies, time.Since(start))
	}
	if err := p.Close(); err != nil {
		return SyncResult{}, err
	}
	slices.Sort(r.Latencies)
	return r, nil
}

// SyncProbe is an open probe file for timing appends made durable one at a time; the
// benchmark drives it directly so that only the write and the sync are timed.
type SyncProbe struct {
	f    *os.File
	page []byte
}

// NewSyncProbe creates a probe file in dir that WriteSync appends size bytes to.
func NewSyncProbe(dir string, size int) (*SyncProbe, error) {
	if size <= 0 {
		return nil, fmt.Errorf("sync probe of %d bytes: %w", size, ErrInvalidArgument)
	}
	f, err := os.CreateTemp(dir, "engram-fdatasync-probe-*")
	if err != nil {
		return nil, fmt.Errorf("create sync probe: %w", err)
	}
	page := make([]byte, size)
	Fill(page)
	return &SyncProbe{f: f, page: page}, nil
}

// WriteSync appends one block and waits until it is durable.
func (p *SyncProbe) WriteSync() error {
	if err := p.write(); err != nil {
		return err
	}
	if err := datasync(p.f); err != nil {
		return fmt.Errorf("sync probe fdatasync: %w", err)
	}
	return nil
}

// write appends one block.
func (p *SyncProbe) write() error {
	if _, err := p.f.Write(p.page); err != nil {
		return fmt.Errorf("sync probe write: %w", err)
	}
	return nil
}

// Close closes and removes the probe file.
func (p *SyncProbe) Close() error {
	name := p.f.Name()
	err := p.f.Close()
	if rmErr := os.Remove(name); err == nil && rmErr != nil {
		err = fmt.Errorf("remove sync probe: %w", rmErr)
	}
	return err
}
