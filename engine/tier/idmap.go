package tier

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// The id map file (docs/formats/idmap.md) is a derived file (derived.go) holding the
// table that maps each memory id of a checkpoint to the row loading gives it: an
// open-addressing hash table of 2^k slots, each a uint64 (the upper 32 bits of the id's
// xxHash64, then the row + 1; 0 is an empty slot), probed linearly from the slot the low
// k bits of the hash name. Loading it replaces a hash-map insert per memory by one read.
// This package checks the table's structure: every row below the header's rows in
// exactly one slot, at least one slot empty. Whether each slot's tag and place agree
// with its row's id needs the ids, which the file does not hold; the checksum covers
// that, as it covers the lexical index's terms.
const (
	idMapMagic   = "ENGRMIDM"
	idMapVersion = 1
)

// IDMap is a decoded id map file.
type IDMap struct {
	DerivedHeader // Count is the number of slots
	Slots         []uint64
}

// IDSlot is the slot value of the row with an id whose xxHash64 is hash.
func IDSlot(hash uint64, row uint32) uint64 { return hash&^0xffffffff | uint64(row) + 1 }

// IDSlotRow is the row a non-empty slot names.
func IDSlotRow(slot uint64) uint32 { return uint32(slot) - 1 }

// IDSlotTag is the part of an id's xxHash64 a slot keeps: its upper 32 bits.
func IDSlotTag(hash uint64) uint64 { return hash &^ 0xffffffff }

// IDTableSlots is the number of slots a table of rows entries has: the least power of
// two above 4/3 of them, so that at most three slots in four are used and probes stay
// short.
func IDTableSlots(rows int) int {
	return 1 << bits.Len(uint(rows+rows/3))
}

// WriteIDMap writes an id map file to path atomically. Its slots must satisfy what
// DecodeIDMap checks.
func WriteIDMap(path string, h DerivedHeader, slots []uint64) error {
	if err := checkIDSlots(h.Rows, slots); err != "" {
		return fmt.Errorf("tier: write id map %s: %w: %s", path, ErrInvalidArgument, err)
	}
	buf := make([]byte, derivedHeaderSize, derivedHeaderSize+8*len(slots))
	for _, s := range slots {
		buf = binary.LittleEndian.AppendUint64(buf, s)
	}
	h.Count = uint64(len(slots))
	if err := writeDerived(path, idMapMagic, idMapVersion, h, buf); err != nil {
		return fmt.Errorf("tier: write id map: %w", err)
	}
	return nil
}

// ReadIDMap reads the id map file at path (see DecodeIDMap).
func ReadIDMap(path string) (IDMap, error) {
	return readDerived(path, "id map", DecodeIDMap)
}

// DecodeIDMap decodes an id map file. Damage yields an error wrapping ErrCorrupt, a
// version other than 1 one wrapping ErrVersion. A decoded table has a power-of-two number
// of slots, more than its rows, and names every row below the header's rows exactly once.
func DecodeIDMap(data []byte) (IDMap, error) {
	h, payload, err := decodeDerived(data, idMapMagic, idMapVersion, "id map")
	if err != nil {
		return IDMap{}, err
	}
	if h.Count != uint64(len(payload))/8 || len(payload)%8 != 0 {
		return IDMap{}, &CorruptError{File: "id map", Reason: fmt.Sprintf("payload is %d bytes for %d slots", len(payload), h.Count)}
	}
	slots := make([]uint64, h.Count)
	for i := range slots {
		slots[i] = binary.LittleEndian.Uint64(payload[8*i:])
	}
	if why := checkIDSlots(h.Rows, slots); why != "" {
		return IDMap{}, &CorruptError{File: "id map", Reason: why}
	}
	return IDMap{h, slots}, nil
}

// checkIDSlots says what is wrong with a table of slots for rows rows, or "".
func checkIDSlots(rows uint64, slots []uint64) string {
	n := uint64(len(slots))
	if n == 0 || n&(n-1) != 0 || n <= rows {
		return fmt.Sprintf("%d slots for %d rows (want a power of two above the rows)", n, rows)
	}
	seen := NewBitmap(int(rows))
	for i, s := range slots {
		if s == 0 {
			continue
		}
		row := IDSlotRow(s)
		if uint64(row) >= rows || uint32(s) == 0 {
			return fmt.Sprintf("slot %d names row %d of %d", i, int64(uint32(s))-1, rows)
		}
		if seen.Has(int(row)) {
			return fmt.Sprintf("row %d is in two slots", row)
		}
		seen.Set(int(row))
	}
	if uint64(seen.Count()) != rows {
		return fmt.Sprintf("%d of %d rows have a slot", seen.Count(), rows)
	}
	return ""
}
