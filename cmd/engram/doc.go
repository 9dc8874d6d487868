// The engram binary wires the packages together and holds no logic of its own beyond
// process life: configuration (package config), the PID file, signals, and thin HTTP
// clients for the command line.
//
// Invariants:
//
//   - `engram start` writes the PID file (`<pid>:<http port>`) only once every listener is
//     bound, and removes it only after every space has been flushed and closed, so a PID
//     file naming a live process means a server that is accepting requests or draining.
//   - A PID file naming a live engram process is never overwritten, and a server holds an
//     exclusive lock on <data_root>/engram.lock while it runs: a second server on the same
//     data root refuses to start, whatever its PID file.
//   - Stopping, by signal or by POST /shutdown, goes through one path: frontends stop
//     accepting and drain, then the engine closes (every WAL synced), then the PID file
//     goes, then the process exits 0.
//   - Client commands send the space in the X-Memory-Space header, print the server's
//     error message and exit non-zero on any error answer, and exit non-zero with a clear
//     message when no server answers.
package main
