package procs

import (
	"runtime"
	"testing"
)

func TestFor(t *testing.T) {
	for _, c := range []struct{ cpus, want int }{{1, 2}, {2, 3}, {3, 4}, {4, 6}, {16, 24}} {
		if got := For(c.cpus); got != c.want {
			t.Errorf("For(%d) = %d, want %d", c.cpus, got, c.want)
		}
	}
}

func TestTuneRespectsEnvironment(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	t.Setenv("GOMAXPROCS", "1")
	runtime.GOMAXPROCS(1)
	if got := Tune(); got != 1 {
		t.Fatalf("Tune() with GOMAXPROCS=1 set = %d, want 1", got)
	}
	t.Setenv("GOMAXPROCS", "")
	if got, want := Tune(), For(1); got != want || runtime.GOMAXPROCS(0) != want {
		t.Fatalf("Tune() = %d (runtime %d), want %d", got, runtime.GOMAXPROCS(0), want)
	}
}
