package engine

import (
	"fmt"

	"github.com/engram-go/engram/engine/wal"
)

// RecordInfo is a readable summary of one engine WAL record, for offline inspection.
type RecordInfo struct {
	Type     string // "remember", "forget", "links", "access"
	MemoryID string // the memory the record is about ("" for access batches)
	Preview  string // content preview (remember), edge or access counts
	Memory   *Memory
	Links    int
	Accesses int
}

// RecordTypeName names a record type; unknown types are "type<N>".
func RecordTypeName(t wal.RecordType) string {
	switch t {
	case recRemember:
		return "remember"
	case recForget:
		return "forget"
	case recLinks:
		return "links"
	case recAccess:
		return "access"
	case recPromote:
		return "promote"
	}
	return fmt.Sprintf("type%d", t)
}

// ParseRecordType is the inverse of RecordTypeName for the known types.
func ParseRecordType(s string) (wal.RecordType, error) {
	for _, t := range []wal.RecordType{recRemember, recForget, recLinks, recAccess, recPromote} {
		if RecordTypeName(t) == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown record type %q (remember, forget, links, access, promote)", ErrInvalidInput, s)
}

// DescribeRecord decodes a record's payload into a summary. Payloads are documented in
// docs/formats/records.md.
func DescribeRecord(t wal.RecordType, payload []byte) (RecordInfo, error) {
	info := RecordInfo{Type: RecordTypeName(t)}
	switch t {
	case recRemember:
		m, raw, err := decodeMemory(payload)
		if err != nil {
			return info, err
		}
		m.Embedding = raw
		info.MemoryID = m.ID
		info.Preview = preview(m.Content, 60)
		info.Memory = &m
	case recForget:
		id, err := decodeForget(payload)
		if err != nil {
			return info, err
		}
		info.MemoryID = id
	case recLinks:
		src, _, links, err := decodeLinks(payload)
		if err != nil {
			return info, err
		}
		info.MemoryID = src
		info.Links = len(links)
		info.Preview = fmt.Sprintf("%d edges", len(links))
	case recAccess:
		as, err := decodeAccess(payload)
		if err != nil {
			return info, err
		}
		info.Accesses = len(as)
		info.Preview = fmt.Sprintf("%d accesses", len(as))
	case recPromote:
		id, _, err := decodePromote(payload)
		if err != nil {
			return info, err
		}
		info.MemoryID = id
	default:
		return info, fmt.Errorf("engine: unknown record type %d", t)
	}
	return info, nil
}
