package wal

import "fmt"

// SyncMode selects when appended records are made durable with fdatasync.
type SyncMode uint8

const (
	// SyncAlways makes Append return only after its record is on disk (write + fdatasync).
	SyncAlways SyncMode = iota
	// SyncInterval makes Append return after the write(2); a background timer fdatasyncs every
	// Options.SyncInterval while there is unsynced data.
	SyncInterval
	// SyncNever makes Append return after the write(2) and fdatasyncs only at rotation, Sync and
	// Close.
	SyncNever
)

// ParseSyncMode parses "always", "interval" or "never".
func ParseSyncMode(s string) (SyncMode, error) {
	switch s {
	case "always":
		return SyncAlways, nil
	case "interval":
		return SyncInterval, nil
	case "never":
		return SyncNever, nil
	}
	return 0, fmt.Errorf("%w: unknown sync mode %q (want always, interval or never)", ErrInvalidOptions, s)
}

// String returns the name ParseSyncMode accepts.
func (m SyncMode) String() string {
	switch m {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncNever:
		return "never"
	}
	return fmt.Sprintf("SyncMode(%d)", uint8(m))
}
