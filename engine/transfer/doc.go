// Package transfer is the transfer format of memory spaces: NDJSON, one JSON object per
// memory, newline terminated (docs/formats/transfer.md). It is what the HTTP export route
// sends and the import route takes (frontend/httpapi), what the command line's backup
// files hold (cmd/engram, online and offline alike), and what the Go client streams
// (client).
//
// Invariants:
//   - A line holds every field of a memory but its tier (null for an absent embedding,
//     episode or last access); floats are written in their shortest float32 form and
//     times in RFC 3339 with nanoseconds, so ParseLine(AppendLine(m)) == m field for field.
//   - ParseLine refuses unknown keys rather than dropping them: nothing of a memory is
//     lost without an error. id and content are required.
//   - Export writes a space as of one instant, in id order. Import keeps ids and times
//     (engine.RememberOptions.Preserve), BatchSize memories per group commit, so importing
//     the same lines twice leaves the same state; a line it refuses is reported by its
//     number (every line counts from 1, blank ones included) and skipped.
package transfer
