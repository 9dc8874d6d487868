package clustertest

import (
	"testing"
	"time"
)

func TestSubscriberCount(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	s := &subscriber{space: "a", seen: map[string]bool{"in-seen": true, "out-seen": true, "other": true},
		conns: []connection{{node: "n2", start: at(0), end: at(10), cut: true}, {node: "n3", start: at(12), end: at(20)}}}
	acks := []Ack{
		{Space: "a", ID: "in-seen", Start: at(1), End: at(2)},
		{Space: "a", ID: "in-cut-missed", Start: at(3), End: at(4)},
		{Space: "a", ID: "in-open-missed", Start: at(13), End: at(14)},
		{Space: "a", ID: "out-seen", Start: at(9), End: at(11)},    // across the reconnection
		{Space: "a", ID: "out-missed", Start: at(10), End: at(11)}, // while no stream was open
		{Space: "b", ID: "other", Start: at(1), End: at(2)},        // another space: not counted
	}
	got := s.count(acks)
	want := EventCount{Space: "a", Conns: 2, Cut: 1, Acked: 5, Covered: 3, Missed: 2, MissedCut: 1, Outside: 2, OutsideIn: 1}
	if got != want {
		t.Fatalf("count\n got %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct {
		name   string
		events []EventCount
		unseen int
	}{
		{"none", nil, 0},
		{"missed in a cut stream only", []EventCount{{Missed: 2, MissedCut: 2}}, 0},
		{"missed in an open stream", []EventCount{got, {Missed: 3}}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(&Result{Events: tc.events}, View{Name: "x"})
			if v.Unseen != tc.unseen || v.OK() != (tc.unseen == 0) {
				t.Fatalf("unseen %d, OK %v; want %d", v.Unseen, v.OK(), tc.unseen)
			}
		})
	}
}
