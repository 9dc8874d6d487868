// Package record defines the engine's WAL record types and their payload codecs: one place
// for every type number, its name and its byte layout, used by the engine to log and replay
// and by tools/engram-wal to inspect a log offline. Like Prometheus tsdb/record, it knows
// nothing of the state the records change.
//
// The payload layouts are specified in docs/formats/records.md. The package keeps these
// invariants:
//
//   - A type number, once written, keeps its meaning and its layout; a new layout gets a new
//     payload version or a new type.
//   - Every payload starts with the payload version byte (1); a decoder rejects any other.
//   - Encoders append to the slice they are given and allocate at most once per payload (the
//     remember payload is grown once for the whole record, embedding included).
//   - Decoders never panic and never allocate more than the payload can hold: a count or a
//     length larger than the bytes left fails with ErrShortPayload before anything is made.
//   - Strings and slices a decoder returns are copies; the payload may be reused afterwards.
package record
