// Package grpcapi is the gRPC frontend of Engram: the engram.v1.EngramService of
// proto/engram/v1/engram.proto (generated code in package pb), plus server reflection and
// the standard grpc.health.v1 service. It registers itself as the "grpc" frontend.
//
// Invariants:
//   - Every space-scoped call picks its space with frontend.ChooseSpaceFrom: the
//     x-memory-space metadata, then the request's memory_space_id field, then "default".
//     An invalid id is INVALID_ARGUMENT and never falls through to the next source.
//   - Reads never create a space: an unknown space answers as an empty one (or NOT_FOUND
//     when auto-create is off). Writes create it when auto-create is on.
//   - A remember is acknowledged only after the engine reports it stored (durable per the
//     space's WAL sync mode). On the bidirectional streams every request gets exactly one
//     response, in request order; a rejected item carries an ItemError and the stream goes
//     on. Requests are read through a bounded window, so a client that sends faster than the
//     engine stores is slowed by gRPC flow control, never buffered without bound.
//   - The event stream subscribes to exactly one space and never shows another's events; a
//     subscriber that falls behind is cut (RESOURCE_EXHAUSTED) rather than slowing writers.
//   - Returned memories carry their stored embeddings. Unsupported operations answer
//     UNIMPLEMENTED; nothing answers with made-up data.
package grpcapi
