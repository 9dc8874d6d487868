package membership

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// partitionsKey is engram_cluster's key holding the partition count, in decimal.
const partitionsKey = "partitions"

// openBuckets opens or creates the four buckets and checks the cluster's partition count and
// lease TTL against this node's.
func (m *Member) openBuckets(ctx context.Context, js jetstream.JetStream) error {
	var err error
	if m.clusterKV, err = m.bucket(ctx, js, jetstream.KeyValueConfig{Bucket: BucketCluster}); err != nil {
		return err
	}
	if _, err = m.bucket(ctx, js, jetstream.KeyValueConfig{Bucket: BucketSpaces}); err != nil {
		return err
	}
	if err := m.checkPartitions(ctx); err != nil {
		return err
	}
	// Keys of both expire a TTL after their last write, and the markers JetStream leaves
	// when they do (LimitMarkerTTL) let watchers see the expiry at once.
	ttl := m.cfg.LeaseTTL
	if m.nodes, err = m.bucket(ctx, js, jetstream.KeyValueConfig{Bucket: BucketNodes, TTL: ttl, LimitMarkerTTL: ttl}); err != nil {
		return err
	}
	if m.leases, err = m.bucket(ctx, js, jetstream.KeyValueConfig{Bucket: BucketLeases, TTL: ttl, LimitMarkerTTL: ttl}); err != nil {
		return err
	}
	for _, kv := range []jetstream.KeyValue{m.nodes, m.leases} {
		// Right after another node created the bucket, its stream's info can answer "not
		// found" for a moment, as bucket's calls can: ask again until ctx ends.
		st, err := kv.Status(ctx)
		for errors.Is(err, jetstream.ErrStreamNotFound) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("membership: bucket %s: %w (last error: %v)", kv.Bucket(), ctx.Err(), err)
			case <-time.After(200 * time.Millisecond):
			}
			st, err = kv.Status(ctx)
		}
		if err != nil {
			return fmt.Errorf("membership: bucket %s: %w", kv.Bucket(), err)
		}
		if st.TTL() != ttl {
			return fmt.Errorf("%w: this node has %v, bucket %s expires keys after %v", ErrLeaseTTLMismatch, ttl, kv.Bucket(), st.TTL())
		}
	}
	return nil
}

// bucket opens cfg's bucket, creating it if it does not exist. Right after a JetStream
// cluster forms, its API can answer "temporarily unavailable", lack the peers for the
// replicas, or not answer at all for a moment: such failures are retried until ctx ends,
// others returned at once.
func (m *Member) bucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	cfg.Replicas = m.cfg.Replicas
	cfg.Storage = jetstream.FileStorage
	var last error
	for {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		kv, err := js.KeyValue(callCtx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = js.CreateKeyValue(callCtx, cfg)
			if errors.Is(err, jetstream.ErrBucketExists) {
				kv, err = js.KeyValue(callCtx, cfg.Bucket)
			}
		}
		cancel()
		if err == nil {
			return kv, nil
		}
		if !transient(err) {
			return nil, fmt.Errorf("membership: bucket %s: %w", cfg.Bucket, err)
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("membership: bucket %s: %w (last error: %v)", cfg.Bucket, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkPartitions writes the partition count if the cluster has none yet (Create: the first
// node to start fixes it) and otherwise compares. A replica may answer the read before it
// has the key another node just created (KV reads are served by any replica), and the
// cluster's API may not answer for a moment: both are retried until ctx ends.
func (m *Member) checkPartitions(ctx context.Context) error {
	want := strconv.Itoa(m.cfg.Partitions)
	for {
		err := m.readOrCreatePartitions(ctx, want)
		if err == nil || !(transient(err) || errors.Is(err, jetstream.ErrKeyNotFound)) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("membership: %s/%s: %w (last error: %v)", BucketCluster, partitionsKey, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (m *Member) readOrCreatePartitions(ctx context.Context, want string) error {
	_, err := m.clusterKV.Create(ctx, partitionsKey, []byte(want))
	if err == nil {
		m.log.Info("cluster created", "partitions", m.cfg.Partitions)
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("membership: write %s/%s: %w", BucketCluster, partitionsKey, err)
	}
	// The key exists on the stream's leader, but a Get is a direct get any replica may
	// answer, and one that has not applied the Create yet answers "not found": ask again.
	e, err := m.clusterKV.Get(ctx, partitionsKey)
	for errors.Is(err, jetstream.ErrKeyNotFound) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("membership: read %s/%s: %w (last error: %v)", BucketCluster, partitionsKey, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
		e, err = m.clusterKV.Get(ctx, partitionsKey)
	}
	if err != nil {
		return fmt.Errorf("membership: read %s/%s: %w", BucketCluster, partitionsKey, err)
	}
	if got := string(e.Value()); got != want {
		return fmt.Errorf("%w: this node has %s, the cluster was created with %s", ErrPartitionsMismatch, want, got)
	}
	return nil
}

// transient reports whether a JetStream API failure may go away by itself: no answer, a
// 503 (no meta leader yet, not enough peers for the replicas) from a server whose
// JetStream is enabled, or no peers for the replicas yet.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) {
		return true
	}
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		return false
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.Code == 503 || apiErr.ErrorCode == errNoSuitablePeers)
}

// errNoSuitablePeers is JetStream's "no suitable peers for placement", answered while the
// servers that would hold the replicas are still joining.
const errNoSuitablePeers jetstream.ErrorCode = 10005
