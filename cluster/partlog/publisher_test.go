package partlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/engram-go/engram/cluster/natsnode"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/wal"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startJetStream runs a lone embedded NATS server with JetStream for one test.
func startJetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	return startNode(t).JetStream()
}

// startNode is startJetStream for a test that stops the server itself.
func startNode(t testing.TB) *natsnode.Node {
	t.Helper()
	n, err := natsnode.Start(context.Background(), natsnode.Options{
		Name: "partlog-test", Listen: "127.0.0.1:0", StoreDir: t.TempDir(), SyncAlways: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if _, err := EnsureStream(context.Background(), n.JetStream(), 0, 1); err != nil {
		t.Fatal(err)
	}
	return n
}

// leader is an engine.Replication that leads partition 0 through one publisher.
type leader struct{ pub *Publisher }

func (l leader) Log(space string) (wal.Replicator, error) { return l.pub.Replicator(space), nil }
func (l leader) Create(space string, s engine.SpaceSettings) error {
	return l.pub.Create(space, s)
}
func (l leader) Delete(space string) error { return l.pub.Delete(space) }

// follower refuses everything: its spaces stay closed, ready for a catch-up.
type follower struct{}

func (follower) Log(string) (wal.Replicator, error) { return nil, engine.ErrNotOwner }
func (follower) Create(string, engine.SpaceSettings) error {
	return engine.ErrNotOwner
}
func (follower) Delete(string) error { return engine.ErrNotOwner }

// switchable is a Replication a test turns from follower into leader.
type switchable struct {
	mu  sync.Mutex
	cur engine.Replication
}

func (s *switchable) get() engine.Replication {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}
func (s *switchable) set(r engine.Replication) { s.mu.Lock(); s.cur = r; s.mu.Unlock() }
func (s *switchable) Log(space string) (wal.Replicator, error) {
	return s.get().Log(space)
}
func (s *switchable) Create(space string, st engine.SpaceSettings) error {
	return s.get().Create(space, st)
}
func (s *switchable) Delete(space string) error { return s.get().Delete(space) }

func openEngine(t testing.TB, root string, r engine.Replication) *engine.Engine {
	t.Helper()
	e, err := engine.Open(engine.Config{DataRoot: root, AutoCreate: true, Replicated: true, Defaults: engine.SpaceSettings{Dimension: 16}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := e.SetReplication(r); err != nil {
		t.Fatal(err)
	}
	return e
}

func remember(e *engine.Engine, space, text string) (string, error) {
	s, err := e.SpaceForWrite(space)
	if err != nil {
		return "", err
	}
	res, err := s.Remember(context.Background(), engine.Memory{Content: text, Confidence: 0.6}, engine.RememberOptions{})
	return res.Memory.ID, err
}

// streamBatches reads every message of partition 0's stream.
func streamBatches(t *testing.T, js jetstream.JetStream) [][]Section {
	t.Helper()
	ctx := context.Background()
	last, err := LastSequence(ctx, js, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]Section
	for seq := uint64(1); seq <= last; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(NodeHeader) == "" {
			t.Fatalf("message %d has no %s header", seq, NodeHeader)
		}
		secs, err := DecodeBatch(m.Data)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		out = append(out, secs)
	}
	return out
}

func TestPublisherGathersAndCatchUpRebuilds(t *testing.T) {
	js := startJetStream(t)
	pub := StartPublisher(js, PublisherConfig{Partition: 0, NodeID: "node-a", Logger: quiet()})
	a := openEngine(t, t.TempDir(), leader{pub})

	spaces := []string{"alpha", "beta", "gamma"}
	const writers, perWriter = 16, 10
	var mu sync.Mutex
	stored := map[string][]string{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				space := spaces[(w+i)%len(spaces)]
				id, err := remember(a, space, fmt.Sprintf("%s note %d of writer %d", space, i, w))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				stored[space] = append(stored[space], id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if err := a.Close(); err != nil { // flushes the access and edge records through the stream
		t.Fatal(err)
	}
	pub.Stop()

	batches := streamBatches(t, js)
	messages, records := 0, 0
	created := map[string]bool{}
	for _, secs := range batches {
		n := 0
		for _, s := range secs {
			n += s.Records
			if s.Kind == KindCreate {
				created[s.Space] = true
			}
			if s.Kind == KindFrames && !created[s.Space] {
				t.Fatalf("frames of %q before its creation", s.Space)
			}
		}
		if n > DefaultMaxRecords {
			t.Fatalf("a message holds %d records, over %d", n, DefaultMaxRecords)
		}
		messages++
		records += n
	}
	if got, _ := pub.Stats(); got != uint64(messages) {
		t.Fatalf("publisher counted %d messages, the stream holds %d", got, messages)
	}
	if records < writers*perWriter {
		t.Fatalf("the stream holds %d records, fewer than the %d remembers", records, writers*perWriter)
	}
	t.Logf("%d records in %d messages (%.1f per message)", records, messages, float64(records)/float64(messages))

	// Node B copies the stream, twice (a replay is harmless), then leads.
	rootB := t.TempDir()
	sw := &switchable{cur: follower{}}
	b := openEngine(t, rootB, sw)
	for range 2 {
		if err := writeApplied(rootB, 0, 0); err != nil {
			t.Fatal(err)
		}
		st, err := CatchUp(context.Background(), js, b, rootB, 0, quiet())
		if err != nil {
			t.Fatal(err)
		}
		if st.To != uint64(messages) || st.Messages != messages {
			t.Fatalf("catch-up %+v, want %d messages", st, messages)
		}
	}
	if applied, _ := ReadApplied(rootB, 0); applied != uint64(messages) {
		t.Fatalf("applied sequence %d, want %d", applied, messages)
	}
	pubB := StartPublisher(js, PublisherConfig{Partition: 0, NodeID: "node-b", LastSeq: uint64(messages), Logger: quiet()})
	defer pubB.Stop()
	sw.set(leader{pubB})
	for i, space := range spaces {
		s, err := b.Space(space)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := b.Space(spaces[(i+1)%len(spaces)])
		for _, id := range stored[space] {
			if _, err := s.Get(id); err != nil {
				t.Errorf("%s: acknowledged %s missing after catch-up: %v", space, id, err)
			}
			if _, err := other.Get(id); !errors.Is(err, engine.ErrNotFound) {
				t.Errorf("%s of %s visible in %s: %v", id, space, other.ID(), err)
			}
		}
	}
	if _, err := remember(b, "alpha", "the new owner writes on"); err != nil {
		t.Fatal(err)
	}
}

func TestPublisherFenced(t *testing.T) {
	js := startJetStream(t)
	lost := make(chan error, 1)
	stale := StartPublisher(js, PublisherConfig{Partition: 0, NodeID: "node-a", Logger: quiet(),
		OnLost: func(err error) { lost <- err }})
	a := openEngine(t, t.TempDir(), leader{stale})
	if _, err := remember(a, "alpha", "acknowledged by the old owner"); err != nil {
		t.Fatal(err)
	}
	// Another node took the partition and wrote to it. The old owner's background records
	// (edges, reinforcements) may still land first: then the new one starts over from the
	// stream's end, as a node does after a catch-up.
	var fresh *Publisher
	for {
		last, err := LastSequence(context.Background(), js, 0)
		if err != nil {
			t.Fatal(err)
		}
		fresh = StartPublisher(js, PublisherConfig{Partition: 0, NodeID: "node-b", LastSeq: last, Logger: quiet()})
		err = fresh.Create("beta", engine.SpaceSettings{})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrFenced) {
			t.Fatal(err)
		}
		fresh.Stop()
	}
	defer fresh.Stop()
	before, _ := LastSequence(context.Background(), js, 0)

	_, err := remember(a, "alpha", "written by a stale owner")
	if !errors.Is(err, engine.ErrNotOwner) {
		t.Fatalf("stale owner's write: %v, want engine.ErrNotOwner", err)
	}
	if cause := <-lost; !errors.Is(cause, ErrFenced) {
		t.Fatalf("OnLost got %v, want ErrFenced", cause)
	}
	if after, _ := LastSequence(context.Background(), js, 0); after != before {
		t.Fatalf("the stale owner's write reached the stream (sequence %d → %d)", before, after)
	}
	if _, err := remember(a, "alpha", "and again"); !errors.Is(err, engine.ErrNotOwner) {
		t.Fatalf("write after the fence: %v, want engine.ErrNotOwner", err)
	}
	if err := fresh.Delete("beta"); err != nil {
		t.Fatalf("the new owner's writes go on: %v", err)
	}
	stale.Stop()
}

// TestPublisherOutcomeUnknown: a publish that gets no answer (here the server is gone)
// fails the write with ErrOutcomeUnknown, which wraps engine.ErrNotOwner: a partition on
// the move (503 with Retry-After), not a storage failure of the space (500).
func TestPublisherOutcomeUnknown(t *testing.T) {
	n := startNode(t)
	lost := make(chan error, 1)
	pub := StartPublisher(n.JetStream(), PublisherConfig{Partition: 0, NodeID: "node-a", Logger: quiet(),
		OnLost: func(err error) { lost <- err }})
	defer pub.Stop()
	a := openEngine(t, t.TempDir(), leader{pub})
	if _, err := remember(a, "alpha", "acknowledged before the server went away"); err != nil {
		t.Fatal(err)
	}
	n.Close()
	_, err := remember(a, "alpha", "its outcome is unknown")
	if !errors.Is(err, engine.ErrNotOwner) || errors.Is(err, engine.ErrStorage) {
		t.Fatalf("write without an answer: %v, want engine.ErrNotOwner and not engine.ErrStorage", err)
	}
	if cause := <-lost; !errors.Is(cause, ErrOutcomeUnknown) || !errors.Is(cause, engine.ErrNotOwner) {
		t.Fatalf("OnLost got %v, want ErrOutcomeUnknown", cause)
	}
	if _, err := remember(a, "beta", "another space of the partition"); !errors.Is(err, engine.ErrNotOwner) {
		t.Fatalf("write to another space after the loss: %v, want engine.ErrNotOwner", err)
	}
}

func TestPublisherSplitsLargeBatches(t *testing.T) {
	js := startJetStream(t)
	pub := StartPublisher(js, PublisherConfig{Partition: 0, NodeID: "node-a", MaxRecords: 4, Logger: quiet()})
	defer pub.Stop()
	a := openEngine(t, t.TempDir(), leader{pub})
	s, err := a.SpaceForWrite("alpha")
	if err != nil {
		t.Fatal(err)
	}
	ms := make([]engine.Memory, 10)
	for i := range ms {
		ms[i] = engine.Memory{Content: fmt.Sprintf("batch note %d", i), Confidence: 0.6}
	}
	if _, errs := s.RememberBatch(context.Background(), ms, engine.RememberOptions{}); errors.Join(errs...) != nil {
		t.Fatal(errors.Join(errs...))
	}
	var lsns []uint64
	for _, secs := range streamBatches(t, js) {
		n := 0
		for _, sec := range secs {
			n += sec.Records
			_ = wal.EachFrame(sec.Frames, func(f wal.Frame) error { lsns = append(lsns, f.LSN); return nil })
		}
		if n > 4 {
			t.Fatalf("a message holds %d records, over the limit of 4", n)
		}
	}
	if len(lsns) < len(ms) {
		t.Fatalf("%d records in the stream, want at least %d", len(lsns), len(ms))
	}
	for i := 1; i < len(lsns); i++ {
		if lsns[i] <= lsns[i-1] {
			t.Fatalf("LSNs out of order in the stream: %v", lsns)
		}
	}
}
