package main

import (
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is a progress bar on the terminal, or nothing: every method is a no-op on a
// nil *progress, so callers never check whether it is shown.
type progress struct{ bar *progressbar.ProgressBar }

// newProgress shows a bar of max steps (-1: unknown) when stdout is a terminal and
// neither --quiet nor --json is given. The bar is drawn on stdout and cleared when done,
// so that only the summary remains.
func (a *app) newProgress(quiet, asJSON bool, max int64, what, unit string) *progress {
	f, ok := a.stdout.(*os.File)
	if quiet || asJSON || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
	}
	if unit == "bytes" {
		opts = append(opts, progressbar.OptionShowBytes(true))
	} else {
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
	}
	return &progress{bar: progressbar.NewOptions64(max, opts...)}
}

func (p *progress) add(n int) {
	if p != nil {
		_ = p.bar.Add(n)
	}
}

// done clears the bar.
func (p *progress) done() {
	if p != nil {
		_ = p.bar.Finish()
		_ = p.bar.Clear()
	}
}
