package wal

import "errors"

// Sentinel errors. Errors returned by the package wrap them with context; test with errors.Is.
var (
	// ErrClosed is returned by every operation on a WAL after Close.
	ErrClosed = errors.New("wal: closed")
	// ErrFailed wraps the write or fdatasync error that stopped the log; once returned, the WAL
	// accepts no more appends (the message reads "wal: log failed: <cause>").
	ErrFailed = errors.New("wal: log failed")
	// ErrCorrupt marks a damaged frame or header: a bad marker, checksum, field or LSN order.
	ErrCorrupt = errors.New("wal: corrupt record")
	// ErrTorn marks damaged or incomplete bytes at the end of a segment with no intact frame after
	// them, the signature of a write cut short by a crash.
	ErrTorn = errors.New("wal: torn write")
	// ErrInvalidRecord rejects an entry that cannot be written: type 0 or an oversized payload.
	ErrInvalidRecord = errors.New("wal: invalid record")
	// ErrInvalidOptions rejects unusable Options.
	ErrInvalidOptions = errors.New("wal: invalid options")
)
