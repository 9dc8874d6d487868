// Package limits measures what the machine allows, so that every benchmark figure can
// be read as a fraction of it: the bandwidth of a plain memory copy (the ceiling of any
// streaming scan), the latency of one small write made durable with fdatasync (the
// floor under any durable acknowledgement), and what the disk adds when the same records
// are spread over many files made durable together (the floor under a group commit across
// spaces, each with its own log).
//
// Invariants:
//
//   - A measurement allocates or creates everything it touches and releases it before
//     returning: buffers are dropped, the probe file is closed and removed, even on error.
//   - Buffers are written once before timing, so page faults of first touch are not
//     counted as copy time.
//   - The probe file lives in the directory it is given, so the figure is that of the disk
//     holding that directory (pass the data root, not /tmp, when they differ).
//   - Nothing here keeps state between calls; concurrent calls measure each other.
package limits
