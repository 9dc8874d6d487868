package engine

import (
	"runtime"
	"sync"
	"time"
)

// Deferring writers. sync.RWMutex prefers writers: from the moment Lock is called, every
// new RLock waits until the writer has come and gone. The writer itself first waits for
// the readers inside, and on a saturated machine a reader inside may be off the CPU for
// milliseconds, so one pending writer of a few microseconds' work holds up every recall
// that arrives meanwhile for as long as the slowest recall inside takes to finish, plus the
// writer's own wait for a CPU (BenchmarkRecallUnderWrites: p99 80-120 ms against a p50 of
// 0.5 ms). The hot writers (the applier) therefore take st.mu with lockDeferring: they
// try for it, and between tries let the recalls inside finish without announcing
// themselves, so recalls arriving meanwhile go in; only after deferFor do they wait in
// line as sync.RWMutex.Lock does, so a writer is never starved by a stream of recalls
// that never leaves st.mu free.
const (
	// deferFor bounds how long a writer lets recalls go first.
	deferFor = 2 * time.Millisecond
	// deferSpins is how many tries yield the processor alone before the writer sleeps
	// between tries, so that a writer waiting for a recall on another CPU does not spin.
	deferSpins = 4
	// deferNap is the sleep between later tries.
	deferNap = 50 * time.Microsecond
)

// lockDeferring locks mu exclusively, letting readers that arrive before it gets the lock
// go first for up to patience (deferFor for the applier).
func lockDeferring(mu *sync.RWMutex, patience time.Duration) {
	if mu.TryLock() {
		return
	}
	deadline := time.Now().Add(patience)
	for try := 0; ; try++ {
		if try < deferSpins {
			runtime.Gosched()
		} else {
			time.Sleep(deferNap)
		}
		if mu.TryLock() {
			return
		}
		if time.Now().After(deadline) {
			mu.Lock()
			return
		}
	}
}
