// Package wal is the write-ahead log of one memory space: an ordered, checksummed, append-only
// sequence of records stored in numbered segment files under the space's wal/ folder.
//
// The byte layout is specified in docs/formats/wal.md. The package keeps these invariants:
//
//   - LSNs are assigned under a single mutex in the order frames are placed in the file, so file
//     order is LSN order. LSNs are strictly increasing across the whole log (gaps are allowed
//     after a repair); a frame whose LSN does not exceed its predecessor's is treated as corrupt.
//   - With SyncAlways, Append and AppendBatch return only after the record's bytes were written
//     and fdatasync'ed. Concurrent appenders share one write(2) and one fdatasync per batch (group
//     commit); a writer arriving while a sync is in flight joins the next batch. With many
//     concurrent writers the lead lets a batch gather up to half of the recent peak of
//     writers, never longer than the mean fdatasync latency after its first record arrived
//     (group.go); a lone writer never waits.
//   - A log has no goroutine: its file is written and synced by whichever appender holds the
//     log's lead (lead.go), one at a time; a busy log hands the lead to a waiter of the
//     next batch, Sync, Close and the interval timer queue for it.
//   - With SyncInterval and SyncNever, Append returns after the write(2), so an acknowledged record
//     survives a crash of the process but not of the machine until the next fdatasync (every
//     SyncInterval, at rotation, Sync and Close).
//   - A write or fdatasync failure is reported to every waiter of the batch and fails the log: every
//     later Append returns the same error. Nothing is acknowledged that the log cannot guarantee.
//   - A segment is made durable (fdatasync) before its successor is created, and a new segment
//     (header written, file and folder fsync'ed) exists before any record is written to it, so the
//     log never has a hole in front of durable data.
//   - Recovery never fails on damaged data. A torn tail of the last segment is cut off; damaged
//     frames anywhere else are counted, skipped by resynchronising on the frame marker, the
//     original file is kept as <name>.broken and a repaired copy takes its place (write temp,
//     fsync, rename, fsync folder), so the next start is clean.
//   - Damage is classified in one place, verifyBytes (verify.go): recovery acts on its classes
//     and VerifySegment hands them to offline tools, so a tool reports exactly what Open would
//     cut off as a torn tail or drop as corruption.
//   - Offline readers (ListSegments, ScanSegment, VerifySegment, RepairCopy) never modify or
//     lock the files they read.
//
// One WAL value owns its folder: the caller must not open the same folder twice at once.
package wal
