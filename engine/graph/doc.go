// Package graph holds the association graph of one memory space and runs spreading
// activation over it.
//
// Nodes are the space's dense uint32 rows: memory grows with the largest id linked, not
// with the number of linked nodes. Edges are undirected, weighted in (0, 1] and
// labelled with the reason they exist (similarity, temporal adjacency, consolidation).
//
// Invariants:
//
//   - Every edge is stored at both endpoints with the same weight and kind; Edges counts
//     each undirected edge once. Self-loops are never stored.
//   - A node's adjacency is held as three parallel arrays (targets, weights, kinds) kept
//     sorted by weight descending, then target ascending. The strongest MaxFanout edges
//     of a node are therefore a prefix, and every listing is canonical: it depends on the
//     set of edges, not on the order they were added.
//   - A published adjacency is never modified. Writers (serialised by a mutex) build a
//     new adjacency and swap the node's pointer atomically, so Spread, Neighbors and
//     Degree take no lock and never wait for a writer. A Spread that runs while edges
//     change sees each node either before or after a change, never half of one.
//   - A node's activation is the best product over the walks of at most MaxHops hops from
//     a seed (through accepted nodes, and non-seeds unless Params.RaiseSeeds), or its own
//     seed activation if larger, when neither fanout nor budget cuts the search.
//   - Spread is deterministic: for the same edges, seeds and parameters it returns the
//     same nodes, activations and paths, whatever the order of seeds or edge insertion.
//     No map iteration order reaches a result.
//
// The algorithm, its defaults and its tie-breaking rules are described in
// docs/spreading-activation.md.
package graph
