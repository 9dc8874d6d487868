package wal

import (
	"fmt"
	"log/slog"
	"time"
)

const (
	// DefaultSegmentBytes is the rotation size used when Options.SegmentBytes is 0.
	DefaultSegmentBytes = 64 << 20
	// DefaultSyncInterval is the fdatasync period of SyncInterval when Options.SyncInterval is 0.
	DefaultSyncInterval = 50 * time.Millisecond
	// MaxSpaceBytes is the longest space name a segment header holds.
	MaxSpaceBytes = 64
)

// Options configures Open.
type Options struct {
	Dir          string        // the wal folder; created if missing
	Space        string        // written into segment headers (informational, at most MaxSpaceBytes)
	SegmentBytes int64         // rotate when a segment would exceed this; 0 means DefaultSegmentBytes
	Sync         SyncMode      // durability of Append; the zero value is SyncAlways
	SyncInterval time.Duration // fdatasync period for SyncInterval; 0 means DefaultSyncInterval
	Logger       *slog.Logger  // nil means slog.Default()
	// OnSync, if set, is called by the holder of the log's lead after every successful fdatasync with its
	// latency and the number of records it made durable. It must not block or call into the WAL.
	OnSync func(d time.Duration, records int)
	// Committer, if set, makes a SyncAlways log durable in flushes shared with the other logs
	// of the same Committer (committer.go) instead of fdatasyncs of its own. Logs of other
	// sync modes ignore it.
	Committer *Committer
	// Background, if set, names the record types appended by background work (the
	// association edges of an edge lane, say): work whose appender does not append again as
	// soon as its record is durable. After a shared round the Committer waits for the logs
	// of the round's other appenders to queue again, not for these (committer.go). Nil means
	// every appender may come back.
	Background func(RecordType) bool
	// Replicator, if set, receives every batch before the log writes it to its file, and the
	// batch's appenders are acknowledged only if it accepted the batch (replicate.go).
	Replicator Replicator
}

// withDefaults validates o and fills in the defaults.
func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, fmt.Errorf("%w: empty Dir", ErrInvalidOptions)
	}
	if len(o.Space) > MaxSpaceBytes {
		return o, fmt.Errorf("%w: space name is %d bytes, limit %d", ErrInvalidOptions, len(o.Space), MaxSpaceBytes)
	}
	if o.SegmentBytes < 0 {
		return o, fmt.Errorf("%w: negative SegmentBytes %d", ErrInvalidOptions, o.SegmentBytes)
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.SegmentBytes < headerSize+frameOverhead {
		return o, fmt.Errorf("%w: SegmentBytes %d is below the minimum %d", ErrInvalidOptions, o.SegmentBytes, headerSize+frameOverhead)
	}
	if o.Sync > SyncNever {
		return o, fmt.Errorf("%w: unknown sync mode %d", ErrInvalidOptions, o.Sync)
	}
	if o.SyncInterval < 0 {
		return o, fmt.Errorf("%w: negative SyncInterval %v", ErrInvalidOptions, o.SyncInterval)
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
