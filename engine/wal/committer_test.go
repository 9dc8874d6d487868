package wal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// openShared opens a SyncAlways log in its own folder under root that flushes through c.
func openShared(t *testing.T, root, name string, c *Committer, ops fileOps) (*WAL, Options) {
	t.Helper()
	opts := testOptions(filepath.Join(root, name, "wal"))
	opts.Space = name
	opts.Committer = c
	w, _, err := open(opts, 0, nil, ops)
	if err != nil {
		t.Fatal(err)
	}
	return w, opts
}

// queued is the number of files waiting for the committer's next round.
func (c *Committer) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// openFolders is the number of folders the Committer holds open.
func (c *Committer) openFolders() int {
	c.devMu.Lock()
	defer c.devMu.Unlock()
	return len(c.devs)
}

// waitQueued waits until n files wait for the next round.
func waitQueued(c *Committer, n int) {
	for c.queued() < n {
		time.Sleep(time.Millisecond)
	}
}

// loneFlushHold is file ops whose next fdatasync, once armed, waits at a gate: a test
// holds a log's flush of its own file while other logs queue behind it.
type loneFlushHold struct {
	ops     fileOps
	armed   atomic.Bool
	entered chan struct{} // closed when the armed fdatasync has begun
	release chan struct{} // closed by the test to let it go on
}

func newLoneFlushHold() *loneFlushHold {
	h := &loneFlushHold{ops: osFileOps(), entered: make(chan struct{}), release: make(chan struct{})}
	h.ops.datasync = func(f *os.File) error {
		if h.armed.CompareAndSwap(true, false) {
			close(h.entered)
			<-h.release
		}
		return datasync(f)
	}
	return h
}

