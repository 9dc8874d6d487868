package engine

import (
	"math"
	"testing"
	"time"
)

func TestRestFor(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		wait time.Duration
		busy bool
		want time.Duration
	}{
		{"idle foreground runs flat out", 90 * ms, false, 0},
		{"busy waits for the budget", 90 * ms, true, 90 * ms},
		{"budget has room", 0, true, 0},
		{"a long wait rests at most maxRest at a time", 9 * time.Second, true, maxRest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := restFor(c.wait, c.busy); got != c.want {
				t.Fatalf("restFor(%v, %v) = %v, want %v", c.wait, c.busy, got, c.want)
			}
		})
	}
}

func TestBudgeted(t *testing.T) {
	for _, c := range []struct {
		name     string
		maxShare float64
		busy     bool
		lag      float64
		want     float64
	}{
		{"catch-up is free", 0.5, false, 0.1, 0},
		{"catch-up at the bound is free", 0.5, false, 1, 0},
		{"busy, no lag pays in full", 0.5, true, 0, 1},
		{"busy, half the bound pays base/max", 0.5, true, 0.5, 0.1},
		{"busy, past the bound still pays base/max", 0.5, true, 3, 0.1},
		{"a fixed share pays in full at the bound", BackgroundBaseShare, true, 1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBackgroundBudget(2, c.maxShare)
			if got := b.budgeted(c.busy, c.lag); math.Abs(got-c.want) > 1e-9 {
				t.Fatalf("budgeted(%v, %v) = %v, want %v", c.busy, c.lag, got, c.want)
			}
		})
	}
}

// The controller: the share a lane may use follows its lag, up from the base share as the
// lag grows to the configured maximum at half the bound, never past it, and back down as
// the lag falls.
func TestBackgroundShare(t *testing.T) {
	for _, c := range []struct {
		name     string
		maxShare float64
		lags     []float64
		want     []float64
	}{
		{"lag growing: share grows to the bound", 0.5,
			[]float64{0, 0.1, 0.25, 0.5, 0.75, 1, 4},
			[]float64{0.05, 0.14, 0.275, 0.5, 0.5, 0.5, 0.5}},
		{"lag shrinking: share falls to the base", 0.5,
			[]float64{1, 0.4, 0.2, 0.05, 0},
			[]float64{0.5, 0.41, 0.23, 0.095, 0.05}},
		{"a higher bound", 1,
			[]float64{0, 0.25, 0.5, 2},
			[]float64{0.05, 0.525, 1, 1}},
		{"the base share pins it", BackgroundBaseShare,
			[]float64{0, 0.5, 1},
			[]float64{0.05, 0.05, 0.05}},
		{"a bound past all CPUs counts as all", 7, []float64{1}, []float64{1}},
		{"a bound under the base counts as the base", 0.01, []float64{1}, []float64{0.05}},
		{"a negative lag counts as none", 0.5, []float64{-1}, []float64{0.05}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBackgroundBudget(2, c.maxShare)
			for i, lag := range c.lags {
				if got := b.share(lag); math.Abs(got-c.want[i]) > 1e-9 {
					t.Fatalf("share(%v) = %v, want %v", lag, got, c.want[i])
				}
			}
		})
	}
}

// A lane that works in slices, charges and rests as pace does, on a clock the test moves,
// uses share(lag) of the CPUs while requests flow and all it can once they stop; two such
// lanes together stay within the maximum share.
func TestBackgroundBudgetUse(t *testing.T) {
	const cpus = 2
	slice := 10 * time.Millisecond
	for _, c := range []struct {
		name  string
		lanes int
		busy  bool
		lag   float64
		want  float64 // CPUs the lanes use together
	}{
		{"no lag: the base share", 1, true, 0, 0.05 * cpus},
		{"a quarter of the bound: halfway up", 1, true, 0.25, 0.275 * cpus},
		{"half the bound: the maximum", 1, true, 0.5, 0.5 * cpus},
		{"at the bound: still the maximum", 1, true, 1, 0.5 * cpus},
		{"two lanes at the bound share the maximum", 2, true, 1, 0.5 * cpus},
		{"no requests: flat out", 2, false, 0, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := newBackgroundBudget(cpus, 0.5)
			now := time.Unix(1000, 0).UnixNano()
			start := now
			var work time.Duration
			// The lanes take turns on one core each: a round is one slice of each, in
			// parallel, then the longest rest any of them needs.
			for range 2000 {
				now += int64(slice)
				for range c.lanes {
					b.charge(now, slice, b.budgeted(c.busy, c.lag))
					work += slice
				}
				for {
					r := restFor(b.wait(now), c.busy)
					if r <= 0 {
						break
					}
					now += int64(r)
				}
			}
			used := float64(work) / float64(now-start)
			if math.Abs(used-c.want) > 0.01*c.want {
				t.Fatalf("lanes used %.3f CPUs, want %.3f", used, c.want)
			}
		})
	}
}

