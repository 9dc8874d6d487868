// Package limits measures what the machine allows, so that every benchmark figure can
// be read as a fraction of it: the bandwidth of a plain memory copy (the ceiling of any
// streaming scan) and the latency of one small write made durable with fdatasync (the
// floor under any durable acknowledgement).
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
