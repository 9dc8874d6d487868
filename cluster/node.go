package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/engram-go/engram/cluster/membership"
	"github.com/engram-go/engram/cluster/natsnode"
	"github.com/engram-go/engram/cluster/partlog"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/wal"
)

// ErrNoOwner: the space's partition has no owner other nodes can reach yet (it is moving,
// or its owner is catching up). Frontends answer 503 with Retry-After.
var ErrNoOwner = errors.New("cluster: the memory space's partition has no owner at the moment")

// Owner is the node serving a space, as other nodes reach it.
type Owner struct {
	NodeID string
	HTTP   string // host:port of its HTTP API
	GRPC   string // host:port of its gRPC API
}

// Node is this process's part in a cluster: its NATS connection (an embedded server or an
// external cluster), its membership (heartbeat, partition leases) and, for every partition
// it leads, the publisher its spaces' logs write through. It plugs into the engine as its
// engine.Replication: a space's state opens only while this node leads its partition.
//
// Invariants: a partition is led (its publisher exists) only between Lead and Resign of its
// lease and only once everything its stream held when the lease was taken is in the local
// logs; Resign stops the publisher (nothing more is written) and closes the partition's
// spaces before it returns.
type Node struct {
	cfg      Config
	eng      *engine.Engine
	log      *slog.Logger
	dataRoot string

	nats   *natsnode.Node
	js     jetstream.JetStream
	member *membership.Member
	spaces jetstream.KeyValue

	life   context.Context // ends on Close
	end    context.CancelFunc
	joined chan struct{} // closed once member is set: hooks may run before Start returns

	parts []*partition

	// beforeLead, when set (tests), runs before the catch-up that starts leading a
	// partition; an error fails that attempt as a failed catch-up would.
	beforeLead func(p int) error
}

// partition is this node's state of one partition.
type partition struct {
	id int
	mu sync.Mutex // serialises Prepare, Lead, Resign and recovery
	// pub is the publisher while this node leads the partition; guarded by mu for
	// writes, read through pubMu by the write path.
	pubMu   sync.RWMutex
	pub     *partlog.Publisher
	applied uint64 // last stream sequence in the local logs; guarded by pubMu
	lastErr error  // the last failure to catch up or lead; guarded by pubMu
	// retrying is set while a goroutine tries to lead the partition again after a failed
	// attempt (relead); guarded by mu.
	retrying bool
}

func (p *partition) publisher() *partlog.Publisher {
	p.pubMu.RLock()
	defer p.pubMu.RUnlock()
	return p.pub
}

// leading returns the publisher while this node leads the partition and it takes writes:
// not once it stopped by itself (lost) before the node has handled that.
func (p *partition) leading() *partlog.Publisher {
	if pub := p.publisher(); pub != nil && pub.Err() == nil {
		return pub
	}
	return nil
}

func (p *partition) setPublisher(pub *partlog.Publisher, applied uint64, err error) {
	p.pubMu.Lock()
	p.pub, p.lastErr = pub, err
	if applied > 0 {
		p.applied = applied
	}
	p.pubMu.Unlock()
}

// Start joins the cluster: it starts (or connects to) NATS, makes e a cluster engine (its
// spaces open only where their partition is led) and starts the membership, which takes
// this node's share of the partitions in the background. cfg must be enabled and valid; e
// is the engine of the node's data root, opened with engine.Config.Replicated.
func Start(ctx context.Context, cfg Config, e *engine.Engine, logger *slog.Logger) (*Node, error) {
	return start(ctx, cfg, e, logger, nil)
}

