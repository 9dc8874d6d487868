package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/engram-go/engram/internal/enginetest"
)

func TestSetMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	log := enginetest.QuietLogger()

	if got := setMemoryLimit(3<<30, log); got != 3<<30 || debug.SetMemoryLimit(-1) != 3<<30 {
		t.Fatalf("configured 3 GiB: returned %d, runtime has %d", got, debug.SetMemoryLimit(-1))
	}
	if got := setMemoryLimit(-1, log); got != math.MaxInt64 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatalf("-1: returned %d, runtime has %d; want no limit", got, debug.SetMemoryLimit(-1))
	}
	got := setMemoryLimit(0, log)
	avail, _ := availableMemory()
	switch {
	case runtime.GOOS == "linux" && avail <= 0:
		t.Fatal("the memory available is not read on Linux")
	case avail > 0 && got != int64(float64(avail)*memoryLimitShare):
		t.Fatalf("derived limit %d, want 3/4 of %d", got, avail)
	case debug.SetMemoryLimit(-1) != got:
		t.Fatalf("runtime has %d, setMemoryLimit returned %d", debug.SetMemoryLimit(-1), got)
	}
}
