package engine

import (
	"testing"
	"time"
)

func TestRestFor(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		wait time.Duration
		busy bool
		lag  float64
		want time.Duration
	}{
		{"idle foreground runs flat out", 90 * ms, false, 0.1, 0},
		{"busy, small lag waits for the budget", 90 * ms, true, 0.1, 90 * ms},
		{"busy, half the bound still waits fully", 90 * ms, true, 0.5, 90 * ms},
		{"busy, three quarters waits half", 90 * ms, true, 0.75, 45 * ms},
		{"busy, at the bound no rest", 90 * ms, true, 1, 0},
		{"busy, past the bound no rest", 90 * ms, true, 3, 0},
		{"budget has room", 0, true, 0, 0},
		{"a long wait rests at most maxRest at a time", 9 * time.Second, true, 0, maxRest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := restFor(c.wait, c.busy, c.lag); got != c.want {
				t.Fatalf("restFor(%v, %v, %v) = %v, want %v", c.wait, c.busy, c.lag, got, c.want)
			}
		})
	}
}

func TestBudgeted(t *testing.T) {
	for _, c := range []struct {
		name string
		busy bool
		lag  float64
		want float64
	}{
		{"catch-up is free", false, 0.1, 0},
		{"busy, small lag pays in full", true, 0.1, 1},
		{"busy, half the bound pays in full", true, 0.5, 1},
		{"busy, three quarters pays half", true, 0.75, 0.5},
		{"busy, at the bound is free", true, 1, 0},
		{"busy, past the bound is free", true, 2, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := budgeted(c.busy, c.lag); got != c.want {
				t.Fatalf("budgeted(%v, %v) = %v, want %v", c.busy, c.lag, got, c.want)
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
			b := newBackgroundBudget(c.cpus)
			for _, s := range c.slices {
				b.charge(at(s.end), s.work)
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

// A lane charges the budget only for work done while requests flow and its lag is under
// its bound, so a catch-up leaves nothing owed for the next burst.
func TestPaceChargesOnlyBudgetedWork(t *testing.T) {
	e := openTest(t, testConfig(t, t.TempDir()))
	defer e.Close()
	s := mustSpace(t, e, "pace")
	var l *linker
	readState(t, s, func(st *state) { l = &st.link })
	hurried := make(chan struct{}, 1)
	second := func(lag float64) { l.pace(time.Now().Add(-time.Second), func() float64 { return lag }, hurried) }
	owed := func() time.Duration { return e.background.wait(time.Now().UnixNano()) }

	e.lastForeground.Store(0) // quiet: a second of catch-up is free
	second(0.1)
	if w := owed(); w != 0 {
		t.Fatalf("after a catch-up with no requests the lanes owe %v", w)
	}
	e.noteForeground()
	second(1) // at its bound a lane runs flat out, free
	if w := owed(); w != 0 {
		t.Fatalf("after work at the lag bound the lanes owe %v", w)
	}
	hurried <- struct{}{} // the lane would rest; cut it short
	second(0.1)
	if w := owed(); w <= 0 {
		t.Fatal("a second of work while requests flow was not charged")
	}
}
