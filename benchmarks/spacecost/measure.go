package spacecost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/engram-go/engram/engine"
)

// ErrNotIdle is returned when the engine still holds more spaces open than its bound
// after Options.SettleTimeout: its idle sweep did not do its job.
var ErrNotIdle = errors.New("spacecost: idle spaces were not closed")

// Options describe the measured node.
type Options struct {
	DataRoot      string
	Spaces        int                  // spaces created, each with one memory
	MaxOpenSpaces int                  // the engine's bound on open spaces (0: engine default)
	Settings      engine.SpaceSettings // zero fields take the engine defaults (768-d, wal_sync always)
	// SettleTimeout bounds the wait for the idle sweep (spaces idle for a few seconds are
	// closed by a once-a-second sweep). 0 means one minute.
	SettleTimeout time.Duration
	// FirstUses is how many closed spaces Start reads once to time a lazy reopen; 0 means 100.
	FirstUses int
	// Progress, when set, receives a line every 1,000 created spaces.
	Progress io.Writer
}

func (o Options) config() engine.Config {
	return engine.Config{
		DataRoot:          o.DataRoot,
		AutoCreate:        true,
		MaxSpaces:         o.Spaces + 1,
		MaxOpenSpaces:     o.MaxOpenSpaces,
		EmbeddingProvider: "hash",
		Defaults:          o.Settings,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// SpaceID names the i-th measured space.
func SpaceID(i int) string { return fmt.Sprintf("tenant-%05d", i) }

// CreateReport describes the creation of the spaces and the node once they are idle.
type CreateReport struct {
	Spaces        int
	MaxOpenSpaces int
	Before        Sample        // before the engine was opened
	Took          time.Duration // creating every space and storing its memory
	PeakOpen      int           // most spaces seen open at a progress check during creation
	PeakFiles     int           // most open files seen at those checks
	Settle        time.Duration // from the last write until the sweep closed the idle spaces
	Idle          Sample        // with every space idle and at most MaxOpenSpaces open
	OpenWhenIdle  int
	DiskBytes     int64 // bytes of the files under the data root after the engine closed
	DiskFiles     int   // files under the data root
	DiskDirs      int   // folders under the data root, itself included
}

// Create opens an engine on o.DataRoot, creates o.Spaces spaces with one memory each,
// waits until the idle sweep has closed all but MaxOpenSpaces of them, samples the
// process and closes the engine.
func Create(o Options) (CreateReport, error) {
	if o.Spaces <= 0 {
		return CreateReport{}, fmt.Errorf("spacecost: %d spaces: want at least one", o.Spaces)
	}
	r := CreateReport{Spaces: o.Spaces}
	var err error
	if r.Before, err = TakeSample(); err != nil {
		return r, err
	}
	e, err := engine.Open(o.config())
	if err != nil {
		return r, fmt.Errorf("open engine: %w", err)
	}
	defer e.Close()
	r.MaxOpenSpaces = e.Config().MaxOpenSpaces

	ctx := context.Background()
	start := time.Now()
	for i := range o.Spaces {
		s, _, err := e.CreateSpace(SpaceID(i), engine.SpaceSettings{})
		if err != nil {
			return r, fmt.Errorf("create space %d: %w", i, err)
		}
		m := engine.Memory{ID: "m", Content: fmt.Sprintf("the one memory of tenant %d", i), Confidence: 0.5}
		if _, err := s.Remember(ctx, m, engine.RememberOptions{}); err != nil {
			return r, fmt.Errorf("remember in space %d: %w", i, err)
		}
		if (i+1)%1000 == 0 || i+1 == o.Spaces {
			open := countOpen(e)
			r.PeakOpen = max(r.PeakOpen, open)
			if fds, err := openFiles(); err == nil {
				r.PeakFiles = max(r.PeakFiles, fds)
			}
			if o.Progress != nil {
				fmt.Fprintf(o.Progress, "created %d spaces in %v, %d open\n", i+1, time.Since(start).Round(time.Millisecond), open)
			}
		}
	}
	r.Took = time.Since(start)

	settled := time.Now()
	timeout := o.SettleTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	for r.OpenWhenIdle = countOpen(e); r.OpenWhenIdle > r.MaxOpenSpaces; r.OpenWhenIdle = countOpen(e) {
		if time.Since(settled) > timeout {
			return r, fmt.Errorf("%w: %d of %d spaces open after %v, bound %d", ErrNotIdle, r.OpenWhenIdle, o.Spaces+1, timeout, r.MaxOpenSpaces)
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.Settle = time.Since(settled)
	if r.Idle, err = TakeSample(); err != nil {
		return r, err
	}
	if err := e.Close(); err != nil {
		return r, fmt.Errorf("close engine: %w", err)
	}
	r.DiskBytes, r.DiskFiles, r.DiskDirs, err = diskUsage(o.DataRoot)
	return r, err
}

// StartReport describes an engine started over existing spaces.
type StartReport struct {
	Spaces         int // spaces the engine found
	Before         Sample
	Took           time.Duration // engine.Open: discovery and recovery of every space
	Started        Sample        // right after Open returned
	OpenAfterStart int
	FirstUses      []time.Duration // sorted: reading one memory from a closed space
}

// Start opens an engine on a data root written by Create, samples the process, then
// reads one memory from up to o.FirstUses spaces that are closed, timing each lazy
// reopen, and closes the engine.
func Start(o Options) (StartReport, error) {
	var r StartReport
	var err error
	if r.Before, err = TakeSample(); err != nil {
		return r, err
	}
	start := time.Now()
	e, err := engine.Open(o.config())
	if err != nil {
		return r, fmt.Errorf("open engine: %w", err)
	}
	defer e.Close()
	r.Took = time.Since(start)
	r.Spaces = len(e.Spaces())
	r.OpenAfterStart = countOpen(e)
	if r.Started, err = TakeSample(); err != nil {
		return r, err
	}

	uses := o.FirstUses
	if uses <= 0 {
		uses = 100
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(o.Spaces) {
		if len(r.FirstUses) == uses {
			break
		}
		s, err := e.Space(SpaceID(i))
		if err != nil {
			return r, fmt.Errorf("space %d: %w", i, err)
		}
		if s.Stats().Open {
			continue
		}
		t0 := time.Now()
		m, err := s.Get("m")
		d := time.Since(t0)
		if err != nil {
			return r, fmt.Errorf("first use of space %d: %w", i, err)
		}
		if want := fmt.Sprintf("the one memory of tenant %d", i); m.Content != want {
			return r, fmt.Errorf("space %d reopened with %q, want %q", i, m.Content, want)
		}
		r.FirstUses = append(r.FirstUses, d)
	}
	slices.Sort(r.FirstUses)
	if err := e.Close(); err != nil {
		return r, fmt.Errorf("close engine: %w", err)
	}
	return r, nil
}

// countOpen counts the spaces whose state is loaded. Stats of a closed space does not
// open it.
func countOpen(e *engine.Engine) int {
	n := 0
	for _, s := range e.Spaces() {
		if s.Stats().Open {
			n++
		}
	}
	return n
}
