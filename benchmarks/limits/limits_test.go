package limits

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestMemCopy(t *testing.T) {
	r, err := MemCopy(1<<20, 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.Bytes != 1<<20 || r.Rounds != 4 {
		t.Fatalf("result %+v, want 1 MiB × 4", r)
	}
	if r.Best <= 0 || r.Best > r.Total {
		t.Fatalf("best %v, total %v: best must be positive and within the total", r.Best, r.Total)
	}
	if r.BestBandwidth() < r.MeanBandwidth() {
		t.Fatalf("best bandwidth %g below mean %g", r.BestBandwidth(), r.MeanBandwidth())
	}
}

func TestInvalidArguments(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		run  func() error
	}{
		{"copy of no bytes", func() error { _, err := MemCopy(0, 1); return err }},
		{"copy of no rounds", func() error { _, err := MemCopy(1, 0); return err }},
		{"sync of no bytes", func() error { _, err := Fdatasync(dir, 0, 1); return err }},
		{"sync of no writes", func() error { _, err := Fdatasync(dir, 1, 0); return err }},
		{"probe of no bytes", func() error { _, err := NewSyncProbe(dir, 0); return err }},
		{"spread probe of no files", func() error { _, err := NewSpreadProbe(dir, 0, 1); return err }},
		{"spread probe of no bytes", func() error { _, err := NewSpreadProbe(dir, 1, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestFdatasyncLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	r, err := Fdatasync(dir, DefaultSyncBytes, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Latencies) != 5 || !slices.IsSorted(r.Latencies) {
		t.Fatalf("latencies %v: want 5, sorted", r.Latencies)
	}
	if r.Quantile(0) != r.Latencies[0] || r.Quantile(1) != r.Latencies[4] {
		t.Fatalf("quantiles 0 and 1 are %v and %v, want the extremes of %v", r.Quantile(0), r.Quantile(1), r.Latencies)
	}
	if r.Mean() < r.Latencies[0] || r.Mean() > r.Latencies[4] || r.SyncsPerSecond() <= 0 {
		t.Fatalf("mean %v (%g/s) outside %v", r.Mean(), r.SyncsPerSecond(), r.Latencies)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("probe left %d files in %s", len(left), dir)
	}
}

func TestSyncProbeGrowsFile(t *testing.T) {
	dir := t.TempDir()
	p, err := NewSyncProbe(dir, 512)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := p.WriteSync(); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := p.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 3*512 {
		t.Fatalf("probe file holds %d bytes after 3 appends of 512", fi.Size())
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.Base(p.f.Name()))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("probe file still there after Close: %v", err)
	}
}

func TestFdatasyncMissingDir(t *testing.T) {
	if _, err := Fdatasync(filepath.Join(t.TempDir(), "absent"), DefaultSyncBytes, 1); err == nil {
		t.Fatal("fdatasync in a missing folder succeeded")
	}
}

func TestQuantileOfNothing(t *testing.T) {
	var r SyncResult
	if r.Quantile(0.5) != 0 || r.Mean() != 0 || r.SyncsPerSecond() != 0 {
		t.Fatalf("empty result reports %v, %v, %g", r.Quantile(0.5), r.Mean(), r.SyncsPerSecond())
	}
	var c CopyResult
	if c.BestBandwidth() != 0 || c.MeanBandwidth() != 0 {
		t.Fatal("empty copy result reports a bandwidth")
	}
}

func TestSpreadProbeAppendsToEveryFile(t *testing.T) {
	dir := t.TempDir()
	p, err := NewSpreadProbe(dir, 4, 512)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := p.WriteSync(); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range p.files {
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != 3*512 {
			t.Fatalf("%s holds %d bytes after 3 rounds of 512", f.Name(), fi.Size())
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Fatalf("probe left %d files in %s (%v)", len(left), dir, err)
	}
}
