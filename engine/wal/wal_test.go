package wal

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncInterval, SyncNever} {
		t.Run(mode.String(), func(t *testing.T) {
			opts := testOptions(t.TempDir())
			opts.Sync = mode
			w, rs, recs := mustOpen(t, opts, 0)
			if rs.Records != 0 || len(recs) != 0 || rs.Segments != 1 {
				t.Fatalf("fresh log: %+v, %d records", rs, len(recs))
			}
			want := fill(t, w, 0, 200)
			if want[0].LSN != 1 {
				t.Fatalf("first LSN %d, want 1", want[0].LSN)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rs, got := reopen(t, opts)
			sameRecords(t, got, want)
			if rs.Records != 200 || rs.LastLSN != 200 || rs.Corrupted != 0 || rs.TornBytes != 0 {
				t.Fatalf("recovery stats %+v", rs)
			}
			// Appends continue after the recovered LSNs.
			w, _, _ = mustOpen(t, opts, 0)
			more := fill(t, w, 200, 10)
			if more[0].LSN != 201 {
				t.Fatalf("LSN after reopen %d, want 201", more[0].LSN)
			}
			w.Close()
			_, got = reopen(t, opts)
			sameRecords(t, got, append(want, more...))
		})
	}
}

func TestRecordTimeAndEmptyPayload(t *testing.T) {
	opts := testOptions(t.TempDir())
	w, _, _ := mustOpen(t, opts, 0)
	before := time.Now()
	if _, err := w.Append(Entry{Type: 255}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var got []Record
	w, _, err := Open(opts, 0, func(r Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(got) != 1 || got[0].Type != 255 || len(got[0].Payload) != 0 {
		t.Fatalf("got %+v", got)
	}
	if got[0].Time.Before(before.Add(-time.Second)) || got[0].Time.After(time.Now()) {
		t.Fatalf("record time %v not around %v", got[0].Time, before)
	}
}

func TestAppendBatch(t *testing.T) {
	opts := testOptions(t.TempDir())
	w, _, _ := mustOpen(t, opts, 0)
	var want []recovered
	for round := 0; round < 5; round++ {
		es := make([]Entry, 10+round)
		for i := range es {
			es[i] = Entry{Type: 7, Payload: payloadFor(len(want) + i)}
		}
		first, err := w.AppendBatch(es)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) > 0 && first != want[len(want)-1].LSN+1 {
			t.Fatalf("batch first LSN %d, want %d", first, want[len(want)-1].LSN+1)
		}
		for i, e := range es {
			want = append(want, recovered{first + uint64(i), e.Type, string(e.Payload)})
		}
	}
	syncsBefore := w.Stats().Syncs
	es := make([]Entry, 1000)
	for i := range es {
		es[i] = Entry{Type: 1, Payload: []byte("x")}
	}
	first, err := w.AppendBatch(es)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Stats().Syncs - syncsBefore; got != 1 {
		t.Fatalf("a batch of 1000 took %d fdatasyncs, want 1", got)
	}
	for i := range es {
		want = append(want, recovered{first + uint64(i), 1, "x"})
	}
	if lsn, err := w.AppendBatch(nil); lsn != 0 || err != nil {
		t.Fatalf("empty batch: %d, %v", lsn, err)
	}
	w.Close()
	_, got := reopen(t, opts)
	sameRecords(t, got, want)
}

func TestInvalidEntries(t *testing.T) {
	w, _, _ := mustOpen(t, testOptions(t.TempDir()), 0)
	defer w.Close()
	tests := []struct {
		name  string
		entry Entry
	}{
		{"type 0", Entry{Type: 0, Payload: []byte("x")}},
		{"oversized", Entry{Type: 1, Payload: make([]byte, MaxPayloadBytes+1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Append(tt.entry); !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("Append: %v, want ErrInvalidRecord", err)
			}
			if _, err := w.AppendBatch([]Entry{{Type: 1}, tt.entry}); !errors.Is(err, ErrInvalidRecord) {
				t.Fatalf("AppendBatch: %v, want ErrInvalidRecord", err)
			}
		})
	}
	if s := w.Stats(); s.LastLSN != 0 {
		t.Fatalf("rejected entries consumed LSNs: %d", s.LastLSN)
	}
}

func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no dir", Options{}},
		{"long space", Options{Dir: t.TempDir(), Space: strings.Repeat("s", MaxSpaceBytes+1)}},
		{"tiny segments", Options{Dir: t.TempDir(), SegmentBytes: headerSize}},
		{"negative segments", Options{Dir: t.TempDir(), SegmentBytes: -1}},
		{"bad mode", Options{Dir: t.TempDir(), Sync: SyncNever + 1}},
		{"negative interval", Options{Dir: t.TempDir(), SyncInterval: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Open(tt.opts, 0, nil); !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("Open: %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestParseSyncMode(t *testing.T) {
	for _, m := range []SyncMode{SyncAlways, SyncInterval, SyncNever} {
		got, err := ParseSyncMode(m.String())
		if err != nil || got != m {
			t.Fatalf("ParseSyncMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	for _, bad := range []string{"", "Always", "sometimes"} {
		if _, err := ParseSyncMode(bad); !errors.Is(err, ErrInvalidOptions) {
			t.Fatalf("ParseSyncMode(%q): %v", bad, err)
		}
	}
}

func TestConcurrentAppends(t *testing.T) {
	const writers, perWriter = 64, 50
	opts := testOptions(t.TempDir())
	opts.SegmentBytes = 16 << 10 // rotate while writers race
	w, _, _ := mustOpen(t, opts, 0)
	acked := make([][]recovered, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				p := fmt.Appendf(nil, "writer %d record %d", g, i)
				if i%10 == 9 {
					first, err := w.AppendBatch([]Entry{{Type: 2, Payload: p}, {Type: 3, Payload: p}})
					if err != nil {
						t.Error(err)
						return
					}
					acked[g] = append(acked[g], recovered{first, 2, string(p)}, recovered{first + 1, 3, string(p)})
					continue
				}
				lsn, err := w.Append(Entry{Type: 1, Payload: p})
				if err != nil {
					t.Error(err)
					return
				}
				acked[g] = append(acked[g], recovered{lsn, 1, string(p)})
			}
		})
	}
	wg.Wait()
	st := w.Stats()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	byLSN := map[uint64]recovered{}
	for _, rs := range acked {
		for _, r := range rs {
			if _, dup := byLSN[r.LSN]; dup {
				t.Fatalf("LSN %d acknowledged twice", r.LSN)
			}
			byLSN[r.LSN] = r
		}
	}
	if st.DurableLSN != st.LastLSN || st.LastLSN != uint64(len(byLSN)) || st.Lag != 0 {
		t.Fatalf("stats after all appends returned: %+v (acked %d)", st, len(byLSN))
	}
	if st.Syncs >= uint64(len(byLSN)) {
		t.Logf("no grouping observed: %d syncs for %d records", st.Syncs, len(byLSN))
	}
	rs, got := reopen(t, opts)
	if rs.Segments < 2 {
		t.Fatalf("expected rotation, got %d segments", rs.Segments)
	}
	if len(got) != len(byLSN) {
		t.Fatalf("recovered %d records, acknowledged %d", len(got), len(byLSN))
	}
	for i, r := range got {
		if i > 0 && r.LSN <= got[i-1].LSN {
			t.Fatalf("LSNs out of order: %d after %d", r.LSN, got[i-1].LSN)
		}
		if want := byLSN[r.LSN]; want != r {
			t.Fatalf("LSN %d: recovered %+v, acknowledged %+v", r.LSN, r, want)
		}
	}
}

func TestRotation(t *testing.T) {
	opts := testOptions(t.TempDir())
	opts.SegmentBytes = 2048
	w, _, _ := mustOpen(t, opts, 0)
	want := fill(t, w, 0, 300)
	// A record larger than a whole segment still goes in, alone in its segment.
	big := strings.Repeat("B", 5000)
	lsn, err := w.Append(Entry{Type: 9, Payload: []byte(big)})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, recovered{lsn, 9, big})
	want = append(want, fill(t, w, 300, 5)...)
	st := w.Stats()
	w.Close()

	infos, err := ListSegments(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) < 10 || st.Segments != len(infos) {
		t.Fatalf("%d segments listed, Stats says %d", len(infos), st.Segments)
	}
	var total int64
	next := uint64(1)
	for i, in := range infos {
		total += in.Size
		if in.Seq != uint64(i+1) || in.HeaderErr != nil || in.Corrupted != 0 || in.TornBytes != 0 {
			t.Fatalf("segment %d: %+v", i, in)
		}
		if in.Header.FirstLSN != next || in.FirstLSN != next || in.Header.Space != opts.Space {
			t.Fatalf("segment %d starts at %d (header %d), want %d", i, in.FirstLSN, in.Header.FirstLSN, next)
		}
		next = in.LastLSN + 1
		if in.Size > opts.SegmentBytes && in.Records != 1 {
			t.Fatalf("segment %d is %d bytes with %d records: only a lone record may exceed the limit", i, in.Size, in.Records)
		}
		if in.FirstTime.IsZero() || in.LastTime.Before(in.FirstTime) {
			t.Fatalf("segment %d time range %v..%v", i, in.FirstTime, in.LastTime)
		}
	}
	if total != st.Bytes {
		t.Fatalf("Stats.Bytes %d, files total %d", st.Bytes, total)
	}
	_, got := reopen(t, opts)
	sameRecords(t, got, want)
}

func TestTruncateBefore(t *testing.T) {
	opts := testOptions(t.TempDir())
	opts.SegmentBytes = 1024
	w, _, _ := mustOpen(t, opts, 0)
	defer w.Close()
	want := fill(t, w, 0, 200)
	infos, err := ListSegments(opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) < 5 {
		t.Fatalf("only %d segments", len(infos))
	}
	cut := infos[3].FirstLSN + 1 // inside segment 3: segments 0..2 go, 3 stays
	if err := w.TruncateBefore(cut); err != nil {
		t.Fatal(err)
	}
	left := segmentPaths(t, opts.Dir)
	if len(left) != len(infos)-3 || left[0] != infos[3].Path {
		t.Fatalf("after TruncateBefore(%d): %v", cut, left)
	}
	st := w.Stats()
	if st.Segments != len(left) {
		t.Fatalf("Stats.Segments %d, files %d", st.Segments, len(left))
	}
	// Truncating past everything keeps the active segment.
	if err := w.TruncateBefore(1 << 62); err != nil {
		t.Fatal(err)
	}
	left = segmentPaths(t, opts.Dir)
	if len(left) != 1 || left[0] != infos[len(infos)-1].Path || w.Stats().Segments != 1 {
		t.Fatalf("after truncating everything: %v", left)
	}
	more := fill(t, w, 200, 3)
	w.Close()

	// Recovery from the checkpoint replays only the tail and continues the LSNs.
	lastInfo := infos[len(infos)-1]
	rs, got := reopen(t, opts)
	var tail []recovered
	for _, r := range append(want, more...) {
		if r.LSN >= lastInfo.FirstLSN {
			tail = append(tail, r)
		}
	}
	sameRecords(t, got, tail)
	if rs.LastLSN != more[len(more)-1].LSN {
		t.Fatalf("LastLSN %d", rs.LastLSN)
	}
}

func TestAfterLSN(t *testing.T) {
	opts := testOptions(t.TempDir())
	opts.SegmentBytes = 1024
	w, _, _ := mustOpen(t, opts, 0)
	want := fill(t, w, 0, 100)
	w.Close()
	for _, after := range []uint64{0, 1, 37, 99, 100, 150} {
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			w, rs, got := mustOpen(t, opts, after)
			var tail []recovered
			for _, r := range want {
				if r.LSN > after {
					tail = append(tail, r)
				}
			}
			sameRecords(t, got, tail)
			if rs.Records != len(tail) {
				t.Fatalf("Records %d, want %d", rs.Records, len(tail))
			}
			lsn, err := w.Append(Entry{Type: 1, Payload: []byte("next")})
			if err != nil {
				t.Fatal(err)
			}
			if wantLSN := max(after, 100) + 1; lsn != wantLSN {
				t.Fatalf("next LSN %d, want %d", lsn, wantLSN)
			}
			// Undo the extra record so the subtests see the same log.
			w.Close()
			truncateLastRecord(t, opts.Dir)
		})
	}
}

