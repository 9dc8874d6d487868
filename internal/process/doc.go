// Package process tells whether a process id names a live engram server, for the server's
// own PID file (cmd/engram: start, stop, status) and for engram-wal, which refuses to
// repair a data root a live server uses. It only looks: it never signals nor waits.
package process
