package engine

import (
	"github.com/cespare/xxhash/v2"

	"github.com/engram-go/engram/engine/tier"
)

// idMap maps the id of every live memory of a space to its row, in two parts: a table
// of the rows a checkpoint loaded (the id map file's layout, docs/formats/idmap.md),
// read from that file or built in one pass at opening, and a Go map of the ids given a
// row after it (the WAL tail, then every remember). A table entry only says where an id
// was loaded: it counts while that row is live and holds the id, and rows are never
// reused, so forgetting or replacing a loaded memory leaves its entry to fail that check
// instead of removing it. An id is live in at most one part; the later part is looked at
// first.
type idMap struct {
	slots []uint64 // tier.IDSlot values, len a power of two; nil when nothing was loaded
	later map[string]uint32
}

func newIDMap() idMap { return idMap{later: map[string]uint32{}} }

// get returns the row of the live memory with id. rows is state.byRow.
func (m *idMap) get(id string, rows []*liveMemory) (uint32, bool) {
	if len(m.later) > 0 {
		if row, ok := m.later[id]; ok {
			return row, true
		}
	}
	if m.slots == nil {
		return 0, false
	}
	h := xxhash.Sum64String(id)
	tag, mask := tier.IDSlotTag(h), uint64(len(m.slots)-1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := m.slots[i]
		if s == 0 {
			return 0, false
		}
		if tier.IDSlotTag(s) == tag {
			row := tier.IDSlotRow(s)
			if lm := rows[row]; lm != nil && lm.m.ID == id {
				return row, true
			}
		}
	}
}

// put gives id the row row, which is past every row of the table.
func (m *idMap) put(id string, row uint32) { m.later[id] = row }

// remove forgets that id is at row, which is being killed.
func (m *idMap) remove(id string, row uint32) {
	if r, ok := m.later[id]; ok && r == row {
		delete(m.later, id)
	}
}

// buildIDTable returns the table of rows 0…n-1, whose ids id gives, and the rows whose
// id a later row has too (superseded: the later row keeps the id, as replaying the
// memories in row order would leave it).
func buildIDTable(n int, id func(row uint32) string) (slots []uint64, superseded []uint32) {
	slots = make([]uint64, tier.IDTableSlots(n))
	mask := uint64(len(slots) - 1)
	for row := range uint32(n) {
		s := id(row)
		h := xxhash.Sum64String(s)
		tag := tier.IDSlotTag(h)
		for i := h & mask; ; i = (i + 1) & mask {
			old := slots[i]
			if old == 0 {
				slots[i] = tier.IDSlot(h, row)
				break
			}
			if tier.IDSlotTag(old) == tag && id(tier.IDSlotRow(old)) == s {
				superseded = append(superseded, tier.IDSlotRow(old))
				slots[i] = tier.IDSlot(h, row)
				break
			}
		}
	}
	return slots, superseded
}
