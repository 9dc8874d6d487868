// Package httpapi is the HTTP frontend of Engram: the REST routes and Server-Sent Event
// streams of docs/api.md, served by fasthttp, registered as the frontend plugin "http".
//
// Invariants:
//   - Every request picks its memory space with one rule, on every route including the
//     streams: X-Memory-Space header > ?space= > body memory_space (alias memory_space_id) >
//     "default" (frontend.ChooseSpace). A listener pinned to a space accepts only requests
//     that name no space or that same space.
//   - Reads never create a space: an unknown space answers as an empty one (200) when
//     auto-create is on and 404 SPACE_NOT_FOUND when it is off. Writes create it when
//     auto-create is on. The streams are the one documented exception (see docs/api.md):
//     a subscriber waits for writes, so subscribing creates the space.
//   - Every error, including transport errors raised by fasthttp itself (an oversized
//     body), unknown routes and wrong methods, is the JSON shape
//     {"error": {"code", "message", ...}} built by frontend.FromError; 429 and 503 carry
//     Retry-After.
//   - A write answers 2xx only after the engine reports it stored (durable per the
//     space's sync mode); otherwise it answers an error. Nothing is dropped silently.
//   - No answer, stream event, metric label or error message of one space carries data of
//     another space, and none carries a credential.
//   - A body is held to RFC 8259 and to max_body_bytes/512 JSON values (embeddings read
//     ahead not counted) before anything is built from it, and a batch is parsed one
//     memory at a time, so reading a request allocates at most 2 × max_body_bytes plus
//     512 bytes per batch item whatever its shape (docs/operations.md). A key is checked
//     against the space named outside the body before the body is read.
package httpapi
