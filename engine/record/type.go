package record

import (
	"fmt"

	"github.com/engram-go/engram/engine/wal"
)

// The record types the engine writes. Payload layouts are in docs/formats/records.md.
const (
	TypeRemember wal.RecordType = 1 // a whole memory (insert or replace)
	TypeForget   wal.RecordType = 2 // tombstone for one memory id
	TypeLinks    wal.RecordType = 3 // association edges computed for one memory
	TypeAccess   wal.RecordType = 4 // reinforcement: access counts and last-access times
	TypePromote  wal.RecordType = 5 // a warm or cold memory moved back to the hot tier
)

// types lists the known types in number order, with their names.
var types = [...]struct {
	t    wal.RecordType
	name string
}{
	{TypeRemember, "remember"},
	{TypeForget, "forget"},
	{TypeLinks, "links"},
	{TypeAccess, "access"},
	{TypePromote, "promote"},
}

// Background reports whether records of type t are written by the engine's background
// lanes (association edges, reinforcement) rather than by a request that goes on to the
// next one once its record is durable: the WAL's Committer does not wait for such logs
// after a shared round (wal.Options.Background).
func Background(t wal.RecordType) bool {
	return t == TypeLinks || t == TypeAccess
}

// Types returns the known record types in number order.
func Types() []wal.RecordType {
	out := make([]wal.RecordType, len(types))
	for i, k := range types {
		out[i] = k.t
	}
	return out
}

// TypeName names a record type; an unknown type is "type<N>".
func TypeName(t wal.RecordType) string {
	for _, k := range types {
		if k.t == t {
			return k.name
		}
	}
	return fmt.Sprintf("type%d", t)
}

// ParseType is the inverse of TypeName for the known types.
func ParseType(s string) (wal.RecordType, bool) {
	for _, k := range types {
		if k.name == s {
			return k.t, true
		}
	}
	return 0, false
}
