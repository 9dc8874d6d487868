package engine

import (
	"fmt"

	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
)

// RecordInfo is a readable summary of one engine WAL record, for offline inspection.
type RecordInfo struct {
	Type     wal.RecordType
	MemoryID string // the memory the record is about ("" for access batches)
	Preview  string // content preview (remember), edge or access counts
	Memory   *Memory
	Links    int
	Accesses int
}

// DescribeRecord decodes a record's payload into a summary. Payloads are documented in
// docs/formats/records.md.
func DescribeRecord(t wal.RecordType, payload []byte) (RecordInfo, error) {
	info := RecordInfo{Type: t}
	switch t {
	case record.TypeRemember:
		m, raw, err := decodeMemory(payload)
		if err != nil {
			return info, err
		}
		m.Embedding = raw
		info.MemoryID = m.ID
		info.Preview = preview(m.Content, 60)
		info.Memory = &m
	case record.TypeForget:
		id, err := record.DecodeForget(payload)
		if err != nil {
			return info, err
		}
		info.MemoryID = id
	case record.TypeLinks:
		src, _, links, err := record.DecodeLinks(payload)
		if err != nil {
			return info, err
		}
		info.MemoryID = src
		info.Links = len(links)
		info.Preview = fmt.Sprintf("%d edges", len(links))
	case record.TypeAccess:
		as, err := record.DecodeAccess(payload)
		if err != nil {
			return info, err
		}
		info.Accesses = len(as)
		info.Preview = fmt.Sprintf("%d accesses", len(as))
	case record.TypePromote:
		id, _, err := record.DecodePromote(payload)
		if err != nil {
			return info, err
		}
		info.MemoryID = id
	default:
		return info, fmt.Errorf("engine: unknown record type %d", t)
	}
	return info, nil
}
