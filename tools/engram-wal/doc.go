// engram-wal reads the write-ahead logs of a stopped Engram server, or of a copy of its data
// root, and lists, summarises, dumps, verifies and repairs them (docs/engram-wal.md).
//
// Invariants:
//
//   - Nothing it is pointed at is ever modified: segment files are only opened for reading,
//     no lock is taken, and repair writes a new folder (which must not exist or be empty, and
//     must lie outside the one read), never the original.
//   - Damage is classified by wal.VerifySegment, the routine recovery uses: damaged bytes at the
//     end of a log's last segment with nothing intact after them are a torn tail, which
//     recovery cuts off silently; any other damaged frame, a torn end of a segment that is not
//     the last, a damaged segment header and a frame whose LSN does not exceed the previous
//     segment's last are corruption.
//   - Every command is a function of its arguments and the files read, so the same log gives
//     the same output; times written by the log can be left out (--times none) to compare logs
//     written at different moments.
//   - Exit statuses: 0 success or a clean log; 1 a torn tail only (verify); 2 corruption
//     (verify) or damage met by dump without --raw; 3 any other error (usage, unreadable
//     folder, refusal).
package main
