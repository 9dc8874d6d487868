// Package partlog is the log of one cluster partition: a JetStream stream whose messages are
// batches of the WAL frames of the partition's spaces (docs/cluster.md, docs/formats/cluster-batch.md).
//
// Invariants:
//
//   - The stream holds exactly what the spaces' WALs hold: the same encoded frames, with the
//     LSNs the owner's log gave them, in the order the owner wrote them. A space's frames in
//     the stream have increasing LSNs; a space's creation section precedes its frames and its
//     deletion section follows them.
//   - Only the owner publishes, one message at a time, each with Nats-Expected-Last-Sequence
//     set to the sequence of the message before it. A publish refused for a wrong last
//     sequence means another node wrote the stream: the owner has lost the partition and
//     refuses every write from then on (engine.ErrNotOwner).
//   - A write is acknowledged only after JetStream acknowledged the message holding it (a
//     quorum of replicas has it, on disk with sync_interval always) and the owner wrote it
//     to its local log.
//   - Catching up copies frames into local logs skipping the LSNs a log already holds, so
//     replaying a message twice changes nothing; the applied sequence is recorded only after
//     the logs it covers are durable.
package partlog