func TestBackgroundBudget(t *testing.T) {
	ms := time.Millisecond
	now := time.Unix(1000, 0).UnixNano()
	at := func(d time.Duration) int64 { return now + int64(d) }
	type slice struct {
		end  time.Duration // when the slice of work ended, from now
		work time.Duration
	}
	cases := []struct {
		name   string
		cpus   int
		slices []slice
		askAt  time.Duration
		want   time.Duration
	}{
		{"nothing charged has room", 2, nil, 0, 0},
		// A tenth of a core on two CPUs: 10 ms of work pays for itself over 100 ms.
		{"one lane rests nine times its work", 2, []slice{{10 * ms, 10 * ms}}, 10 * ms, 90 * ms},
		{"two lanes share one budget", 2, []slice{{10 * ms, 10 * ms}, {10 * ms, 10 * ms}}, 10 * ms, 190 * ms},
		{"more CPUs, more budget", 4, []slice{{10 * ms, 10 * ms}}, 10 * ms, 40 * ms},
		{"the wait runs down", 2, []slice{{10 * ms, 10 * ms}}, 60 * ms, 40 * ms},
		{"paid off", 2, []slice{{10 * ms, 10 * ms}}, 101 * ms, 0},
		// Budget left unused for a long time is not saved up: after an idle second a
		// slice still pays for itself in full.
		{"no credit from idle time", 2, []slice{{10 * ms, 10 * ms}, {2 * time.Second, 10 * ms}}, 2 * time.Second, 90 * ms},
		{"zero CPUs counts as one", 0, []slice{{10 * ms, 10 * ms}}, 10 * ms, 190 * ms},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBackgroundBudget(c.cpus, DefaultBackgroundMaxShare)
			for _, s := range c.slices {
				b.charge(at(s.end), s.work, 1)
			}
			if got := b.wait(at(c.askAt)); got != c.want {
				t.Fatalf("wait = %v, want %v", got, c.want)
			}
		})
	}
}

func TestForegroundBusy(t *testing.T) {
	now := time.Unix(1000, 0).UnixNano()
	e := &Engine{}
	if e.foregroundBusyAt(now) {
		t.Fatal("busy before any request")
	}
	e.noteForegroundAt(now)
	if !e.foregroundBusyAt(now + int64(foregroundWindow/2)) {
		t.Fatal("not busy right after a request")
	}
	if e.foregroundBusyAt(now + int64(foregroundWindow+time.Millisecond)) {
		t.Fatal("still busy after the window")
	}
}

// A lane charges the budget only for work done while requests flow, so a catch-up leaves
// nothing owed for the next burst; while they flow, even a lane at its lag bound is charged
// (the maximum share is a bound on the CPU, not only a target).
func TestPaceChargesOnlyBudgetedWork(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.BackgroundMaxShare = BackgroundBaseShare // a fixed share: every busy slice pays in full
	e := openTest(t, cfg)
	defer e.Close()
	s := mustSpace(t, e, "pace")
	var l *linker
	readState(t, s, func(st *state) { l = &st.link })
	hurried := make(chan struct{}, 1)
	second := func(lag float64) { l.pace(time.Second, func() float64 { return lag }, hurried) }
	owed := func() time.Duration { return e.background.wait(time.Now().UnixNano()) }

	e.lastForeground.ns.Store(0) // quiet: a second of catch-up is free
	second(1)
	if w := owed(); w != 0 {
		t.Fatalf("after a catch-up with no requests the lanes owe %v", w)
	}
	e.noteForeground()
	hurried <- struct{}{} // the lane would rest; cut it short
	second(1)
	if w := owed(); w <= 0 {
		t.Fatal("a second of work at the lag bound while requests flow was not charged")
	}
}

func TestOpenRejectsBackgroundMaxShare(t *testing.T) {
	for _, share := range []float64{-0.5, 0.01, 1.5, math.NaN()} {
		cfg := testConfig(t, t.TempDir())
		cfg.BackgroundMaxShare = share
		if e, err := Open(cfg); err == nil {
			e.Close()
			t.Fatalf("Open accepted a background max share of %v", share)
		}
	}
}