// truncateLastRecord cuts the last intact frame off the last segment.
func truncateLastRecord(t *testing.T, dir string) {
	paths := segmentPaths(t, dir)
	last := paths[len(paths)-1]
	locs := frameLocs(t, last)
	if err := truncateSegment(last, locs[len(locs)-1].off); err != nil {
		t.Fatal(err)
	}
}

func TestReplayError(t *testing.T) {
	opts := testOptions(t.TempDir())
	w, _, _ := mustOpen(t, opts, 0)
	fill(t, w, 0, 10)
	w.Close()
	stop := errors.New("stop here")
	_, _, err := Open(opts, 0, func(r Record) error {
		if r.LSN == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Open: %v, want the replay error", err)
	}
}

func TestClosed(t *testing.T) {
	w, _, _ := mustOpen(t, testOptions(t.TempDir()), 0)
	fill(t, w, 0, 3)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		call func() error
	}{
		{"Append", func() error { _, err := w.Append(Entry{Type: 1}); return err }},
		{"AppendBatch", func() error { _, err := w.AppendBatch([]Entry{{Type: 1}}); return err }},
		{"Sync", w.Sync},
		{"TruncateBefore", func() error { return w.TruncateBefore(2) }},
		{"Close", w.Close},
	}
	for _, c := range checks {
		if err := c.call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", c.name, err)
		}
	}
	if st := w.Stats(); st.LastLSN != 3 || st.DurableLSN != 3 {
		t.Errorf("Stats after Close: %+v", st)
	}
}

