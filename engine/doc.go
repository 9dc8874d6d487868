// Package engine is Engram's storage and recall engine: a registry of memory spaces under
// one data root, each with its own write-ahead log, hot/warm/cold tiers, indexes and
// association graph (docs/architecture.md).
//
// # Invariants
//
//   - Isolation: nothing of a space lives outside <data_root>/<id>/, and no operation of one
//     space reads or writes another's state.
//   - A space folder appears and disappears in one rename (spacedir.go): a create is built
//     in a temporary folder, a delete renames to a tombstone first. Open removes both kinds
//     of leftover and never takes a folder without space.json or WAL segments for a space.
//   - Write-ahead: a memory is applied to the in-memory state only after its record was
//     appended to the WAL (durable in "always" mode). Operations on one memory id are
//     serialised by its id lock, so WAL order equals apply order per id and replay
//     reproduces exactly what was acknowledged.
//   - Rows are never reused while a state is open, so row numbers held by the indexes and
//     the graph never change meaning; only reopening (a restart, or renumber after a
//     checkpoint) numbers them afresh.
//   - A checkpoint covers an LSN only when every record up to it is applied (the WAL rule
//     below), so replaying from LSN+1 over the checkpoint rebuilds the state.
//   - Replication (replication.go): with a Replication set, a state opens only where the
//     space's partition is led, and its WAL writes a batch to the local file only after
//     the replicator took it, so a local log never holds a record its stream lacks. A
//     Replicated engine opens nothing before SetReplication. Its calls into the
//     Replication (Create, Delete under Engine.regMu; Replicate from the holder of a WAL's lead) take
//     no lock of this package.
//   - Background work (checkpoints, renumbering, the idle sweep, the periodic loop) runs in
//     goroutines owned by Engine.work, which Close waits for; a space's linker lanes are
//     owned by its open state and end when it closes. A lock is released by the goroutine
//     that took it.
//
// # Lock order
//
// A goroutine holding a lock of the list takes only locks further down it:
//
//  1. Engine.regMu — the registry: publishing the space map, the create's folder rename.
//     DeleteSpace holds it only to unpublish; retiring and removing the folder come after.
//  2. Engine.closeMu — one idle sweep at a time; takes Space.mu with TryLock only.
//  3. Space.mu — the space's open state: shared by operations and by a background
//     checkpoint, exclusive to open, close, retire (delete), reopen after a failure and
//     renumber.
//  4. Memory id locks (state.idl: idLocks.mu, then the id's lock) — one writer per id.
//  5. state.cpRun — one checkpoint at a time.
//  6. state.cp — the checkpoint lock (the WAL rule below); a checkpoint holds it
//     exclusively only for the instant it reads the LSN it will cover.
//  7. WAL locks (package wal), taken inside Append, AppendBatch and Sync.
//  8. applier.mu — the remember batch queue; released before its leader takes state.mu.
//  9. state.mu — everything of the open state: live memories by row (byRow), slab rows,
//     indexes' inputs, graph, segments. A memory's reinforcement (access.go) is the
//     exception: recall updates it holding state.mu shared, through atomics; so are the
//     linker's edges (applyLinks: the graph's own writer lock, liveMemory.linked atomic).
//     The applier takes it exclusively with lockDeferring (writerlock.go).
//  10. linker.mu, accessLog.mu, slab.growMu — taken under state.mu or alone, never
//     around another lock of this list; linker.indexHold is taken alone by the index lane.
//  11. Index and graph locks (packages index, graph); index callbacks read vectors through
//     the slab's atomic chunk list and never take state.mu.
//  12. Leaves taken alone: eventHub.mu (publish after the operation), consolidationStats.mu,
//     backgroundBudget.mu, workers.mu.
//
// # Which WAL appends hold the checkpoint lock
//
// A record whose apply changes what a checkpoint snapshots — remember, forget, links
// (from the linker or a consolidation), promote — is appended and applied with state.cp
// held shared, from before the append until the apply is done. A checkpoint that takes
// state.cp exclusively therefore sees every appended record applied. Reinforcement records
// (access counts) do not take it: recall updates the counts in memory first and logs them
// later in a batch, so any snapshot already holds them and replaying one sets the same
// values again.
package engine