// TestCommitterSharesOneFlush holds one log's flush and checks that the logs appended to
// meanwhile are made durable together, by one syncfs, and that each log counts the shared
// flush as its own.
func TestCommitterSharesOneFlush(t *testing.T) {
	root := t.TempDir()
	c := NewCommitter()
	var syncfsCalls atomic.Int64
	realSyncfs := c.syncfs
	c.syncfs = func(f *os.File) error {
		syncfsCalls.Add(1)
		return realSyncfs(f)
	}
	hold := newLoneFlushHold()
	a, aOpts := openShared(t, root, "a", c, hold.ops)
	b, bOpts := openShared(t, root, "b", c, osFileOps())
	d, dOpts := openShared(t, root, "d", c, osFileOps())

	hold.armed.Store(true)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := a.Append(Entry{Type: 1, Payload: []byte("a-0")}); err != nil {
			t.Error(err)
		}
	})
	<-hold.entered // a leads a round of its own file and waits at the gate
	for _, w := range []*WAL{b, d} {
		wg.Go(func() {
			if _, err := w.Append(Entry{Type: 1, Payload: []byte(w.opts.Space + "-0")}); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(c, 2)
	close(hold.release)
	wg.Wait()

	if got := syncfsCalls.Load(); got != 1 {
		t.Errorf("syncfs calls = %d, want 1 for the round of b and d", got)
	}
	want := CommitterStats{Rounds: 2, Files: 3, SharedRounds: 1}
	got := c.Stats()
	if got.FlushTime <= 0 {
		t.Errorf("flush time %v, want the rounds' time", got.FlushTime)
	}
	if got.FlushTime = 0; got != want {
		t.Errorf("committer stats = %+v, want %+v", got, want)
	}
	for _, w := range []*WAL{a, b, d} {
		s := w.Stats()
		if s.Syncs != 1 || s.SyncedRecords != 1 || s.DurableLSN != 1 || s.Lag != 0 {
			t.Errorf("%s: stats %+v, want one sync of one record, durable LSN 1, no lag", w.opts.Space, s)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Each log holds its own record and no other.
	for _, o := range []Options{aOpts, bOpts, dOpts} {
		_, got := reopen(t, o)
		if len(got) != 1 || got[0].Payload != o.Space+"-0" {
			t.Errorf("%s recovered %+v, want only its own record", o.Space, got)
		}
	}
}

// TestCommitterRoundsBackToBack holds a shared round in its syncfs while more logs append,
// and checks that the next round takes every file queued meanwhile, as one more syncfs,
// and that each log recovers only its own records.
func TestCommitterRoundsBackToBack(t *testing.T) {
	if !haveSyncfs {
		t.Skip("rounds of several files are one syncfs only where there is one")
	}
	root := t.TempDir()
	c := NewCommitter()
	realSyncfs := c.syncfs
	var syncfsCalls atomic.Int64
	syncfsGate, inSyncfs := make(chan struct{}), make(chan struct{})
	c.syncfs = func(f *os.File) error {
		if syncfsCalls.Add(1) == 1 {
			close(inSyncfs)
			<-syncfsGate
		}
		return realSyncfs(f)
	}
	hold := newLoneFlushHold()
	ws := make([]*WAL, 6)
	opts := make([]Options, len(ws))
	for i := range ws {
		ops := osFileOps()
		if i == 0 {
			ops = hold.ops
		}
		ws[i], opts[i] = openShared(t, root, fmt.Sprintf("log-%d", i), c, ops)
	}
	var wg sync.WaitGroup
	appendTo := func(i int) {
		wg.Go(func() {
			p := fmt.Sprintf("%s-%d", opts[i].Space, ws[i].Stats().LastLSN)
			if _, err := ws[i].Append(Entry{Type: 1, Payload: []byte(p)}); err != nil {
				t.Error(err)
			}
		})
	}
	hold.armed.Store(true)
	appendTo(0)
	<-hold.entered // log-0 flushes its own file alone
	appendTo(1)
	appendTo(2)
	waitQueued(c, 2)
	close(hold.release)
	<-inSyncfs // the round of log-1 and log-2
	appendTo(3)
	appendTo(4)
	appendTo(5)
	waitQueued(c, 3)
	close(syncfsGate)
	wg.Wait()

	if got := syncfsCalls.Load(); got != 2 {
		t.Errorf("syncfs calls = %d, want 2: the held round and one for the files queued during it", got)
	}
	s := c.Stats()
	if want := (CommitterStats{Rounds: 3, Files: 6, SharedRounds: 2}); s.Rounds != want.Rounds || s.Files != want.Files || s.SharedRounds != want.SharedRounds {
		t.Errorf("committer stats = %+v, want rounds of 1, 2 and 3 files", s)
	}
	for i, w := range ws {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, got := reopen(t, opts[i])
		if len(got) != 1 || got[0].Payload != opts[i].Space+"-0" {
			t.Errorf("%s recovered %+v, want only its own record", opts[i].Space, got)
		}
	}
}

// TestCommitterGathersReleasedLogs checks that logs a round released, appending again at
// once, are flushed together by the next round instead of one by one: the round after a
// shared one waits (at most the mean round time, here made long by holding the first
// shared round) until as many files as were in flight are queued again.
func TestCommitterGathersReleasedLogs(t *testing.T) {
	if !haveSyncfs {
		t.Skip("rounds of several files are one syncfs only where there is one")
	}
	root := t.TempDir()
	c := NewCommitter()
	realSyncfs := c.syncfs
	var syncfsCalls atomic.Int64
	c.syncfs = func(f *os.File) error {
		if syncfsCalls.Add(1) == 1 {
			// The first shared round's time becomes the gathering bound of the next
			// (a mean of eight), long enough for the released appenders to return.
			time.Sleep(800 * time.Millisecond)
		}
		return realSyncfs(f)
	}
	hold := newLoneFlushHold()
	a, aOpts := openShared(t, root, "a", c, hold.ops)
	var wg sync.WaitGroup
	hold.armed.Store(true)
	wg.Go(func() {
		if _, err := a.Append(Entry{Type: 1, Payload: []byte("a-0")}); err != nil {
			t.Error(err)
		}
	})
	<-hold.entered // a flushes its own file alone while b and d queue behind it
	var others []*WAL
	var otherOpts []Options
	for _, name := range []string{"b", "d"} {
		w, o := openShared(t, root, name, c, osFileOps())
		others, otherOpts = append(others, w), append(otherOpts, o)
		wg.Go(func() {
			for i := range 2 { // the second append follows the release of the first at once
				if _, err := w.Append(Entry{Type: 1, Payload: fmt.Appendf(nil, "%s-%d", name, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	waitQueued(c, 2)
	close(hold.release)
	wg.Wait()

	if got := syncfsCalls.Load(); got != 2 {
		t.Errorf("syncfs calls = %d, want 2: b and d twice, together each time", got)
	}
	if s := c.Stats(); s.Rounds != 3 || s.Files != 5 || s.SharedRounds != 2 {
		t.Errorf("committer stats = %+v, want a round of a alone and two of b and d", s)
	}
	want := map[string][]string{"a": {"a-0"}, "b": {"b-0", "b-1"}, "d": {"d-0", "d-1"}}
	for i, w := range append([]*WAL{a}, others...) {
		o := append([]Options{aOpts}, otherOpts...)[i]
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, got := reopen(t, o)
		var payloads []string
		for _, r := range got {
			payloads = append(payloads, r.Payload)
		}
		if fmt.Sprint(payloads) != fmt.Sprint(want[o.Space]) {
			t.Errorf("%s recovered %v, want %v", o.Space, payloads, want[o.Space])
		}
	}
}

// TestCommitterFailureStaysInItsLog fails one log's disk through the file-ops seam while
// other logs write through the same Committer: only that log's writers see the error
// (ErrFailed wrapping EIO, what the engine turns into ErrStorage), the other logs go on
// and recover exactly what they acknowledged, and the failed log, reopened through the
// Committer, recovers its acknowledged records and takes appends again.
func TestCommitterFailureStaysInItsLog(t *testing.T) {
	tests := []struct {
		name      string
		failWrite bool // the failing log's write(2) fails; otherwise its fdatasync
		// syncfsFails: a writeback error of the failing file makes the shared syncfs fail
		// (the kernel reports it on the filesystem), so rounds fall back to fdatasyncs. A
		// failed write(2) reaches no disk, so syncfs has nothing to report.
		syncfsFails bool
	}{
		{"fdatasync fails", false, true},
		{"write fails", true, false},
		{"write fails, syncfs fails too", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testCommitterFailure(t, tt.failWrite, tt.syncfsFails) })
	}
}

func testCommitterFailure(t *testing.T, failWrite, syncfsFails bool) {
	root := t.TempDir()
	c := NewCommitter()
	var broken atomic.Bool
	if syncfsFails {
		realSyncfs := c.syncfs
		c.syncfs = func(f *os.File) error {
			if broken.Load() {
				return syscall.EIO // an error of some file of the filesystem
			}
			return realSyncfs(f)
		}
	}
	failing := osFileOps()
	if failWrite {
		failing.writeAt = func(f *os.File, p []byte, off int64) (int, error) {
			if broken.Load() {
				return 0, syscall.EIO
			}
			return f.WriteAt(p, off)
		}
	} else {
		failing.datasync = func(f *os.File) error {
			if broken.Load() {
				return syscall.EIO
			}
			return datasync(f)
		}
	}
	const logs = 6
	ws := make([]*WAL, logs)
	opts := make([]Options, logs)
	for i := range ws {
		ops := osFileOps()
		if i == 0 {
			ops = failing
		}
		ws[i], opts[i] = openShared(t, root, fmt.Sprintf("log-%d", i), c, ops)
	}
	// Records acknowledged before the fault must survive it.
	acked := make([][]string, logs)
	for i, w := range ws {
		p := opts[i].Space + ":before"
		if _, err := w.Append(Entry{Type: 1, Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
		acked[i] = append(acked[i], p)
	}
	broken.Store(true)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures atomic.Int64
	for g := range 24 {
		wg.Go(func() {
			for i := range 20 {
				n := (g + i) % logs
				p := fmt.Sprintf("%s:%d:%d", opts[n].Space, g, i)
				_, err := ws[n].Append(Entry{Type: 1, Payload: []byte(p)})
				switch {
				case n == 0 && (!errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO)):
					t.Errorf("append to the failing log: %v, want ErrFailed wrapping EIO", err)
				case n != 0 && err != nil:
					t.Errorf("append to %s: %v", opts[n].Space, err)
				case err == nil:
					mu.Lock()
					acked[n] = append(acked[n], p)
					mu.Unlock()
				default:
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failures.Load() == 0 {
		t.Fatal("no append to the failing log saw the failure")
	}
	if syncfsFails && c.Stats().Fallbacks == 0 {
		t.Error("no round fell back to fdatasyncs after the failed syncfs")
	}
	for i, w := range ws {
		err := w.Close()
		if (i == 0) != errors.Is(err, ErrFailed) {
			t.Errorf("Close of %s: %v", opts[i].Space, err)
		}
	}
	broken.Store(false) // the disk is back
	for i := range ws {
		_, got := reopen(t, opts[i])
		have := map[string]bool{}
		for _, r := range got {
			have[r.Payload] = true
		}
		for _, p := range acked[i] {
			if !have[p] {
				t.Fatalf("%s: acknowledged %q missing after reopen", opts[i].Space, p)
			}
		}
		if i != 0 && len(got) != len(acked[i]) {
			t.Errorf("%s: recovered %d records, acknowledged %d", opts[i].Space, len(got), len(acked[i]))
		}
	}
	// The failed log, reopened through the Committer, flushes again with the others.
	again := make([]*WAL, 2)
	for i := range again {
		again[i] = mustOpenWith(t, opts[i])
	}
	before := c.Stats().Files
	for i, w := range again {
		if _, err := w.Append(Entry{Type: 1, Payload: []byte(opts[i].Space + ":after")}); err != nil {
			t.Fatalf("append to reopened %s: %v", opts[i].Space, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if c.Stats().Files < before+2 {
		t.Error("the reopened logs did not flush through the Committer")
	}
	_, got := reopen(t, opts[0])
	if len(got) == 0 || got[len(got)-1].Payload != opts[0].Space+":after" {
		t.Errorf("the recovered log did not keep its new record: %+v", got)
	}
}

// mustOpenWith opens the log of opts (with its Committer) and discards the replay.
func mustOpenWith(t *testing.T, opts Options) *WAL {
	t.Helper()
	w, _, err := Open(opts, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestCommitterScope checks which logs use the committer: a lone SyncAlways log flushes
// its own file in rounds of one, and logs of the other sync modes never join a round.
func TestCommitterScope(t *testing.T) {
	tests := []struct {
		mode       SyncMode
		wantRounds bool
	}{
		{SyncAlways, true},
		{SyncInterval, false},
		{SyncNever, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			c := NewCommitter()
			opts := testOptions(t.TempDir())
			opts.Sync = tt.mode
			opts.Committer = c
			w, _, _ := mustOpen(t, opts, 0)
			want := fill(t, w, 0, 20)
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			s := c.Stats()
			if !tt.wantRounds {
				if s != (CommitterStats{}) {
					t.Fatalf("a %s log used the committer: %+v", tt.mode, s)
				}
			} else if s.Rounds < 20 || s.SharedRounds != 0 || s.Files != s.Rounds {
				t.Fatalf("lone log: %+v, want at least 20 rounds of one file", s)
			}
			_, got := reopen(t, opts)
			sameRecords(t, got, want)
		})
	}
}

// TestCommitterManyLogs appends from many goroutines to many logs and checks every log
// recovers exactly its own acknowledged records.
func TestCommitterManyLogs(t *testing.T) {
	root := t.TempDir()
	c := NewCommitter()
	const logs, writers, perWriter = 40, 16, 30
	ws := make([]*WAL, logs)
	opts := make([]Options, logs)
	for i := range ws {
		ws[i], opts[i] = openShared(t, root, fmt.Sprintf("log-%02d", i), c, osFileOps())
	}
	var mu sync.Mutex
	acked := make([]map[string]bool, logs)
	for i := range acked {
		acked[i] = map[string]bool{}
	}
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				n := (g*7 + i*3) % logs
				p := fmt.Sprintf("%s/%d/%d", opts[n].Space, g, i)
				if _, err := ws[n].Append(Entry{Type: 1, Payload: []byte(p)}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[n][p] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var syncs uint64
	for _, w := range ws {
		syncs += w.Stats().Syncs
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Files != syncs {
		t.Errorf("committer flushed %d files, the logs counted %d syncs", s.Files, syncs)
	}
	for i := range ws {
		_, got := reopen(t, opts[i])
		if len(got) != len(acked[i]) {
			t.Errorf("%s: recovered %d records, acknowledged %d", opts[i].Space, len(got), len(acked[i]))
		}
		for _, r := range got {
			if !acked[i][r.Payload] {
				t.Errorf("%s: recovered %q, not one of its own", opts[i].Space, r.Payload)
			}
		}
	}
}

// TestCommitterReleasesFolders checks that the Committer holds a filesystem's folder open
// only while logs of it are open: the last log's Close releases it, a log reopened
// registers again, and after the Committer's own Close nothing is opened any more while
// logs opened then still append durably, each flushing alone.
func TestCommitterReleasesFolders(t *testing.T) {
	if !haveSyncfs {
		t.Skip("no syncfs: the Committer never opens a folder")
	}
	root := t.TempDir()
	c := NewCommitter()
	steps := []struct {
		name    string
		open    []string // logs opened by the step
		close   []string // logs closed by the step
		folders int      // folders held open after it
	}{
		{"first logs", []string{"a", "b", "d"}, nil, 1},
		{"some closed", nil, []string{"a", "b"}, 1},
		{"last closed", nil, []string{"d"}, 0},
		{"reopened", []string{"a", "b"}, nil, 1},
		{"closed again", nil, []string{"a"}, 1},
		{"all closed again", nil, []string{"b"}, 0},
	}
	open := map[string]*WAL{}
	for _, st := range steps {
		for _, name := range st.open {
			open[name], _ = openShared(t, root, name, c, osFileOps())
			if _, err := open[name].Append(Entry{Type: 1, Payload: []byte(st.name)}); err != nil {
				t.Fatalf("%s: append to %s: %v", st.name, name, err)
			}
		}
		for _, name := range st.close {
			if err := open[name].Close(); err != nil {
				t.Fatalf("%s: close %s: %v", st.name, name, err)
			}
			delete(open, name)
		}
		if got := c.openFolders(); got != st.folders {
			t.Fatalf("%s: %d folders open, want %d", st.name, got, st.folders)
		}
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var ws []*WAL
	var opts []Options
	for _, name := range []string{"late-1", "late-2"} {
		w, o := openShared(t, root, name, c, osFileOps())
		ws, opts = append(ws, w), append(opts, o)
	}
	if got := c.openFolders(); got != 0 {
		t.Fatalf("logs opened after Close opened %d folders", got)
	}
	var wg sync.WaitGroup
	for i, w := range ws {
		for g := range 4 {
			wg.Go(func() {
				if _, err := w.Append(Entry{Type: 1, Payload: fmt.Appendf(nil, "%d/%d", i, g)}); err != nil {
					t.Errorf("append after the Committer's Close: %v", err)
				}
			})
		}
	}
	wg.Wait()
	for i, w := range ws {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, got := reopen(t, opts[i]); len(got) != 4 {
			t.Errorf("%s: %d records after reopen, want 4", opts[i].Space, len(got))
		}
	}
}

// TestCommitterWaitsOnlyForReturningLogs checks that the wait after a round counts only the
// files of logs whose batch released an appender that comes back: a batch of record types
// Options.Background names queues its file without counting toward the wait, and the wait
// ends once enough of the others have queued. The wait's time bound is an hour, so only
// the count can end it.
func TestCommitterWaitsOnlyForReturningLogs(t *testing.T) {
	root := t.TempDir()
	c := NewCommitter()
	c.mu.Lock()
	c.busy = true // a round is in flight: every file queues
	c.meanRound = time.Hour
	c.mu.Unlock()
	const edges RecordType = 3
	lane, laneOpts := openShared(t, root, "lane", c, osFileOps())
	lane.opts.Background = func(typ RecordType) bool { return typ == edges } // before its first append
	fg := make([]*WAL, 2)
	fgOpts := make([]Options, len(fg))
	for i := range fg {
		fg[i], fgOpts[i] = openShared(t, root, fmt.Sprintf("fg-%d", i), c, osFileOps())
	}

	gathered := make(chan struct{})
	go func() {
		c.gather(2, time.Now())
		close(gathered)
	}()
	var wg sync.WaitGroup
	appendTo := func(w *WAL, typ RecordType, payload string) {
		wg.Go(func() {
			if _, err := w.Append(Entry{Type: typ, Payload: []byte(payload)}); err != nil {
				t.Error(err)
			}
		})
	}
	steps := []struct {
		w         *WAL
		typ       RecordType
		queued    int
		returning int
	}{
		{lane, edges, 1, 0},
		{fg[0], 1, 2, 1},
		{fg[1], 1, 3, 2},
	}
	for i, s := range steps {
		appendTo(s.w, s.typ, fmt.Sprintf("record-%d", i))
		waitQueued(c, s.queued)
		c.mu.Lock()
		returning := c.returning
		c.mu.Unlock()
		if returning != s.returning {
			t.Fatalf("after %d appends: %d returning files queued, want %d", i+1, returning, s.returning)
		}
		if i < len(steps)-1 {
			select {
			case <-gathered:
				t.Fatalf("the wait ended with %d returning files of 2", returning)
			default:
			}
		}
	}
	<-gathered
	go c.run() // flush the three files as one round and release their appenders
	wg.Wait()

	for i, w := range append([]*WAL{lane}, fg...) {
		o := append([]Options{laneOpts}, fgOpts...)[i]
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, got := reopen(t, o); len(got) != 1 || got[0].Payload != fmt.Sprintf("record-%d", i) {
			t.Errorf("%s recovered %+v, want only its own record", o.Space, got)
		}
	}
}
