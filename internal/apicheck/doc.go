// Package apicheck validates HTTP exchanges with an Engram server against the OpenAPI
// document (frontend/httpapi/openapi). Tests route their clients through Transport, so
// that every request they send and every answer they receive is checked.
//
// The rules, chosen so that tests of bad input still run:
//   - every answer is validated: status, headers the document requires, and a JSON body
//     against its schema (streamed bodies — SSE, NDJSON — by content type only);
//   - a request is validated when the server accepted it (2xx): a request the document
//     calls invalid must not succeed;
//   - a path and method the document lacks fails unless the server answered 404 or 405,
//     so an undocumented route fails loudly instead of passing unchecked;
//   - 502 and 504 are an intermediary's answers (a proxy a test puts in front) and are
//     not checked.
//
// A failed check is returned from RoundTrip as an error wrapping ErrMismatch, and kept:
// Failures lists every one, for a TestMain to fail the run even if a test ignored an error.
package apicheck
