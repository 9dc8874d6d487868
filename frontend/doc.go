// Package frontend holds what every network frontend shares: the plugin registry, the
// choice of memory space for a request (header > query > body > default, the same rule on
// every route and protocol), the mapping of engine errors to the public error shape, and
// per-space rate limits.
//
// The registry is the one piece of package-level mutable state in the project: frontends
// add themselves from their package's init, before main runs, and it is read-only after.
package frontend
