package tier

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// damageSegments returns one warm and one cold segment in which every section and some
// padding are non-empty.
func damageSegments(t *testing.T) map[Kind][]byte {
	t.Helper()
	recs := makeRecords(31, recordSet{n: 77, dim: 5, noVectorEvery: 4, metaMax: 90})
	out := make(map[Kind][]byte)
	for _, kind := range []Kind{KindWarm, KindCold} {
		b, err := os.ReadFile(writeTemp(t, kind, 5, recs))
		if err != nil {
			t.Fatal(err)
		}
		refs := sectionRefs(b)
		for s := range numSections {
			if refs[s].length == 0 && !(kind == KindWarm && s == secScales) {
				t.Fatalf("%s %s section is empty; the damage test needs it filled", kind, s)
			}
		}
		out[kind] = b
	}
	return out
}

func openBytes(t *testing.T, b []byte) (*Segment, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seg")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSegment(path)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

func wantCorrupt(t *testing.T, err error, section string) {
	t.Helper()
	var ce *CorruptError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a *CorruptError", err)
	}
	if ce.Section != section {
		t.Fatalf("error names section %q, want %q (%v)", ce.Section, section, err)
	}
}

func TestOpenSegmentDetectsFlippedBytes(t *testing.T) {
	for kind, good := range damageSegments(t) {
		refs := sectionRefs(good)
		type flip struct {
			name    string
			at      int
			section string
		}
		flips := []flip{
			{"magic", 0, "header"},
			{"kind", hdrKind, "header"},
			{"count", hdrCount, "header"},
			{"section table", hdrSections + 9, "header"},
			{"header checksum", hdrChecksum, "header"},
			{"reserved header byte", hdrChecksum - 1, "header"},
		}
		for s := range numSections {
			ref := refs[s]
			if ref.length == 0 {
				continue
			}
			for _, at := range []uint64{ref.offset, ref.offset + ref.length/2, ref.end() - 1} {
				flips = append(flips, flip{s.String(), int(at), s.String()})
			}
			if s > 0 && refs[s-1].end() < ref.offset {
				flips = append(flips, flip{"padding before " + s.String(), int(ref.offset - 1), "padding"})
			}
		}
		for _, f := range flips {
			t.Run(kind.String()+"/"+f.name, func(t *testing.T) {
				b := append([]byte(nil), good...)
				b[f.at] ^= 0x20
				_, err := openBytes(t, b)
				wantCorrupt(t, err, f.section)
			})
		}
	}
}

func TestOpenSegmentDetectsBadLength(t *testing.T) {
	for kind, good := range damageSegments(t) {
		refs := sectionRefs(good)
		tests := []struct {
			name    string
			size    int
			section string
		}{
			{"empty file", 0, "header"},
			{"half a header", headerSize / 2, "header"},
			{"header only", headerSize, "ids"},
			{"cut in meta", int(refs[secMeta].offset + 3), "meta"},
			{"cut in vectors", int(refs[secVectors].offset + refs[secVectors].length/2), "vectors"},
			{"last byte missing", len(good) - 1, "presence"},
			{"trailing byte", len(good) + 1, "file"},
			{"trailing page", len(good) + 4096, "file"},
		}
		for _, tt := range tests {
			t.Run(kind.String()+"/"+tt.name, func(t *testing.T) {
				b := make([]byte, tt.size)
				copy(b, good)
				_, err := openBytes(t, b)
				wantCorrupt(t, err, tt.section)
			})
		}
	}
}

