package tier

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// sampleIDMap is the table of ids a, b, c at rows 0, 1, 2, built as the format says.
func sampleIDMap() IDMap {
	ids := []string{"a", "b", "c"}
	sum := NewIDSum()
	slots := make([]uint64, IDTableSlots(len(ids)))
	mask := uint64(len(slots) - 1)
	for row, id := range ids {
		sum.Add(id)
		h := xxhash.Sum64String(id)
		i := h & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = IDSlot(h, uint32(row))
	}
	return IDMap{DerivedHeader{LSN: 7, Rows: uint64(len(ids)), IDSum: sum.Sum(), Count: uint64(len(slots))}, slots}
}

func encodeIDMap(t testing.TB, m IDMap) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ids")
	if err := WriteIDMap(path, m.DerivedHeader, m.Slots); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIDMapRoundTrip(t *testing.T) {
	for _, want := range []IDMap{sampleIDMap(), {DerivedHeader{LSN: 1, Count: 1}, []uint64{0}}} {
		got, err := DecodeIDMap(encodeIDMap(t, want))
		if err != nil {
			t.Fatal(err)
		}
		if got.DerivedHeader != want.DerivedHeader || !slices.Equal(got.Slots, want.Slots) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	if n := IDTableSlots(1_000_000); n != 1<<21 {
		t.Fatalf("IDTableSlots(1e6) = %d", n)
	}
}

// TestIDMapRejects: WriteIDMap refuses tables that break the format, and DecodeIDMap
// reports damage as ErrCorrupt and other versions as ErrVersion.
func TestIDMapRejects(t *testing.T) {
	good := sampleIDMap()
	used := slices.IndexFunc(good.Slots, func(s uint64) bool { return s != 0 })
	edit := func(f func(m *IDMap)) IDMap {
		m := IDMap{good.DerivedHeader, slices.Clone(good.Slots)}
		f(&m)
		return m
	}
	tables := []struct {
		name string
		m    IDMap
	}{
		{"not a power of two", edit(func(m *IDMap) { m.Slots = append(m.Slots, 0) })},
		{"no empty slot", edit(func(m *IDMap) { m.Rows = uint64(len(m.Slots)) })},
		{"a row missing", edit(func(m *IDMap) { m.Slots[used] = 0 })},
		{"a row twice", edit(func(m *IDMap) {
			free := slices.Index(m.Slots, 0)
			m.Slots[free] = m.Slots[used]
		})},
		{"a row out of range", edit(func(m *IDMap) { m.Slots[used] = IDSlot(0, 3) })},
	}
	le := binary.LittleEndian
	for _, tt := range tables {
		if err := WriteIDMap(filepath.Join(t.TempDir(), "ids"), tt.m.DerivedHeader, tt.m.Slots); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("write %s: %v, want ErrInvalidArgument", tt.name, err)
		}
		// The same table behind intact framing.
		b := encodeIDMap(t, good)
		b = append(b[:derivedHeaderSize], make([]byte, 8*len(tt.m.Slots))...)
		for i, s := range tt.m.Slots {
			le.PutUint64(b[derivedHeaderSize+8*i:], s)
		}
		le.PutUint64(b[24:], tt.m.Rows)
		le.PutUint64(b[40:], uint64(len(tt.m.Slots)))
		resealRowGraph(b)
		if _, err := DecodeIDMap(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode %s: %v, want ErrCorrupt", tt.name, err)
		}
	}
	intact := encodeIDMap(t, good)
	damage := []struct {
		name    string
		f       func(b []byte) []byte
		version bool
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, false},
		{"empty", func(b []byte) []byte { return nil }, false},
		{"bit flip", func(b []byte) []byte { b[derivedHeaderSize+3] ^= 4; return b }, false},
		{"count off", func(b []byte) []byte { le.PutUint64(b[40:], 2); resealRowGraph(b); return b }, false},
		{"other magic", func(b []byte) []byte { copy(b, lexicalMagic); resealRowGraph(b); return b }, false},
		{"version 2", func(b []byte) []byte { le.PutUint16(b[8:], 2); resealRowGraph(b); return b }, true},
	}
	for _, d := range damage {
		_, err := DecodeIDMap(d.f(slices.Clone(intact)))
		if want := map[bool]error{false: ErrCorrupt, true: ErrVersion}[d.version]; !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", d.name, err, want)
		}
	}
}

// FuzzDecodeIDMap feeds arbitrary bytes to DecodeIDMap, as they are and with their
// checksums made right: it never panics, fails only with ErrCorrupt or ErrVersion, and a
// table it accepts names each row below the header's rows exactly once, with a slot free.
func FuzzDecodeIDMap(f *testing.F) {
	f.Add(encodeIDMap(f, sampleIDMap()))
	f.Add(encodeIDMap(f, IDMap{DerivedHeader{Count: 1}, []uint64{0}}))
	f.Add([]byte(idMapMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		resealed := slices.Clone(data)
		resealRowGraph(resealed)
		for _, b := range [][]byte{data, resealed} {
			m, err := DecodeIDMap(b)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
					t.Fatalf("error %v wraps neither ErrCorrupt nor ErrVersion", err)
				}
				continue
			}
			seen := make([]bool, m.Rows)
			free := false
			for _, s := range m.Slots {
				if s == 0 {
					free = true
					continue
				}
				row := IDSlotRow(s)
				if uint64(row) >= m.Rows || seen[row] {
					t.Fatalf("slot names row %d of %d, or twice", row, m.Rows)
				}
				seen[row] = true
			}
			if !free || slices.Contains(seen, false) || uint64(len(m.Slots)) != m.Count {
				t.Fatalf("accepted %d slots for %d rows", len(m.Slots), m.Rows)
			}
			if again := encodeIDMap(t, m); string(again) != string(b) {
				t.Fatalf("re-encoding differs")
			}
		}
	})
}
