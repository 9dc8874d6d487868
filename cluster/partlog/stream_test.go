package partlog

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster/natsnode/natsnodetest"
)

// TestLastSequenceNeedsTheLeader: once a stream has lost its leader, the replica left
// answers stream info with its own state. LastSequence does not take that for the stream's
// end (ErrNoLeader, the replica's sequence alongside), and the catch-up's read of the end
// asks again until ctx ends rather than stop at what the replica holds.
func TestLastSequenceNeedsTheLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("three servers")
	}
	servers := natsnodetest.Start(t, 3, quiet())
	js := servers[0].JetStream()
	ctx := context.Background()
	if _, err := EnsureStream(ctx, js, 0, 3); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := js.Publish(ctx, Subject(0), []byte("message")); err != nil {
			t.Fatal(err)
		}
	}
	if last, err := LastSequence(ctx, js, 0); err != nil || last != 3 {
		t.Fatalf("LastSequence with a leader: %d, %v; want 3", last, err)
	}

	servers[1].Close()
	servers[2].Close()
	// The replica left counts its stream leaderless only after a while (nats-server waits
	// for its lost-quorum interval); until then requests go unanswered.
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last, err := LastSequence(actx, js, 0)
		cancel()
		if errors.Is(err, ErrNoLeader) {
			if last != 3 {
				t.Errorf("the replica's sequence given with ErrNoLeader: %d, want 3", last)
			}
			break
		}
		if d, ok := t.Deadline(); ok && time.Until(d) < 10*time.Second {
			t.Fatalf("no leaderless answer yet; last: %d, %v", last, err)
		}
	}
	actx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if last, err := lastAtLeast(actx, js, 0, 0); !errors.Is(err, ErrNoLeader) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the end of a leaderless stream for a catch-up: %d, %v; want ErrNoLeader once ctx ended", last, err)
	}
}
