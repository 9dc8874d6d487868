// Package cluster runs memory spaces over several nodes on NATS JetStream (docs/cluster.md).
//
// Spaces are mapped onto a fixed number of replicated partition streams; the node holding a
// partition's lease is its owner, the only writer of its stream, and applies the stream's
// records to its local spaces, whose WAL files and tiers are a cache of the stream. Other
// nodes forward requests for the partition's spaces to the owner.
package cluster
