// Package clustertest runs a cluster of real engram processes on loopback and judges what
// it stored: the harness behind the cluster scenarios of docs/cluster.md ("Testing").
//
// A Cluster is three processes of one build of cmd/engram, each with its own data root and
// its own HTTP, gRPC, MCP and NATS client ports on 127.0.0.1, chosen free at start and kept
// across restarts. Every NATS route to a node goes through its gate, a Proxy of the
// harness (the node's route listener sits behind it on 127.0.0.2, see newGate), so a node
// can be cut off from its peers in both directions and healed.
//
// A Load is concurrent clients remembering into many spaces through random nodes, over
// HTTP and (a share of them) gRPC. Every write carries an idempotency key and a content
// naming its space and key; a write whose outcome is unknown (timeout, connection error,
// 429, 5xx, gRPC UNAVAILABLE) is retried with the same key on any node until it is
// acknowledged or the run ends. Readers meanwhile read acknowledged memories back; a read
// that misses a memory acknowledged before it started is stale. SSE subscribers follow a
// few spaces at nodes that do not own them; a write acknowledged while such a stream stays
// open must have sent its event through it.
//
// The oracle compares what was acknowledged with two views: the partition streams read
// back and folded per space (StreamView), and the nodes' HTTP answers (HTTPView, or
// HTTPViewAt for one node's own answers). Its
// invariants: no acknowledged write is absent (lost), no key is stored as two memories and
// no memory appears twice (duplicated), no read misses an earlier acknowledgement (stale),
// and a memory appears only in the space it was written to (isolation).
//
// Measurements (writes/s, latency, CPU per write, time until every partition has an
// owner, catch-up rate) are reported, never asserted: the machine running the tests is
// shared.
package clustertest