// start is Start with the test seam beforeLead (nil in production).
func start(ctx context.Context, cfg Config, e *engine.Engine, logger *slog.Logger, beforeLead func(p int) error) (*Node, error) {
	cfg.SetDefaults()
	if !cfg.Enabled {
		return nil, fmt.Errorf("%w: cluster.enabled is false", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !e.Config().Replicated {
		return nil, fmt.Errorf("%w: the engine must be opened with engine.Config.Replicated when the cluster is enabled", ErrInvalidConfig)
	}
	if logger == nil {
		logger = slog.Default()
	}
	n := &Node{cfg: cfg, eng: e, log: logger.With("node", cfg.NodeID), dataRoot: e.Config().DataRoot, beforeLead: beforeLead}
	n.life, n.end = context.WithCancel(context.Background())
	n.joined = make(chan struct{})
	for p := range cfg.Partitions {
		n.parts = append(n.parts, &partition{id: p})
	}
	if cfg.NATS.StoreDir == "" && cfg.NATS.URL == "" {
		cfg.NATS.StoreDir = filepath.Join(n.dataRoot, "nats")
	}
	nn, err := natsnode.Start(ctx, cfg.NATSOptions(n.log))
	if err != nil {
		return nil, err
	}
	n.nats, n.js = nn, nn.JetStream()
	// The engine goes through the node before membership can call Prepare: a catch-up
	// needs the partition's spaces closed. A failed start leaves it a single node again.
	if err := e.SetReplication(replication{n}); err != nil {
		return nil, errors.Join(err, e.SetReplication(nil), nn.Close())
	}
	n.member, err = membership.Start(ctx, n.js, cfg.MemberConfig(), hooks{n}, n.log)
	close(n.joined)
	if err != nil {
		n.end()
		return nil, errors.Join(err, e.SetReplication(nil), nn.Close())
	}
	if n.spaces, err = n.js.KeyValue(ctx, membership.BucketSpaces); err != nil {
		err = fmt.Errorf("cluster: bucket %s: %w", membership.BucketSpaces, err)
		return nil, errors.Join(err, n.Close(), e.SetReplication(nil))
	}
	return n, nil
}

// ID is this node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Route tells where space is served: local when this node leads its partition (and so has
// applied everything its stream holds); otherwise the owner to forward to, or ErrNoOwner
// while the partition has none.
func (n *Node) Route(space string) (owner Owner, local bool, err error) {
	p := n.parts[PartitionOf(space, n.cfg.Partitions)]
	// The lease's deadline is checked here, not only by its worker: a process that was
	// stopped (SIGSTOP, a long pause) or cut off runs requests before the worker wakes to
	// resign, and reads answered from its local state then miss what a new owner wrote.
	if p.leading() != nil && n.member.Holds(p.id) {
		return Owner{NodeID: n.cfg.NodeID, HTTP: n.cfg.AdvertiseHTTP, GRPC: n.cfg.AdvertiseGRPC}, true, nil
	}
	o, ok := n.member.Owner(p.id)
	if !ok || o.NodeID == n.cfg.NodeID {
		return Owner{}, false, fmt.Errorf("%w (partition %d)", ErrNoOwner, p.id)
	}
	return Owner{NodeID: o.NodeID, HTTP: o.HTTP, GRPC: o.GRPC}, false, nil
}

// Drain moves every partition off node (this one or another live one): placement gives
// them to the other live nodes, each of which catches up before it takes its lease.
func (n *Node) Drain(ctx context.Context, node string) error { return n.member.Drain(ctx, node) }

// Close leaves the cluster gracefully: every partition this node leads is resigned and its
// lease released at once (other nodes take over without waiting for the lease TTL), then
// NATS stops. The engine stays open; its spaces refuse writes (engine.ErrNotOwner).
func (n *Node) Close() error {
	n.end()
	err := n.member.Close()
	for _, p := range n.parts {
		n.resign(p) // a partition lost and being recovered was not resigned by the member
	}
	return errors.Join(err, n.nats.Close())
}

// hooks are the membership's calls into the node.
type hooks struct{ n *Node }

// Prepare catches partition p up: its stream is created if missing, and every message
// after the applied sequence is copied into the local spaces.
func (h hooks) Prepare(ctx context.Context, p int) error {
	part := h.n.parts[p]
	part.mu.Lock()
	defer part.mu.Unlock()
	return h.n.catchUp(ctx, part)
}

// Lead starts writing p: a last catch-up (the previous owner resigned before this lease
// was created, so the stream no longer moves), then the publisher, fenced by the stream's
// last sequence. If that fails, it is tried again in the background (relead): Lead must
// return for the lease to be renewed.
func (h hooks) Lead(p int) {
	part := h.n.parts[p]
	part.mu.Lock()
	defer part.mu.Unlock()
	if !h.n.lead(part, func() bool { return true }) {
		h.n.startRelead(part)
	}
}

// Resign stops writing p and closes its spaces before it returns.
func (h hooks) Resign(p int) { h.n.resign(h.n.parts[p]) }

// catchUp copies p's stream into the local spaces. Caller holds part.mu.
func (n *Node) catchUp(ctx context.Context, part *partition) error {
	if _, err := partlog.EnsureStream(ctx, n.js, part.id, n.cfg.Replicas); err != nil {
		part.setPublisher(nil, 0, err)
		return err
	}
	start := time.Now()
	st, err := partlog.CatchUp(ctx, n.js, n.eng, n.dataRoot, part.id, n.log)
	part.setPublisher(nil, st.To, err)
	if err != nil {
		return fmt.Errorf("cluster: catch up partition %d: %w", part.id, err)
	}
	if st.Messages > 0 {
		n.log.Info("partition caught up", "partition", part.id, "from", st.From, "to", st.To, "messages", st.Messages, "frames", st.Frames, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// lead catches up once more and starts the publisher, if holds still answers true after
// the catch-up. It reports whether the catch-up succeeded: false means the partition is
// held but not served (writes get ErrNotOwner, other nodes see no owner). Caller holds
// part.mu.
func (n *Node) lead(part *partition, holds func() bool) bool {
	ctx, cancel := context.WithTimeout(n.life, n.cfg.LeaseTTL)
	defer cancel()
	err := error(nil)
	if n.beforeLead != nil {
		err = n.beforeLead(part.id)
	}
	if err == nil {
		err = n.catchUp(ctx, part)
	}
	if err != nil {
		part.setPublisher(nil, 0, err)
		n.log.Error("cannot lead partition", "partition", part.id, "err", err)
		return false
	}
	if !holds() {
		return true
	}
	part.pubMu.RLock()
	applied := part.applied
	part.pubMu.RUnlock()
	var pub *partlog.Publisher
	pub = partlog.StartPublisher(n.js, partlog.PublisherConfig{
		Partition: part.id, NodeID: n.cfg.NodeID, LastSeq: applied, Logger: n.log,
		MaxBytes: n.maxMessage(),
		OnLost:   func(err error) { n.lost(part, pub, err) },
	})
	part.setPublisher(pub, applied, nil)
	n.log.Info("leading partition", "partition", part.id, "last_sequence", applied)
	return true
}

// refuseFor is how long, in lease TTLs, a node that could not lead a partition it held
// hands it back for: other nodes are placed first for it meanwhile.
const refuseFor = 6

// startRelead starts relead unless it runs already. Caller holds part.mu.
func (n *Node) startRelead(part *partition) {
	if !part.retrying {
		part.retrying = true
		go n.relead(part)
	}
}

// relead tries to lead part again while this node holds its lease, waiting twice as long
// after each failure (from 100 ms up to the lease TTL). Once the attempts have failed for
// longer than a lease TTL — what a dead owner would cost — the partition is handed back
// (membership.Member.Refuse): its lease is released and other nodes are placed first for
// it, so that a node whose catch-up keeps failing does not keep a partition unserved.
func (n *Node) relead(part *partition) {
	defer func() {
		part.mu.Lock()
		part.retrying = false
		part.mu.Unlock()
	}()
	select {
	case <-n.joined:
	case <-n.life.Done():
		return
	}
	holds := func() bool { return n.holds(part) }
	first := time.Now()
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, n.cfg.LeaseTTL) {
		select {
		case <-n.life.Done():
			return
		case <-time.After(wait):
		}
		// Checked with the attempt, under part.mu: a lease lost meanwhile, or led again
		// by a newer Lead, is not this loop's to hand back.
		part.mu.Lock()
		done := !holds() || part.publisher() != nil || n.lead(part, holds)
		part.mu.Unlock()
		if done {
			return
		}
		if time.Since(first) >= n.cfg.LeaseTTL {
			n.log.Error("handing a partition back: leading it kept failing", "partition", part.id, "for", time.Since(first).Round(time.Millisecond))
			if err := n.member.Refuse(part.id, refuseFor*n.cfg.LeaseTTL); err != nil && n.life.Err() == nil {
				n.log.Warn("handing a partition back", "partition", part.id, "err", err)
			}
			return
		}
	}
}

// maxMessage is the largest message the node publishes: the server's max_payload, less
// room for the headers.
func (n *Node) maxMessage() int {
	if mp := n.nats.Conn().MaxPayload(); mp > 8<<10 {
		return int(mp) - 4<<10
	}
	return partlog.DefaultMaxBytes
}

// resign stops p's publisher and closes p's spaces.
func (n *Node) resign(part *partition) {
	part.mu.Lock()
	defer part.mu.Unlock()
	n.stopLeading(part, nil)
}

// stopLeading stops the publisher, notes what the local logs hold and closes the spaces.
// Caller holds part.mu.
func (n *Node) stopLeading(part *partition, cause error) {
	pub := part.publisher()
	if pub == nil {
		return
	}
	pub.Stop()
	part.setPublisher(nil, pub.LastSeq(), cause)
	if err := n.eng.CloseSpaces(func(space string) bool { return PartitionOf(space, n.cfg.Partitions) == part.id }); err != nil {
		n.log.Warn("closing a resigned partition's spaces", "partition", part.id, "err", err)
	}
	n.log.Info("resigned partition", "partition", part.id)
}

// lost handles a publisher that stopped by itself: fenced (a message of another writer is
// in the stream after the last one this node knows), a publish of unknown outcome, or a
// local log behind the stream. In every case the stream decides what was written: the
// partition's spaces close, and while this node still holds the lease it catches the
// partition up and leads it again (relead). Every message is published expecting the
// sequence the publisher caught up to, so none is ever built on a state that misses an
// earlier one.
func (n *Node) lost(part *partition, pub *partlog.Publisher, cause error) {
	part.mu.Lock()
	defer part.mu.Unlock()
	if part.publisher() != pub {
		return // resigned meanwhile
	}
	n.stopLeading(part, cause)
	select {
	case <-n.joined:
		holds := func() bool { return n.holds(part) }
		if !holds() || n.lead(part, holds) {
			return
		}
	default: // Start has not returned: relead waits for it
	}
	n.startRelead(part)
}

// holds reports whether this node holds part's lease and is not closing. Only once
// n.joined is closed.
func (n *Node) holds(part *partition) bool {
	return n.life.Err() == nil && n.member != nil && n.member.Holds(part.id)
}

// replication is the engine's view of the node (engine.Replication).
type replication struct{ n *Node }

func (r replication) publisher(space string) (*partlog.Publisher, error) {
	p := r.n.parts[PartitionOf(space, r.n.cfg.Partitions)]
	if pub := p.leading(); pub != nil {
		return pub, nil
	}
	return nil, fmt.Errorf("%w: partition %d of %q is not led by node %s", engine.ErrNotOwner, p.id, space, r.n.cfg.NodeID)
}

func (r replication) Log(space string) (wal.Replicator, error) {
	pub, err := r.publisher(space)
	if err != nil {
		return nil, err
	}
	return pub.Replicator(space), nil
}

// Create records the space in its partition's stream (ordered with its records), then in
// the engram_spaces bucket; a key present already (a create retried after a failure) is
// not an error.
func (r replication) Create(space string, settings engine.SpaceSettings) error {
	pub, err := r.publisher(space)
	if err != nil {
		return err
	}
	if err := pub.Create(space, settings); err != nil {
		return err
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return fmt.Errorf("cluster: settings of %q: %w", space, err)
	}
	ctx, cancel := context.WithTimeout(r.n.life, r.n.cfg.LeaseTTL)
	defer cancel()
	if _, err := r.n.spaces.Create(ctx, space, b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		// The stream has the creation, which is what nodes apply; the bucket is the
		// listing, and a later create of the space writes it.
		r.n.log.Warn("space created but not listed in the spaces bucket", "space", space, "err", err)
	}
	return nil
}

// Delete records the deletion in the stream, then removes the bucket's key.
func (r replication) Delete(space string) error {
	pub, err := r.publisher(space)
	if err != nil {
		return err
	}
	if err := pub.Delete(space); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.n.life, r.n.cfg.LeaseTTL)
	defer cancel()
	if err := r.n.spaces.Delete(ctx, space); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		r.n.log.Warn("space deleted but still listed in the spaces bucket", "space", space, "err", err)
	}
	return nil
}
