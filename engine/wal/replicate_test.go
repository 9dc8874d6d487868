package wal

import (
	"errors"
	"os"
	"sync"
	"testing"
)

// fakeReplicator keeps the frames it accepted and refuses once fail is set.
type fakeReplicator struct {
	mu       sync.Mutex
	frames   []byte
	records  int
	fail     error
	diverged error
}

func (r *fakeReplicator) Replicate(frames []byte, records int, first, last uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if frameLSN(frames) != first {
		return errors.New("first LSN does not match the frames")
	}
	r.frames = append(r.frames, frames...)
	r.records += records
	return nil
}

func (r *fakeReplicator) Diverged(err error) {
	r.mu.Lock()
	r.diverged = err
	r.mu.Unlock()
}

var (
	errStreamDown = errors.New("stream down")
	errDisk       = errors.New("disk gone")
)

func TestReplicatorSeesEveryBatchFirst(t *testing.T) {
	tests := []struct {
		name string
		sync SyncMode
	}{{"always", SyncAlways}, {"interval", SyncInterval}, {"never", SyncNever}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rep := &fakeReplicator{}
			opts := testOptions(dir)
			opts.Sync, opts.Replicator = tt.sync, rep
			w, _, _ := mustOpen(t, opts, 0)
			want := fill(t, w, 0, 50)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if rep.records != len(want) {
				t.Fatalf("replicated %d records, want %d", rep.records, len(want))
			}
			var got []recovered
			if err := EachFrame(rep.frames, func(f Frame) error {
				got = append(got, recovered{f.LSN, f.Type, string(f.Payload)})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			sameRecords(t, got, want)
			_, local := reopen(t, testOptions(dir))
			sameRecords(t, local, want)
		})
	}
}

func TestReplicatorFailureWritesNothingLocally(t *testing.T) {
	dir := t.TempDir()
	rep := &fakeReplicator{}
	opts := testOptions(dir)
	opts.Replicator = rep
	w, _, _ := mustOpen(t, opts, 0)
	want := fill(t, w, 0, 5)
	rep.mu.Lock()
	rep.fail = errStreamDown
	rep.mu.Unlock()
	_, err := w.Append(Entry{Type: 1, Payload: []byte("refused")})
	if !errors.Is(err, ErrFailed) || !errors.Is(err, errStreamDown) {
		t.Fatalf("Append with a failing replicator: %v, want ErrFailed wrapping the cause", err)
	}
	if _, err := w.Append(Entry{Type: 1, Payload: []byte("later")}); !errors.Is(err, ErrFailed) {
		t.Fatalf("Append after the failure: %v, want ErrFailed", err)
	}
	_ = w.Close()
	if rep.diverged != nil {
		t.Fatalf("a refused batch reported a divergence: %v", rep.diverged)
	}
	_, local := reopen(t, testOptions(dir))
	sameRecords(t, local, want)
}

func TestReplicatorHearsOfLocalFailure(t *testing.T) {
	dir := t.TempDir()
	rep := &fakeReplicator{}
	opts := testOptions(dir)
	opts.Replicator = rep
	ops := osFileOps()
	ops.datasync = func(*os.File) error { return errDisk }
	w, _, err := open(opts, 0, nil, ops)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(Entry{Type: 1, Payload: []byte("x")}); !errors.Is(err, errDisk) {
		t.Fatalf("Append: %v, want the disk error", err)
	}
	_ = w.Close()
	if !errors.Is(rep.diverged, errDisk) {
		t.Fatalf("Diverged got %v, want the disk error", rep.diverged)
	}
}

func TestAppendFrames(t *testing.T) {
	// A source log whose frames are copied into a replica, twice and in pieces.
	src := t.TempDir()
	rep := &fakeReplicator{}
	opts := testOptions(src)
	opts.Replicator = rep
	w, _, _ := mustOpen(t, opts, 0)
	want := fill(t, w, 0, 40)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var offs []int
	_ = EachFrame(rep.frames, func(f Frame) error { offs = append(offs, int(f.Offset)); return nil })
	half := offs[20]

	tests := []struct {
		name   string
		pieces [][]byte
		counts []int
	}{
		{"whole", [][]byte{rep.frames}, []int{40}},
		{"twice", [][]byte{rep.frames, rep.frames}, []int{40, 0}},
		{"overlapping", [][]byte{rep.frames[:half], rep.frames}, []int{20, 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := t.TempDir()
			r, _, _ := mustOpen(t, testOptions(dst), 0)
			for i, p := range tt.pieces {
				n, err := r.AppendFrames(p)
				if err != nil || n != tt.counts[i] {
					t.Fatalf("piece %d: appended %d, %v; want %d", i, n, err, tt.counts[i])
				}
			}
			if next := r.NextLSN(); next != want[len(want)-1].LSN+1 {
				t.Fatalf("NextLSN %d after the copy, want %d", next, want[len(want)-1].LSN+1)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			_, got := reopen(t, testOptions(dst))
			sameRecords(t, got, want)
		})
	}

	t.Run("damaged", func(t *testing.T) {
		bad := append([]byte(nil), rep.frames...)
		bad[offs[3]+frmPayloadOff] ^= 0xff
		r, _, _ := mustOpen(t, testOptions(t.TempDir()), 0)
		defer r.Close()
		if n, err := r.AppendFrames(bad); !errors.Is(err, ErrCorrupt) || n != 0 {
			t.Fatalf("damaged frames: appended %d, %v; want 0 and ErrCorrupt", n, err)
		}
		if r.NextLSN() != 1 {
			t.Fatalf("a refused copy moved NextLSN to %d", r.NextLSN())
		}
	})
}
