package engine

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestLockDeferring: while a deferring writer waits within its patience, readers still get
// in; once its patience is spent it queues like RWMutex.Lock, so new readers wait and it
// gets the lock as soon as the readers inside leave; either way it ends up holding the
// lock alone.
func TestLockDeferring(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patience time.Duration
		// readersPass: a reader arriving while the writer waits gets in.
		readersPass bool
	}{
		{"within its patience", time.Hour, true},
		{"patience spent", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.RWMutex
			mu.RLock() // a recall inside
			locked := make(chan struct{})
			go func() {
				lockDeferring(&mu, tc.patience)
				close(locked)
			}()
			if tc.readersPass {
				for range 100 {
					if !mu.TryRLock() {
						t.Fatal("a reader was held up by a writer within its patience")
					}
					mu.RUnlock()
					runtime.Gosched()
				}
			} else {
				// The writer queues: new readers are soon turned away.
				for mu.TryRLock() {
					mu.RUnlock()
					runtime.Gosched()
				}
			}
			select {
			case <-locked:
				t.Fatal("the writer got the lock while a reader held it")
			default:
			}
			mu.RUnlock()
			<-locked
			if mu.TryRLock() {
				t.Fatal("a reader got in while the writer held the lock")
			}
			mu.Unlock()
		})
	}
}
