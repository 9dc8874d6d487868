package clustertest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster"
	"github.com/engram-go/engram/cluster/partlog"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
	"github.com/engram-go/engram/engine/wal/waltest"
)

// echoServer answers every line with itself.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(addr, line string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintln(c, line); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

func TestProxyCutAndHeal(t *testing.T) {
	p, err := NewProxy("127.0.0.1:0", echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got, err := roundTrip(p.Addr(), "before"); err != nil || got != "before\n" {
		t.Fatalf("through the proxy: %q, %v", got, err)
	}

	// A connection open across the cut is closed by it (the echo server never names a
	// NATS server, so its origin is "" after the sniffing second).
	held, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	fmt.Fprintln(held, "held")
	r := bufio.NewReader(held)
	if got, err := r.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("held connection: %q, %v", got, err)
	}
	p.Cut()
	held.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("a connection open at the cut still carries data")
	}
	if got, err := roundTrip(p.Addr(), "during"); err == nil {
		t.Fatalf("a connection made during the cut answered %q", got)
	}

	p.Heal()
	if got, err := roundTrip(p.Addr(), "after"); err != nil || got != "after\n" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "4242 (engram) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 9 0 100 0 0", 3800 * time.Millisecond, false},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 0 0", 30 * time.Millisecond, false},
		{"no name", "7 a R 1", 0, true},
		{"short", "7 (a) R 1 2 3", 0, true},
		{"not a number", "7 (a) R 1 7 7 0 -1 0 0 0 0 0 x 2 0", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestContentRoundTrip(t *testing.T) {
	space, key, ok := parseContent(content("load-007", "r-c3-12"))
	if !ok || space != "load-007" || key != "r-c3-12" {
		t.Fatalf("parseContent = %q %q %v", space, key, ok)
	}
	if _, _, ok := parseContent("a memory someone else wrote"); ok {
		t.Fatal("a foreign content parsed as the load's")
	}
}

// result is a load's record of the acks given as space/key/id triples.
func result(acks ...[3]string) *Result {
	r := &Result{Attempted: map[string]string{}, Unresolved: map[string]string{}}
	for _, a := range acks {
		r.Acks = append(r.Acks, Ack{Space: a[0], Key: a[1], ID: a[2]})
		r.Attempted[a[1]] = a[0]
	}
	return r
}

func mem(space, key, id string) Memory {
	return Memory{Space: space, ID: id, Content: content(space, key)}
}

func TestJudge(t *testing.T) {
	r := result([3]string{"a", "k1", "m1"}, [3]string{"a", "k2", "m2"}, [3]string{"b", "k3", "m3"})
	r.Attempted["k4"] = "b" // written, never acknowledged
	r.Unresolved["k4"] = "b"
	all := []Memory{mem("a", "k1", "m1"), mem("a", "k2", "m2"), mem("b", "k3", "m3")}
	tests := []struct {
		name string
		view View
		r    *Result
		want Verdict
	}{
		{"exact", View{Memories: all}, r, Verdict{Present: 3}},
		{"unresolved write present", View{Memories: append(all[:3:3], mem("b", "k4", "m4"))}, r, Verdict{Present: 4}},
		{"one lost", View{Memories: all[:2]}, r, Verdict{Present: 2, Lost: 1}},
		{"missing by id", View{Memories: all, Missing: []Ack{{Space: "a", Key: "k1", ID: "m1"}}}, r, Verdict{Present: 3, Lost: 1}},
		{"key stored twice", View{Memories: append(all[:3:3], mem("a", "k1", "m9"))}, r, Verdict{Present: 4, Duplicated: 1}},
		{"memory listed twice", View{Memories: append(all[:3:3], mem("a", "k2", "m2"))}, r, Verdict{Present: 4, Duplicated: 1}},
		{"in another space", View{Memories: []Memory{mem("a", "k1", "m1"), mem("a", "k2", "m2"), {Space: "a", ID: "m3", Content: content("b", "k3")}}}, r,
			Verdict{Present: 3, Lost: 1, Misplaced: 1}},
		{"found from another space", View{Memories: all, Foreign: []Ack{{Space: "a", ID: "m1"}}}, r, Verdict{Present: 3, Misplaced: 1}},
		{"never written", View{Memories: append(all[:3:3], mem("a", "k99", "m99"))}, r, Verdict{Present: 4, Phantom: 1}},
		{"foreign content ignored", View{Memories: append(all[:3:3], Memory{Space: "a", ID: "x", Content: "other"})}, r, Verdict{Present: 3}},
		{"stale read", View{Memories: all}, &Result{Acks: r.Acks, Attempted: r.Attempted, Stale: []StaleRead{{Space: "a", ID: "m1"}}}, Verdict{Present: 3, Stale: 1}},
		{"conflicting writers", View{Memories: all, Conflicts: 2}, r, Verdict{Present: 3, Conflicts: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(tt.r, tt.view)
			got.Examples, got.Acked, got.Unresolved, got.View = nil, 0, 0, ""
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("Judge = %v\nwant    %v", got, tt.want)
			}
			if got.OK() != (tt.want.Lost+tt.want.Duplicated+tt.want.Stale+tt.want.Misplaced+tt.want.Phantom+tt.want.Conflicts == 0) {
				t.Fatalf("OK() = %v for %v", got.OK(), got)
			}
		})
	}
}

func remember(space, key, id string) wal.Entry {
	return wal.Entry{Type: record.TypeRemember, Payload: record.AppendMemory(nil, &record.Memory{ID: id, Content: content(space, key)})}
}

// TestStreamFold folds partition messages as a node catching up applies them.
func TestStreamFold(t *testing.T) {
	const partitions = 3
	pa := cluster.PartitionOf("alpha", partitions)
	first := waltest.Frames(t, remember("alpha", "k1", "m1"), remember("alpha", "k2", "m2"),
		wal.Entry{Type: record.TypeForget, Payload: record.AppendForget(nil, "m2")})
	other := waltest.Frames(t, remember("alpha", "k9", "m9")) // LSN 1 again, another record
	msg := func(space string, frames []byte) []byte {
		return partlog.AppendBatch(nil, []partlog.Section{{Kind: partlog.KindFrames, Space: space, Frames: frames}})
	}

	f := newStreamFold()
	for i, m := range [][]byte{msg("alpha", first), msg("alpha", first), msg("alpha", other)} {
		if err := f.message(pa, partitions, uint64(i+1), m); err != nil {
			t.Fatal(err)
		}
	}
	beta := waltest.Frames(t, remember("beta", "k5", "m5"))
	if err := f.message((cluster.PartitionOf("beta", partitions)+1)%partitions, partitions, 1, msg("beta", beta)); err != nil {
		t.Fatal(err)
	}
	if err := f.message(pa, partitions, 5, []byte("not a batch")); err == nil {
		t.Fatal("a message that is not a batch folded")
	}
	if got := f.memories["alpha"]; len(got) != 1 || got["m1"].Content != content("alpha", "k1") {
		t.Fatalf("memories of alpha = %v, want only m1", got)
	}
	if got := f.memories["beta"]; len(got) != 1 {
		t.Fatalf("memories of beta = %v, want m5", got)
	}
	if f.view.Rerecorded != 3 || f.view.Conflicts != 1 || f.view.WrongPartition != 1 {
		t.Fatalf("rerecorded %d conflicts %d wrong partition %d, want 3 1 1", f.view.Rerecorded, f.view.Conflicts, f.view.WrongPartition)
	}
}