func TestSyncModesDurability(t *testing.T) {
	tests := []struct {
		mode          SyncMode
		durableOnAck  bool
		durableOnSync bool
	}{
		{SyncAlways, true, true},
		{SyncInterval, false, true},
		{SyncNever, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			opts := testOptions(t.TempDir())
			opts.Sync = tt.mode
			opts.SyncInterval = time.Hour // the timer never fires within the test
			var onSync []int
			var mu sync.Mutex
			opts.OnSync = func(d time.Duration, n int) { mu.Lock(); onSync = append(onSync, n); mu.Unlock() }
			w, _, _ := mustOpen(t, opts, 0)
			defer w.Close()
			fill(t, w, 0, 5)
			st := w.Stats()
			if got := st.DurableLSN == 5; got != tt.durableOnAck {
				t.Fatalf("after ack: DurableLSN %d (LastLSN %d)", st.DurableLSN, st.LastLSN)
			}
			if (st.Lag == 0) != tt.durableOnAck {
				t.Fatalf("after ack: Lag %v", st.Lag)
			}
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			st = w.Stats()
			if st.DurableLSN != 5 || st.Lag != 0 || st.SyncedRecords != 5 || st.Syncs == 0 {
				t.Fatalf("after Sync: %+v", st)
			}
			mu.Lock()
			total := 0
			for _, n := range onSync {
				total += n
			}
			calls := len(onSync)
			mu.Unlock()
			if total != 5 || uint64(calls) != st.Syncs {
				t.Fatalf("OnSync saw %d records in %d calls; Stats %+v", total, calls, st)
			}
		})
	}
}

