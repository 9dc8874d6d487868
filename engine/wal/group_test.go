package wal

import (
	"sync"
	"testing"
	"time"
)

func TestGroupSizer(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name       string
		released   []int
		synced     []time.Duration
		wantTarget int
		wantWait   time.Duration
	}{
		{name: "new log waits for nothing", wantTarget: 0},
		{name: "lone writer", released: []int{1, 1, 1, 1}, synced: []time.Duration{ms, ms}, wantTarget: 0},
		{name: "three writers are too few", released: []int{3, 3}, synced: []time.Duration{ms}, wantTarget: 0},
		{name: "four writers make groups of two", released: []int{4}, synced: []time.Duration{8 * ms}, wantTarget: 2, wantWait: ms},
		{name: "a peak is kept", released: []int{64, 2, 1}, synced: []time.Duration{8 * ms}, wantTarget: 31, wantWait: ms},
		{name: "no sync measured yet", released: []int{64}, wantTarget: 0},
		{name: "the mean follows the syncs", released: []int{10}, synced: []time.Duration{8 * ms, 8 * ms}, wantTarget: 5, wantWait: ms + 875*time.Microsecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			var g groupSizer
			for _, n := range c.released {
				g.released(n)
			}
			for _, d := range c.synced {
				g.synced(d)
			}
			if got := g.target(); got != c.wantTarget {
				t.Errorf("target() = %d, want %d", got, c.wantTarget)
			}
			if c.wantTarget > 0 && g.maxWait() != c.wantWait {
				t.Errorf("maxWait() = %v, want %v", g.maxWait(), c.wantWait)
			}
		})
	}
}

func TestGroupSizerPeakDecays(t *testing.T) {
	var g groupSizer
	g.synced(time.Millisecond)
	g.released(64)
	for range 300 {
		g.released(1)
	}
	if got := g.target(); got != 0 {
		t.Fatalf("after 300 releases of one record the target is %d, want 0 (a lone writer must stop waiting)", got)
	}
}

// sizedLog opens a SyncAlways log whose flusher believes writers writers were waiting at its
// last releases and that an fdatasync takes syncMean. Nothing has touched the flusher's state
// yet, and the first append's wake-up orders these writes before the flusher reads them.
func sizedLog(t *testing.T, writers float64, syncMean time.Duration) (*WAL, Options) {
	t.Helper()
	opts := testOptions(t.TempDir())
	w, _, _ := mustOpen(t, opts, 0)
	w.sizer = groupSizer{writers: writers, syncMean: syncMean}
	return w, opts
}

// A batch that reaches the target is written at once: with an hour's deadline the test would
// otherwise time out.
func TestGatherEndsAtTarget(t *testing.T) {
	w, opts := sizedLog(t, 8, time.Hour) // target 4
	before := w.Stats()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			_, err := w.Append(Entry{Type: 1, Payload: payloadFor(i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	after := w.Stats()
	if syncs, recs := after.Syncs-before.Syncs, after.SyncedRecords-before.SyncedRecords; syncs != 1 || recs != 4 {
		t.Errorf("%d records in %d syncs, want the 4 in one", recs, syncs)
	}
	if after.DurableLSN != 4 {
		t.Errorf("DurableLSN = %d, want 4", after.DurableLSN)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, recs := reopen(t, opts); len(recs) != 4 {
		t.Fatalf("recovered %d records, want 4", len(recs))
	}
}

// A batch short of the target is written when its deadline passes, though nobody wakes the
// flusher again.
func TestGatherEndsAtDeadline(t *testing.T) {
	w, opts := sizedLog(t, 64, 20*time.Millisecond) // target 32, one appender
	lsn, err := w.Append(Entry{Type: 1, Payload: payloadFor(0)})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if got := w.Stats().DurableLSN; got < lsn {
		t.Fatalf("DurableLSN = %d after Append returned LSN %d", got, lsn)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, recs := reopen(t, opts); len(recs) != 1 {
		t.Fatalf("recovered %d records, want 1", len(recs))
	}
}

// Close while the flusher waits for a batch to fill writes and syncs the batch.
func TestCloseDuringGather(t *testing.T) {
	w, opts := sizedLog(t, 64, time.Hour)
	done := make(chan error, 1)
	go func() {
		_, err := w.Append(Entry{Type: 1, Payload: payloadFor(0)})
		done <- err
	}()
	for {
		w.mu.Lock()
		gathering := w.gathering
		w.mu.Unlock()
		if gathering > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Append during Close: %v", err)
	}
	if _, recs := reopen(t, opts); len(recs) != 1 {
		t.Fatalf("recovered %d records, want 1", len(recs))
	}
}

// One writer appending in turn never makes the flusher wait, whether it appends records one by
// one or in batches: a writer is a call, not a record.
func TestLoneWriterNeverGathers(t *testing.T) {
	opts := testOptions(t.TempDir())
	w, _, _ := mustOpen(t, opts, 0)
	fill(t, w, 0, 100)
	batch := make([]Entry, 100)
	for i := range batch {
		batch[i] = Entry{Type: 1, Payload: payloadFor(i)}
	}
	for range 20 {
		if _, err := w.AppendBatch(batch); err != nil {
			t.Fatalf("AppendBatch: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The flusher has exited; Close ordered its writes before this read.
	if got := w.sizer.target(); got != 0 {
		t.Fatalf("after serial appends the flusher would wait for %d writers", got)
	}
	if w.sizer.writers > 1 {
		t.Fatalf("serial appends left a peak of %.1f waiting writers", w.sizer.writers)
	}
}
