// Package membership decides which node owns each partition of a cluster, from four
// JetStream KV buckets (docs/cluster.md, "Ownership, leases and failover"):
//
//   - engram_cluster holds the partition count, written once when the cluster is created;
//     a node configured with another count refuses to start.
//   - engram_spaces holds space settings; this package only creates it.
//   - engram_nodes holds one key per live node, rewritten every third of the lease TTL and
//     expiring after the TTL: a node whose key is current is alive. Its value is JSON
//     {node_id, http, grpc, draining, started, ready, refused}. A key that aged or expired
//     counts as a dead node only once this node's own heartbeats have been landing for a
//     heartbeat interval: while the bucket elects a leader nobody can rewrite a key.
//   - engram_leases holds key p<N> while a node owns partition N: Create acquires it, Update
//     by revision renews it, and it expires when not renewed within the lease TTL.
//
// Placement is rendezvous hashing of (partition, node id) over the live nodes that are not
// draining, so a node joining or leaving moves only the partitions it gains or loses. A
// partition placed on a node while another live node holds it moves in three steps: the
// new node catches up (Hooks.Prepare) and lists the partition as ready in its record, the
// holder resigns and deletes its lease, the new node catches up with the rest and creates
// the lease. A node that stops (Close) releases at once; one that dies loses its leases to
// expiry, a TTL after its last renewal. A node that holds a lease but cannot serve the
// partition hands it back (Refuse): it releases the lease and lists the partition as
// refused in its record for a while, and placement passes over it for that partition.
//
// Invariants:
//   - At most one node holds a partition's lease at any time: the bucket's compare-and-set
//     (Create, Update by revision) decides, never a node's own view.
//   - A holder calls Hooks.Resign before its lease can have expired: it resigns at the send
//     time of its last successful renewal plus the TTL minus a safety margin, measured on
//     the monotonic clock, and before it deletes a lease it releases. So Resign(p) on one
//     node precedes Lead(p) on the next, as long as the nodes' clocks run at the same rate
//     and their skew stays below the margin.
//   - Hooks.Lead(p) is called only after Hooks.Prepare(ctx, p) returned nil and the lease
//     was then created; Lead and Resign of one partition alternate and never overlap.
//     Hooks of different partitions may run concurrently.
package membership

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket names.
const (
	BucketCluster = "engram_cluster"
	BucketSpaces  = "engram_spaces"
	BucketNodes   = "engram_nodes"
	BucketLeases  = "engram_leases"
)

var (
	// ErrPartitionsMismatch refuses a node whose partition count is not the cluster's.
	ErrPartitionsMismatch = errors.New("membership: cluster.partitions differs from the cluster's")
	// ErrLeaseTTLMismatch refuses a node whose lease TTL is not the one the cluster's
	// buckets expire keys with: its safety margin would be computed from the wrong TTL.
	ErrLeaseTTLMismatch = errors.New("membership: cluster.lease_ttl differs from the cluster's")
	// ErrUnknownNode is returned by Drain for a node that is not alive.
	ErrUnknownNode = errors.New("membership: no live node with this id")
	// ErrClosed is returned by calls on a closed Member.
	ErrClosed = errors.New("membership: closed")
)

// Config describes this node and the cluster's fixed settings.
type Config struct {
	NodeID     string // unique in the cluster
	HTTP       string // host:port other nodes forward HTTP requests to
	GRPC       string // host:port other nodes forward gRPC calls to
	Partitions int    // partition count, fixed when the cluster is created
	Replicas   int    // replicas of the buckets: 1, 3 or 5
	LeaseTTL   time.Duration
}

// Hooks are how the node that embeds a Member learns what it owns. They must not call
// Close, which waits for them.
type Hooks interface {
	// Prepare catches partition p up before its lease is taken: the Member takes the
	// lease only once Prepare returned nil, and not at all if ctx ends first (placement
	// moved the partition elsewhere, or the Member is closing). It may take long; it runs
	// on its own goroutine while the Member keeps renewing its other leases. When another
	// node still holds p, Prepare is called twice: once while that node still writes (the
	// bulk of the catch-up; the holder releases p only after it returned), and again once
	// the lease is free, for what was written in between. So it must resume from where
	// the local copy stands, not start over.
	Prepare(ctx context.Context, p int) error
	// Lead tells the node it holds p's lease and may write p's stream. Before its first
	// write it must know the stream's last sequence (what Prepare caught up to, checked
	// again against the stream): its publishes are fenced by that sequence.
	Lead(p int)
	// Resign tells the node to stop writing p and serving it as owner, now: the lease is
	// about to be released, or a renewal failed and it may expire. It must return only
	// once nothing more will be written for p, and must not block on the Member.
	Resign(p int)
}

// Owner is a partition's owner as other nodes reach it.
type Owner struct {
	NodeID string
	HTTP   string
	GRPC   string
}

// NodeStatus is one node as the buckets show it.
type NodeStatus struct {
	NodeID     string
	HTTP       string
	GRPC       string
	Started    time.Time
	Alive      bool  // its heartbeat key is present
	Draining   bool  // placement gives it no partition
	Partitions []int // partitions whose lease it holds, ascending
}

// PartitionStatus is one partition's lease.
type PartitionStatus struct {
	Partition int
	Owner     string    // node id holding the lease; empty when free
	Revision  uint64    // the lease key's revision in engram_leases
	Since     time.Time // when the holder acquired it
}

// Counters count this node's lease changes since Start.
type Counters struct {
	Acquisitions uint64 // leases created
	Losses       uint64 // leases given up because a renewal failed or could not be made in time
	Releases     uint64 // leases given up on purpose: placement moved the partition, drain, Close
}

