package spacecost

import (
	"errors"
	"strings"
	"testing"

	"github.com/engram-go/engram/engine"
)

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name   string
		status string
		want   int64
		ok     bool
	}{
		{"typical", "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t   1234 kB\nThreads:\t3\n", 1234, true},
		{"no line", "Name:\tx\n", 0, false},
		{"other unit", "VmRSS:\t 12 MB\n", 0, false},
		{"not a number", "VmRSS:\t lots kB\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(tt.status))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseVmRSS = %d, %v; want %d, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestTakeSample(t *testing.T) {
	s, err := TakeSample()
	if errors.Is(err, ErrNoProc) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSKiB <= 0 || s.OpenFiles < 3 || s.HeapInuse == 0 {
		t.Fatalf("implausible sample %+v", s)
	}
}

// TestCreateThenStart runs both phases on a few spaces: the idle sweep must bring the open
// spaces down to the bound, and a new engine must find every space and read its memory
// back. It waits for the engine's idle sweep (a few seconds).
func TestCreateThenStart(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the idle sweep")
	}
	if _, err := TakeSample(); errors.Is(err, ErrNoProc) {
		t.Skip(err)
	}
	o := Options{
		DataRoot:      t.TempDir(),
		Spaces:        24,
		MaxOpenSpaces: 4,
		Settings:      engine.SpaceSettings{Dimension: 16, WALSync: "never"},
		FirstUses:     5,
	}
	var progress strings.Builder
	o.Progress = &progress
	c, err := Create(o)
	if err != nil {
		t.Fatal(err)
	}
	if c.Spaces != 24 || c.MaxOpenSpaces != 4 {
		t.Fatalf("create report %+v", c)
	}
	if c.OpenWhenIdle > 4 {
		t.Fatalf("%d spaces open when idle, bound 4", c.OpenWhenIdle)
	}
	if c.PeakOpen < c.OpenWhenIdle || c.Took <= 0 || c.DiskBytes <= 0 || c.DiskDirs <= 25 || c.DiskFiles < 25 || c.Idle.RSSKiB <= 0 {
		t.Fatalf("implausible create report %+v", c)
	}
	if !strings.Contains(progress.String(), "created 24 spaces") {
		t.Fatalf("progress %q does not report the last space", progress.String())
	}

	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Spaces != 25 { // the 24 and the default space
		t.Fatalf("engine found %d spaces, want 25", s.Spaces)
	}
	if s.OpenAfterStart > 4 {
		t.Fatalf("%d spaces open after start, bound 4", s.OpenAfterStart)
	}
	if len(s.FirstUses) != 5 || s.Took <= 0 {
		t.Fatalf("start report %+v: want 5 first uses", s)
	}
}

func TestCreateRejectsNoSpaces(t *testing.T) {
	if _, err := Create(Options{DataRoot: t.TempDir()}); err == nil {
		t.Fatal("Create of zero spaces succeeded")
	}
}
