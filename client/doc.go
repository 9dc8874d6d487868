// Package client is the Go client of Engram's HTTP API (docs/api.md, and the OpenAPI
// document the server publishes at /openapi.json).
//
// One Client talks to one server. The memory space is given once, with WithSpace or
// Client.Space, which returns a view of the same client bound to another space; the
// server's precedence rule then puts it in the X-Memory-Space header of every call.
// Every method takes a context.
//
// Invariants:
//   - An error answer of the server is returned as *Error, the server's one error shape
//     (code, message, status, Retry-After); errors.Is matches it against the sentinel
//     errors (ErrMemoryNotFound, ErrRateLimited, ErrOverloaded, …).
//   - 429 and 503 answers are retried, waiting what Retry-After asks, at most
//     RetryPolicy.MaxAttempts times and never past RetryPolicy.MaxWait in all. The server
//     refuses such requests before storing anything, so retrying a write is safe.
//   - RememberAll gives every memory an id before sending, so a batch sent twice (a retry
//     after a lost answer) replaces rather than duplicates; it splits large inputs into
//     batches the server accepts.
//   - Subscribe reconnects after a dropped stream with Last-Event-ID, so no buffered event
//     is skipped; a gap the server can no longer fill arrives as a Warning.
//
// The package depends on engine/transfer for the transfer format's types (export and
// import); that links the engine's packages into a program, without starting anything.
package client
