package engine

import (
	"testing"
	"time"
)

func TestRestAfter(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		d    time.Duration
		busy bool
		lag  float64
		want time.Duration
	}{
		{"idle foreground runs flat out", 10 * ms, false, 0.1, 0},
		{"busy, small lag rests nine times the work", 10 * ms, true, 0.1, 90 * ms},
		{"busy, half the bound still rests fully", 10 * ms, true, 0.5, 90 * ms},
		{"busy, three quarters rests half", 10 * ms, true, 0.75, 45 * ms},
		{"busy, at the bound no rest", 10 * ms, true, 1, 0},
		{"busy, past the bound no rest", 10 * ms, true, 3, 0},
		{"long work rests at most maxRest", time.Second, true, 0, maxRest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := restAfter(c.d, c.busy, c.lag); got != c.want {
				t.Fatalf("restAfter(%v, %v, %v) = %v, want %v", c.d, c.busy, c.lag, got, c.want)
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