// TestOpenSegmentChecksStructure forges files whose checksums are valid but whose contents
// break the format's rules: OpenSegment must still refuse them, naming the section.
func TestOpenSegmentChecksStructure(t *testing.T) {
	segs := damageSegments(t)
	u32 := binary.LittleEndian.PutUint32
	u64 := binary.LittleEndian.PutUint64
	tests := []struct {
		name    string
		kind    Kind
		forge   func(b []byte, refs [numSections]sectionRef)
		section string
	}{
		{"reserved header byte", KindWarm, func(b []byte, _ [numSections]sectionRef) { b[hdrReserved] = 1 }, "header"},
		{"unknown kind", KindWarm, func(b []byte, _ [numSections]sectionRef) { b[hdrKind] = 9 }, "header"},
		{"dimension too large", KindCold, func(b []byte, _ [numSections]sectionRef) { u32(b[hdrDim:], MaxDim+1) }, "header"},
		{"count larger than vectors", KindWarm, func(b []byte, _ [numSections]sectionRef) { u32(b[hdrCount:], 78) }, "vectors"},
		{"ids length past file", KindWarm, func(b []byte, _ [numSections]sectionRef) {
			u64(b[hdrSections+8:], 1<<62)
		}, "ids"},
		{"misplaced section", KindCold, func(b []byte, _ [numSections]sectionRef) {
			e := b[hdrSections+int(secNorms)*sectionEntrySize:]
			u64(e, binary.LittleEndian.Uint64(e)+64)
		}, "norms"},
		{"first id offset", KindWarm, func(b []byte, refs [numSections]sectionRef) { b[refs[secIDs].offset] = 1 }, "ids"},
		{"ids out of order", KindCold, func(b []byte, refs [numSections]sectionRef) {
			sorted := b[refs[secIDs].offset+4*78:]
			a, c := binary.LittleEndian.Uint32(sorted), binary.LittleEndian.Uint32(sorted[4:])
			u32(sorted, c)
			u32(sorted[4:], a)
		}, "ids"},
		{"index names missing record", KindWarm, func(b []byte, refs [numSections]sectionRef) {
			u32(b[refs[secIDs].offset+4*78:], 77)
		}, "ids"},
		{"warm meta offset", KindWarm, func(b []byte, refs [numSections]sectionRef) {
			u64(b[refs[secMeta].offset+8:], 1<<40)
		}, "meta"},
		{"cold block count", KindCold, func(b []byte, refs [numSections]sectionRef) {
			u32(b[refs[secMeta].offset:], 1000)
		}, "meta"},
		{"cold block raw length", KindCold, func(b []byte, refs [numSections]sectionRef) {
			u32(b[refs[secMeta].offset+metaTableHeader+4:], 2)
		}, "meta"},
		{"cold block first record", KindCold, func(b []byte, refs [numSections]sectionRef) {
			u32(b[refs[secMeta].offset+metaTableHeader+metaBlockEntry:], 0)
		}, "meta"},
		{"presence past last record", KindWarm, func(b []byte, refs [numSections]sectionRef) {
			b[refs[secPresence].end()-1] |= 0x80
		}, "presence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := append([]byte(nil), segs[tt.kind]...)
			tt.forge(b, sectionRefs(b))
			reseal(b)
			_, err := openBytes(t, b)
			wantCorrupt(t, err, tt.section)
		})
	}
}

func TestOpenSegmentVersion(t *testing.T) {
	b := append([]byte(nil), damageSegments(t)[KindWarm]...)
	binary.LittleEndian.PutUint16(b[hdrVersion:], segmentVersion+1)
	reseal(b)
	_, err := openBytes(t, b)
	if !errors.Is(err, ErrVersion) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("OpenSegment = %v, want ErrVersion", err)
	}
}

func TestOpenSegmentMissingFile(t *testing.T) {
	_, err := OpenSegment(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenSegment = %v, want a not-exist error", err)
	}
}

// TestVerifyDetectsForgedBlock replaces a cold metadata block with a valid zstd frame of
// the wrong contents behind valid checksums: Open cannot see it, Meta returns nil and
// Verify reports it.
func TestVerifyDetectsForgedBlock(t *testing.T) {
	b := append([]byte(nil), damageSegments(t)[KindCold]...)
	refs := sectionRefs(b)
	meta := b[refs[secMeta].offset:refs[secMeta].end()]
	data := meta[metaTableHeader+metaBlockEntry*int(binary.LittleEndian.Uint32(meta)):]
	for i := range data[:8] {
		data[i] ^= 0xff // wreck the first frame's header
	}
	reseal(b)
	s, err := openBytes(t, b)
	if err != nil {
		t.Fatalf("OpenSegment: %v", err)
	}
	if m := s.Meta(0); m != nil {
		t.Errorf("Meta(0) = %q from a wrecked block, want nil", m)
	}
	wantCorrupt(t, s.Verify(), "meta")
}

// TestOpenSegmentRejectsEveryFlip flips each byte of small segments in turn: every byte of
// a segment is covered by a checksum or the zero-padding rule, so each flip is an error.
func TestOpenSegmentRejectsEveryFlip(t *testing.T) {
	recs := makeRecords(32, recordSet{n: 9, dim: 3, noVectorEvery: 4, metaMax: 20})
	for _, kind := range []Kind{KindWarm, KindCold} {
		good, err := os.ReadFile(writeTemp(t, kind, 3, recs))
		if err != nil {
			t.Fatal(err)
		}
		for at := range good {
			b := append([]byte(nil), good...)
			b[at] ^= 1 << (at % 8)
			if _, err := parseSegment("seg", b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: flipping byte %d of %d: error %v, want ErrCorrupt", kind, at, len(good), err)
			}
		}
	}
}
