package wal

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// failingOps returns file operations whose write (or datasync) starts failing with EIO after ok
// successful calls.
func failingOps(failWrite bool, ok int64) fileOps {
	ops := osFileOps()
	var calls atomic.Int64
	if failWrite {
		write := ops.writeAt
		ops.writeAt = func(f *os.File, p []byte, off int64) (int, error) {
			if calls.Add(1) > ok {
				return 0, syscall.EIO
			}
			return write(f, p, off)
		}
	} else {
		sync := ops.datasync
		ops.datasync = func(f *os.File) error {
			if calls.Add(1) > ok {
				return syscall.EIO
			}
			return sync(f)
		}
	}
	return ops
}

func TestFailureStopsTheLog(t *testing.T) {
	tests := []struct {
		name      string
		failWrite bool
		mode      SyncMode
	}{
		{"write fails", true, SyncAlways},
		{"write fails, interval mode", true, SyncInterval},
		{"fdatasync fails", false, SyncAlways},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(t.TempDir())
			opts.Sync = tt.mode
			// Open itself fdatasyncs the active segment once; allow that and 20 more operations.
			w, _, err := open(opts, 0, nil, failingOps(tt.failWrite, 21))
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var acked []recovered
			var failures atomic.Int64
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 40 {
						p := payloadFor(g*1000 + i)
						lsn, err := w.Append(Entry{Type: 1, Payload: p})
						if err != nil {
							if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
								t.Errorf("Append: %v, want ErrFailed wrapping EIO", err)
							}
							failures.Add(1)
							continue
						}
						mu.Lock()
						acked = append(acked, recovered{lsn, 1, string(p)})
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if failures.Load() == 0 {
				t.Fatal("no append saw the failure")
			}
			if _, err := w.Append(Entry{Type: 1, Payload: []byte("late")}); !errors.Is(err, ErrFailed) {
				t.Fatalf("Append after failure: %v", err)
			}
			if err := w.Sync(); !errors.Is(err, ErrFailed) {
				t.Fatalf("Sync after failure: %v", err)
			}
			if err := w.Close(); !errors.Is(err, ErrFailed) {
				t.Fatalf("Close after failure: %v", err)
			}
			// Everything acknowledged is in the log.
			_, got := reopen(t, opts)
			have := map[uint64]recovered{}
			for _, r := range got {
				have[r.LSN] = r
			}
			for _, a := range acked {
				if have[a.LSN] != a {
					t.Fatalf("acknowledged LSN %d missing or different: %+v", a.LSN, have[a.LSN])
				}
			}
		})
	}
}

func TestFileClosedUnderneath(t *testing.T) {
	opts := testOptions(t.TempDir())
	w, _, _ := mustOpen(t, opts, 0)
	want := fill(t, w, 0, 5)
	w.active.f.Close() // the flusher is idle: Append has returned
	_, err := w.Append(Entry{Type: 1, Payload: []byte("lost")})
	if !errors.Is(err, ErrFailed) || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Append on a closed file: %v", err)
	}
	if _, err := w.AppendBatch([]Entry{{Type: 1}}); !errors.Is(err, ErrFailed) {
		t.Fatalf("AppendBatch after failure: %v", err)
	}
	w.Close()
	_, got := reopen(t, opts)
	sameRecords(t, got, want)
}
