// Command spacecost measures what 10,000 idle memory spaces cost one node: it creates
// the spaces (one memory each) in an engine bounded by -max-open open spaces, waits for
// the idle sweep, and reports resident memory, open files and disk; then it starts a new
// engine over the same data root in a fresh process and reports the start time, the
// footprint after start and the latency of a closed space's first use.
//
//	go run ./benchmarks/cmd/spacecost -spaces 10000
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/engram-go/engram/benchmarks/spacecost"
	"github.com/engram-go/engram/engine"
)

func main() {
	var (
		o     spacecost.Options
		phase string
		keep  bool
	)
	flag.IntVar(&o.Spaces, "spaces", 10000, "spaces to create, one memory each")
	flag.IntVar(&o.MaxOpenSpaces, "max-open", 0, "the engine's max_open_spaces (0: the engine default)")
	flag.IntVar(&o.Settings.Dimension, "dim", 0, "embedding dimension (0: the engine default)")
	flag.StringVar(&o.Settings.WALSync, "wal-sync", "", "wal_sync of the spaces (empty: the engine default, always)")
	flag.StringVar(&o.DataRoot, "root", "", "data root (default: a new temporary folder, removed at the end)")
	flag.StringVar(&phase, "phase", "all", "all | create | start (start measures an existing -root)")
	flag.BoolVar(&keep, "keep", false, "keep the temporary data root")
	flag.Parse()
	if err := run(o, phase, keep); err != nil {
		fmt.Fprintln(os.Stderr, "spacecost:", err)
		os.Exit(1)
	}
}

func run(o spacecost.Options, phase string, keep bool) error {
	switch phase {
	case "all", "create":
	case "start":
		if o.DataRoot == "" {
			return errors.New("-phase start needs -root")
		}
		return start(o)
	default:
		return fmt.Errorf("-phase must be all, create or start, got %q", phase)
	}
	if o.DataRoot == "" {
		root, err := os.MkdirTemp("", "engram-spacecost-")
		if err != nil {
			return err
		}
		o.DataRoot = root
		if keep || phase == "create" {
			fmt.Printf("data root %s is kept\n", root)
		} else {
			defer os.RemoveAll(root)
		}
	}
	if err := create(o); err != nil {
		return err
	}
	if phase == "create" {
		return nil
	}
	// A fresh process, so the start figures do not carry the creation's heap.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-phase", "start", "-root", o.DataRoot, "-spaces", strconv.Itoa(o.Spaces),
		"-max-open", strconv.Itoa(o.MaxOpenSpaces), "-dim", strconv.Itoa(o.Settings.Dimension), "-wal-sync", o.Settings.WALSync)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("start phase: %w", err)
	}
	return nil
}

func create(o spacecost.Options) error {
	o.Progress = os.Stderr
	r, err := spacecost.Create(o)
	if err != nil {
		return err
	}
	settings := engine.DefaultSpaceSettings()
	if o.Settings.Dimension > 0 {
		settings.Dimension = o.Settings.Dimension
	}
	if o.Settings.WALSync != "" {
		settings.WALSync = o.Settings.WALSync
	}
	n := float64(r.Spaces)
	fmt.Printf("%d spaces of one memory each (dimension %d, wal_sync %s), max_open_spaces %d\n",
		r.Spaces, settings.Dimension, settings.WALSync, r.MaxOpenSpaces)
	fmt.Printf("create:  %v (%.2f ms per space); at most %d spaces open and %d files open during creation\n",
		r.Took.Round(time.Millisecond), float64(r.Took.Microseconds())/1000/n, r.PeakOpen, r.PeakFiles)
	fmt.Printf("idle:    %d open after the sweep (%v after the last write)\n", r.OpenWhenIdle, r.Settle.Round(time.Millisecond))
	printSample("idle", r.Before, r.Idle, n)
	fmt.Printf("disk:    %.1f MiB in %d files and %d folders: %.2f KiB, %.1f files and %.1f folders per space\n",
		float64(r.DiskBytes)/(1<<20), r.DiskFiles, r.DiskDirs, float64(r.DiskBytes)/1024/n, float64(r.DiskFiles)/n, float64(r.DiskDirs)/n)
	return nil
}

func start(o spacecost.Options) error {
	r, err := spacecost.Start(o)
	if err != nil {
		return err
	}
	fmt.Printf("start:   %v for %d spaces (%.3f ms per space), %d left open\n",
		r.Took.Round(time.Millisecond), r.Spaces, float64(r.Took.Microseconds())/1000/float64(r.Spaces), r.OpenAfterStart)
	printSample("started", r.Before, r.Started, float64(r.Spaces))
	if n := len(r.FirstUses); n > 0 {
		fmt.Printf("reopen:  first read of a closed space: p50 %v, p99 %v, max %v over %d spaces\n",
			r.FirstUses[n/2].Round(time.Microsecond), r.FirstUses[n*99/100].Round(time.Microsecond),
			r.FirstUses[n-1].Round(time.Microsecond), n)
	}
	return nil
}

func printSample(name string, before, after spacecost.Sample, spaces float64) {
	drss := after.RSSKiB - before.RSSKiB
	fmt.Printf("%-8s RSS %.1f MiB (+%.1f MiB over the %.1f MiB before, %.1f KiB per space), Go heap spans in use %.1f MiB, %d open files (+%d)\n",
		name+":", float64(after.RSSKiB)/1024, float64(drss)/1024, float64(before.RSSKiB)/1024, float64(drss)/spaces,
		float64(after.HeapInuse)/(1<<20), after.OpenFiles, after.OpenFiles-before.OpenFiles)
}
