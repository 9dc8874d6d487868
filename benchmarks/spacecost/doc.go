// Package spacecost measures what idle memory spaces cost a node: resident memory, open
// files, disk, the time to create them, the time to start an engine over them and the
// latency of the first use of a space that was closed while idle. It drives the engine
// through its public API only (engine.Open with MaxOpenSpaces, CreateSpace, Remember,
// Stats), as an operator's server would.
//
// Invariants:
//
//   - Figures come from the kernel's view of this process (/proc/self/status VmRSS and
//     /proc/self/fd), after a garbage collection that returns freed memory to the OS, so
//     they include the Go runtime's own overhead and nothing else's.
//   - Create leaves the engine closed and the data root on disk, so Start can be run in a
//     fresh process (cmd/spacecost does) and measure a clean start.
//   - Every space holds exactly one memory, stored with the engine's settings, so a space
//     is as small as a used space can be.
package spacecost
