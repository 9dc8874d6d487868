// Package hostile measures what hostile request bodies cost the HTTP frontend in memory:
// BenchmarkHostileBody sends bodies of max_body_bytes built to be expensive to parse
// (unknown fields holding millions of small numbers, arrays of millions of elements,
// millions of keys) and reports, per shape, the bytes allocated per request and the peak
// growth of the live heap while it is served. The bound it is held to is documented in
// docs/operations.md ("Memory"); the figures are in benchmarks/RESULTS.md.
package hostile
