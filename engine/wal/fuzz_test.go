package wal

import (
	"bytes"
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
	"testing"
)

// seedSegment returns a small valid segment holding a few records.
func seedSegment() []byte {
	seg := make([]byte, headerSize)
	encodeHeader(seg, SegmentHeader{Seq: 1, Space: "fuzz", FirstLSN: 1})
	for i, p := range [][]byte{nil, []byte("a"), []byte(frameMarkerBytes + "payload with a marker"), bytes.Repeat([]byte{0xd7}, 40)} {
		seg = appendFrame(seg, uint64(i+1), RecordType(i+1), int64(1e18)+int64(i), p)
	}
	return seg
}

// FuzzDecodeFrame checks that decoding arbitrary bytes never panics or reads out of bounds, and
// that whatever decodes re-encodes to the same bytes.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(appendFrame(nil, 1, 1, 0, nil))
	f.Add(appendFrame(nil, 42, 200, 1_700_000_000_000_000_000, []byte("hello, wal")))
	f.Add([]byte(frameMarkerBytes))
	f.Add(seedSegment()[headerSize:])
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, reason := decodeFrame(b)
		if fr.size < 0 || (fr.size > 0 && fr.size < frameOverhead) {
			t.Fatalf("frame size %d", fr.size)
		}
		if reason != "" {
			return
		}
		if fr.size > len(b) || fr.typ == 0 {
			t.Fatalf("intact frame of size %d type %d from %d bytes", fr.size, fr.typ, len(b))
		}
		again := appendFrame(nil, fr.lsn, fr.typ, fr.unixNano, fr.payload)
		if !bytes.Equal(again, b[:fr.size]) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, b[:fr.size])
		}
	})
}

// FuzzScanSegment runs whole-segment scanning and recovery over arbitrary bytes: no panic, the
// scan always ends, every byte after the header is accounted for exactly once, intact LSNs
// increase, and recovering the repaired output finds no damage.
func FuzzScanSegment(f *testing.F) {
	seg := seedSegment()
	f.Add(seg)
	f.Add(seg[:len(seg)-5])
	f.Add(seg[:headerSize+10])
	damaged := bytes.Clone(seg)
	damaged[headerSize+frmPayloadOff+frameOverhead] ^= 1
	f.Add(damaged)
	f.Add(append(bytes.Clone(seg[:headerSize]), bytes.Repeat([]byte(frameMarkerBytes), 20)...))
	f.Add([]byte{})
	f.Add(append(bytes.Clone(seg), make([]byte, 300)...)) // an unused runway
	f.Fuzz(func(t *testing.T, data []byte) {
		var covered int64
		var prev uint64
		next := int64(min(len(data), headerSize))
		st, err := scanBytes(data, func(fr Frame) error {
			if fr.Offset != next || len(fr.Raw) == 0 {
				t.Fatalf("frame at %d (%d bytes), expected one at %d", fr.Offset, len(fr.Raw), next)
			}
			next += int64(len(fr.Raw))
			covered += int64(len(fr.Raw))
			if fr.Err == nil {
				if fr.LSN <= prev && prev != 0 {
					t.Fatalf("LSN %d after %d", fr.LSN, prev)
				}
				prev = fr.LSN
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(max(0, len(data)-headerSize)); covered+st.Unwritten != want {
			t.Fatalf("frames cover %d bytes and %d are unwritten, want %d", covered, st.Unwritten, want)
		}
		if st.Unwritten > 0 && !allZero(data[len(data)-int(st.Unwritten):]) {
			t.Fatalf("%d unwritten bytes at the end are not all zero", st.Unwritten)
		}
		for _, isLast := range []bool{false, true} {
			r, err := recoverSegment(segmentFile{seq: 1}, data, isLast, 0, "fuzz", nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.records != st.Records {
				t.Fatalf("recovery kept %d records, scan found %d", r.records, st.Records)
			}
			if r.rewrite == nil {
				continue
			}
			again, err := recoverSegment(segmentFile{seq: 1}, r.rewrite, isLast, 0, "fuzz", nil)
			if err != nil || again.corrupted != 0 || again.tornBytes != 0 || again.rewrite != nil || again.records != r.records {
				t.Fatalf("repaired segment is not clean: %+v, %v", again, err)
			}
		}
	})
}

func TestHeaderRoundTrip(t *testing.T) {
	var b [headerSize]byte
	encodeHeader(b[:], SegmentHeader{Seq: 7, Space: "tenant-a", FirstLSN: 1234})
	h, err := decodeHeader(b[:])
	if err != nil || h.Seq != 7 || h.Space != "tenant-a" || h.FirstLSN != 1234 || h.Version != formatVersion {
		t.Fatalf("decoded %+v, %v", h, err)
	}
	for i := range headerSize {
		c := b
		c[i] ^= 0x10
		if _, err := decodeHeader(c[:]); err == nil {
			t.Fatalf("flip at header byte %d not detected", i)
		}
	}
	if _, err := decodeHeader(b[:headerSize-1]); err == nil {
		t.Fatal("short header accepted")
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	good := appendFrame(nil, 9, 3, 5, []byte("payload"))
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		reason string
	}{
		{"intact", func(b []byte) []byte { return b }, ""},
		{"marker", func(b []byte) []byte { b[0] ^= 1; return b }, reasonMarker},
		{"length", func(b []byte) []byte { b[frmLenOff] ^= 1; return b }, reasonHeaderSum},
		{"lsn", func(b []byte) []byte { b[frmLSNOff] ^= 1; return b }, reasonHeaderSum},
		{"time", func(b []byte) []byte { b[frmTimeOff] ^= 1; return b }, reasonHeaderSum},
		{"header sum", func(b []byte) []byte { b[frmHdrSumOff] ^= 1; return b }, reasonHeaderSum},
		{"payload", func(b []byte) []byte { b[frmPayloadOff] ^= 1; return b }, reasonRecordSum},
		{"record sum", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, reasonRecordSum},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, reasonTruncated},
		{"header only", func(b []byte) []byte { return b[:frameHeaderSize-1] }, reasonShortHeader},
		{"type 0", func(b []byte) []byte { return resum(b, func(b []byte) { b[frmTypeOff] = 0 }) }, reasonType},
		{"reserved", func(b []byte) []byte { return resum(b, func(b []byte) { b[frmTypeOff+2] = 1 }) }, reasonReserved},
		{"huge length", func(b []byte) []byte {
			return resum(b, func(b []byte) { binary.LittleEndian.PutUint32(b[frmLenOff:], MaxPayloadBytes+1) })
		}, reasonTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr, reason := decodeFrame(tt.mutate(bytes.Clone(good)))
			if reason != tt.reason {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
			if reason == "" && (fr.lsn != 9 || fr.typ != 3 || fr.unixNano != 5 || string(fr.payload) != "payload") {
				t.Fatalf("decoded %+v", fr)
			}
		})
	}
}

// resum applies edit to a frame's header fields and recomputes the header checksum, producing a
// header that checks out but carries an invalid value.
func resum(b []byte, edit func([]byte)) []byte {
	edit(b)
	binary.LittleEndian.PutUint32(b[frmHdrSumOff:], uint32(xxhash.Sum64(b[frmLenOff:frmHdrSumOff])))
	return b
}
