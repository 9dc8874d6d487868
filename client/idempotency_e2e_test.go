package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/engram-go/engram/client"
)

// TestIdempotencyKeyAgainstTheBinary: a remember retried with its Idempotency-Key is
// stored once, in its own space only; the key with other content is refused.
func TestIdempotencyKeyAgainstTheBinary(t *testing.T) {
	srv := startServer(t, "")
	ctx := withTimeout(t)
	alpha := newClient(t, srv.addr, client.WithSpace("alpha"))
	beta := alpha.Space("beta")
	count := func(c *client.Client) int {
		t.Helper()
		l, err := c.List(ctx, client.ListRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return l.Count
	}

	first, err := alpha.Remember(ctx, client.RememberRequest{Content: "order 42 shipped", IdempotencyKey: "order-42"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := alpha.Remember(ctx, client.RememberRequest{Content: "order 42 shipped", IdempotencyKey: "order-42"})
		if err != nil || again.MemoryID != first.MemoryID || !again.StoredAt.Equal(first.StoredAt) {
			t.Fatalf("retry: %+v, %v; want memory %s stored at %v", again, err, first.MemoryID, first.StoredAt)
		}
	}
	if n := count(alpha); n != 1 {
		t.Fatalf("alpha holds %d memories after retries, want 1", n)
	}
	_, err = alpha.Remember(ctx, client.RememberRequest{Content: "order 42 cancelled", IdempotencyKey: "order-42"})
	if !errors.Is(err, client.ErrConflict) {
		t.Fatalf("same key, other content: %v, want ErrConflict", err)
	}

	// The same key in another space is another memory; neither space sees the other's.
	other, err := beta.Remember(ctx, client.RememberRequest{Content: "order 42 shipped", IdempotencyKey: "order-42"})
	if err != nil || other.MemoryID == first.MemoryID {
		t.Fatalf("beta: %+v, %v", other, err)
	}
	if _, err := beta.Get(ctx, first.MemoryID); !errors.Is(err, client.ErrMemoryNotFound) {
		t.Fatalf("beta sees alpha's memory: %v", err)
	}
	if m, err := alpha.Get(ctx, first.MemoryID); err != nil || m.Content != "order 42 shipped" {
		t.Fatalf("alpha's memory: %+v, %v", m, err)
	}

	// A batch: item i under "<key>#<i>", stored once however often it is sent.
	items := []client.RememberRequest{{Content: "line one"}, {Content: "line two"}}
	b1, err := beta.RememberBatch(ctx, items, client.BatchOptions{IdempotencyKey: "import-7"})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := beta.RememberBatch(ctx, items, client.BatchOptions{IdempotencyKey: "import-7"})
	if err != nil || strings.Join(b2.MemoryIDs, ",") != strings.Join(b1.MemoryIDs, ",") {
		t.Fatalf("batch retry ids %v (%v), want %v", b2, err, b1.MemoryIDs)
	}
	if n := count(beta); n != 3 {
		t.Fatalf("beta holds %d memories, want 3", n)
	}
	if n := count(alpha); n != 1 {
		t.Fatalf("alpha holds %d memories, want 1", n)
	}

	// A single node has no cluster: the cluster routes say so, /metrics has no cluster lines.
	if _, err := alpha.ClusterStatus(ctx); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("ClusterStatus on a single node: %v, want ErrNotFound", err)
	}
	if err := alpha.DrainNode(ctx, "n1"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("DrainNode on a single node: %v, want ErrNotFound", err)
	}
	if m, err := alpha.Metrics(ctx); err != nil || strings.Contains(m, "engram_cluster_") {
		t.Fatalf("metrics of a single node: %v, cluster lines: %v", err, strings.Contains(m, "engram_cluster_"))
	}
}