func TestIntervalTimerSyncs(t *testing.T) {
	opts := testOptions(t.TempDir())
	opts.Sync = SyncInterval
	opts.SyncInterval = time.Millisecond
	w, _, _ := mustOpen(t, opts, 0)
	defer w.Close()
	fill(t, w, 0, 3)
	for w.Stats().DurableLSN != 3 { // the test's own timeout bounds this
		time.Sleep(time.Millisecond)
	}
	if st := w.Stats(); st.Lag != 0 || st.Syncs == 0 {
		t.Fatalf("after the interval sync: %+v", st)
	}
}

func TestLagTracksOldestPendingRecord(t *testing.T) {
	opts := testOptions(t.TempDir())
	opts.Sync = SyncNever
	w, _, _ := mustOpen(t, opts, 0)
	defer w.Close()
	if w.Stats().Lag != 0 {
		t.Fatal("lag on an idle log")
	}
	fill(t, w, 0, 1)
	time.Sleep(5 * time.Millisecond)
	fill(t, w, 1, 1)
	if lag := w.Stats().Lag; lag < 5*time.Millisecond {
		t.Fatalf("lag %v, want at least the age of the first record", lag)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if lag := w.Stats().Lag; lag != 0 {
		t.Fatalf("lag %v after Sync", lag)
	}
}
