// Package frontend holds what every network frontend shares, so that HTTP and gRPC answer
// alike: the plugin registry and the option defaults (registry.go), the choice of memory
// space for a request (header or metadata > query > body > default, the same rule on every
// route and protocol; space.go), the mapping of engine errors to the public error shape
// (errors.go), the content rules (content.go), the event streams' catalogue and filter
// (events.go), per-space rate limits and their 429 answer (limits.go), and the goroutine
// that serves a listener (serve.go). What depends on the wire (field names, status
// spelling) stays in the frontend's own package.
//
// The registry is the one piece of package-level mutable state in the project: frontends
// add themselves from their package's init, before main runs, and it is read-only after.
package frontend