// Member is this node's part in the cluster's membership: it heartbeats, keeps the leases
// placement gives it and calls the Hooks as ownership changes.
type Member struct {
	cfg    Config
	hooks  Hooks
	log    *slog.Logger
	margin time.Duration // resign this long before a lease could expire
	start  time.Time     // wall clock, in the node's record

	clusterKV, nodes, leases jetstream.KeyValue

	ctx     context.Context // ends on Close
	cancel  context.CancelFunc
	closing chan struct{} // closed by Close: workers release their leases
	nudge   chan struct{} // the bucket views changed
	beatNow atomic.Bool   // write the node record at the next turn of the loop
	// beatMu lets one heartbeat write at a time: the loop's and a self-drain's, run at
	// once, made each other's revision stale and could both give up.
	beatMu sync.Mutex
	wg     sync.WaitGroup
	closed atomic.Bool

	mu       sync.Mutex
	view     view
	workers  map[int]*worker   // partitions being prepared or held
	draining bool              // this node, as last written or read from its record
	refused  map[int]time.Time // partitions handed back by Refuse, until when
	nodeRev  uint64            // revision of this node's record
	// beatOK is when this node's heartbeats began to land without a failure since; zero
	// after a failure (alive).
	beatOK time.Time

	acquisitions, losses, releases atomic.Uint64
}

// Start opens (creating on first use) the cluster's buckets, refuses a partition count or
// lease TTL other than the cluster's, registers the node and starts taking the partitions
// placement gives it. It returns once the node's record is written.
func Start(ctx context.Context, js jetstream.JetStream, cfg Config, hooks Hooks, log *slog.Logger) (*Member, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if hooks == nil {
		return nil, errors.New("membership: Hooks is nil")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Member{
		cfg:     cfg,
		hooks:   hooks,
		log:     log.With("component", "membership", "node", cfg.NodeID),
		margin:  safetyMargin(cfg.LeaseTTL),
		start:   time.Now().UTC(),
		closing: make(chan struct{}),
		nudge:   make(chan struct{}, 1),
		view:    newView(),
		workers: map[int]*worker{},
		refused: map[int]time.Time{},
	}
	if err := m.openBuckets(ctx, js); err != nil {
		return nil, err
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	if err := m.watch(ctx); err != nil {
		m.cancel()
		m.wg.Wait()
		return nil, err
	}
	if err := m.heartbeat(ctx); err != nil {
		m.cancel()
		m.wg.Wait()
		return nil, fmt.Errorf("membership: register node %s: %w", cfg.NodeID, err)
	}
	m.wg.Go(m.loop)
	return m, nil
}

func (c Config) check() error {
	switch {
	case c.NodeID == "":
		return errors.New("membership: Config.NodeID is empty")
	case c.Partitions < 1:
		return fmt.Errorf("membership: Config.Partitions %d: at least 1", c.Partitions)
	case c.Replicas < 1:
		return fmt.Errorf("membership: Config.Replicas %d: at least 1", c.Replicas)
	case c.LeaseTTL < time.Second:
		return fmt.Errorf("membership: Config.LeaseTTL %v: at least 1s", c.LeaseTTL)
	}
	return nil
}

// safetyMargin is how long before its lease could expire a holder resigns: a fifth of the
// TTL. It must cover the clock skew between nodes and the time Resign takes; renewals every
// third of the TTL leave two attempts before it.
func safetyMargin(ttl time.Duration) time.Duration { return ttl / 5 }

// renewEvery is the interval of lease renewals and heartbeats.
func (m *Member) renewEvery() time.Duration { return m.cfg.LeaseTTL / 3 }

// NodeID is this node's id.
func (m *Member) NodeID() string { return m.cfg.NodeID }

// Counters returns this node's lease changes since Start.
func (m *Member) Counters() Counters {
	return Counters{
		Acquisitions: m.acquisitions.Load(),
		Losses:       m.losses.Load(),
		Releases:     m.releases.Load(),
	}
}

// Refuse hands partition p back for d: a Prepare of p in progress ends; a lease of p this
// node holds is resigned (Hooks.Resign first, as for any release) and deleted at once; and
// the node's record lists p as refused until d has passed, so that placement on every node
// passes over this one for p — unless every live node refuses it, when placement ignores
// the refusals rather than leave p without an owner. It is for a node that holds a lease
// but cannot serve the partition (its catch-up keeps failing): without it, the partition
// would have no writer until the node stops. Refuse does not wait for the release; it may
// be called from a hook.
func (m *Member) Refuse(p int, d time.Duration) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if p < 0 || p >= m.cfg.Partitions {
		return fmt.Errorf("membership: refuse partition %d: the cluster has %d", p, m.cfg.Partitions)
	}
	m.mu.Lock()
	m.refused[p] = time.Now().Add(d)
	if w := m.workers[p]; w != nil {
		w.stop()
	}
	m.mu.Unlock()
	m.log.Warn("partition handed back", "partition", p, "refused_for", d)
	m.beatSoon()
	// The record is rewritten without p once the refusal ends, not at the next heartbeat.
	time.AfterFunc(d, m.beatSoon)
	return nil
}

// Close stops the node gracefully: every lease it holds is resigned and released at once and
// its record deleted, so other nodes take its partitions without waiting for a TTL.
func (m *Member) Close() error {
	if m.closed.Swap(true) {
		return nil
	}
	close(m.closing)
	m.cancel()
	m.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.LeaseTTL)
	defer cancel()
	if err := m.nodes.Delete(ctx, m.cfg.NodeID); err != nil {
		// It expires within a TTL; until then placement still counts the node.
		return fmt.Errorf("membership: delete node %s: %w", m.cfg.NodeID, err)
	}
	return nil
}
