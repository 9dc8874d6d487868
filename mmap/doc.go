// Package mmap maps files into memory read-only, so that immutable segment files can be
// read and scanned in place without copying them into the Go heap.
//
// Invariants:
//
//   - A mapping is read-only (PROT_READ, MAP_SHARED). Writing to the slice returned by
//     Bytes faults; the package never writes through it.
//   - The slice returned by Bytes is valid from Open until Close. After Close it must not be
//     read, nor any slice, string or pointer derived from it: the memory is unmapped and an
//     access faults. Callers copy what they keep (ids, metadata) and stop using the slice
//     before they call Close.
//   - The file must not be truncated or rewritten in place while it is mapped: reading a page
//     past a shortened end raises SIGBUS, which kills the process. Files meant to be mapped
//     are written once under a temporary name and renamed into place, never modified.
//   - Open closes the file descriptor once the mapping exists (the mapping keeps the file
//     alive), so a mapped file holds no descriptor. Many thousands of files can be mapped
//     at once without approaching the descriptor limit.
//   - A zero-length file is valid: it is not mapped (mmap(2) rejects a zero length) and
//     Bytes returns an empty slice.
//   - A File is safe for concurrent reads; Close must not run concurrently with them.
package mmap
