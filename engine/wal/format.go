package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Segment header layout (docs/formats/wal.md, "Segment header"). All integers little endian.
const (
	segmentMagic  = "ENGRMWAL"
	formatVersion = 1
	headerSize    = 128

	hdrMagicOff    = 0   // [8]byte segmentMagic
	hdrVersionOff  = 8   // uint16 formatVersion
	hdrSpaceLenOff = 10  // uint8 length of the space name
	hdrSeqOff      = 16  // uint64 segment sequence, equal to the file name's
	hdrFirstLSNOff = 24  // uint64 LSN of the first record the segment was created for
	hdrCreatedOff  = 32  // int64 creation time, unix nanoseconds
	hdrSpaceOff    = 40  // [64]byte space name, zero padded
	hdrSumOff      = 120 // uint64 xxhash64 of bytes [0, 120)
)

// Record frame layout (docs/formats/wal.md, "Record frame").
const (
	// frameMarker starts every frame. A reader that lost its place searches for these four bytes
	// and accepts a position only if a whole frame decodes there.
	frameMarker      uint32 = 0xE13C5AD7
	frameMarkerBytes        = "\xd7\x5a\x3c\xe1"

	frameHeaderSize  = 32
	frameTrailerSize = 8
	frameOverhead    = frameHeaderSize + frameTrailerSize

	frmLenOff     = 4  // uint32 payload length
	frmLSNOff     = 8  // uint64 LSN
	frmTimeOff    = 16 // int64 append time, unix nanoseconds
	frmTypeOff    = 24 // uint8 record type, 1..255
	frmHdrSumOff  = 28 // uint32 low half of xxhash64(bytes [4, 28))
	frmPayloadOff = frameHeaderSize

	// MaxPayloadBytes is the largest payload one record may carry.
	MaxPayloadBytes = 256 << 20
)

// SegmentHeader is the decoded header of a segment file.
type SegmentHeader struct {
	Version  uint16
	Seq      uint64 // sequence number, also encoded in the file name
	Space    string // informational
	FirstLSN uint64 // every record in the segment has an LSN ≥ FirstLSN
	Created  time.Time
}

// encodeHeader writes h into dst[:headerSize].
func encodeHeader(dst []byte, h SegmentHeader) {
	hdr := dst[:headerSize]
	clear(hdr)
	copy(hdr[hdrMagicOff:], segmentMagic)
	binary.LittleEndian.PutUint16(hdr[hdrVersionOff:], formatVersion)
	hdr[hdrSpaceLenOff] = byte(len(h.Space))
	binary.LittleEndian.PutUint64(hdr[hdrSeqOff:], h.Seq)
	binary.LittleEndian.PutUint64(hdr[hdrFirstLSNOff:], h.FirstLSN)
	binary.LittleEndian.PutUint64(hdr[hdrCreatedOff:], uint64(h.Created.UnixNano()))
	copy(hdr[hdrSpaceOff:hdrSpaceOff+MaxSpaceBytes], h.Space)
	binary.LittleEndian.PutUint64(hdr[hdrSumOff:], xxhash.Sum64(hdr[:hdrSumOff]))
}

// decodeHeader parses a segment header; the error wraps ErrCorrupt.
func decodeHeader(b []byte) (SegmentHeader, error) {
	var h SegmentHeader
	if len(b) < headerSize {
		return h, fmt.Errorf("%w: segment header: %d of %d bytes", ErrCorrupt, len(b), headerSize)
	}
	if string(b[hdrMagicOff:hdrMagicOff+len(segmentMagic)]) != segmentMagic {
		return h, fmt.Errorf("%w: segment header: bad magic %q", ErrCorrupt, b[hdrMagicOff:hdrMagicOff+len(segmentMagic)])
	}
	if sum := xxhash.Sum64(b[:hdrSumOff]); sum != binary.LittleEndian.Uint64(b[hdrSumOff:]) {
		return h, fmt.Errorf("%w: segment header: checksum mismatch", ErrCorrupt)
	}
	h.Version = binary.LittleEndian.Uint16(b[hdrVersionOff:])
	if h.Version != formatVersion {
		return h, fmt.Errorf("%w: segment header: unsupported format version %d", ErrCorrupt, h.Version)
	}
	n := int(b[hdrSpaceLenOff])
	if n > MaxSpaceBytes {
		return h, fmt.Errorf("%w: segment header: space name length %d", ErrCorrupt, n)
	}
	h.Seq = binary.LittleEndian.Uint64(b[hdrSeqOff:])
	h.FirstLSN = binary.LittleEndian.Uint64(b[hdrFirstLSNOff:])
	h.Created = time.Unix(0, int64(binary.LittleEndian.Uint64(b[hdrCreatedOff:])))
	h.Space = string(b[hdrSpaceOff : hdrSpaceOff+n])
	return h, nil
}

// appendFrame appends one encoded frame to dst. It allocates only when dst must grow.
func appendFrame(dst []byte, lsn uint64, typ RecordType, unixNano int64, payload []byte) []byte {
	start := len(dst)
	size := frameOverhead + len(payload)
	if cap(dst)-start < size {
		grown := make([]byte, start, 2*cap(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+size]
	f := dst[start:]
	binary.LittleEndian.PutUint32(f, frameMarker)
	binary.LittleEndian.PutUint32(f[frmLenOff:], uint32(len(payload)))
	binary.LittleEndian.PutUint64(f[frmLSNOff:], lsn)
	binary.LittleEndian.PutUint64(f[frmTimeOff:], uint64(unixNano))
	f[frmTypeOff], f[frmTypeOff+1], f[frmTypeOff+2], f[frmTypeOff+3] = byte(typ), 0, 0, 0
	binary.LittleEndian.PutUint32(f[frmHdrSumOff:], uint32(xxhash.Sum64(f[frmLenOff:frmHdrSumOff])))
	end := frmPayloadOff + copy(f[frmPayloadOff:], payload)
	binary.LittleEndian.PutUint64(f[end:], xxhash.Sum64(f[frmLenOff:end]))
	return dst
}

// frame is a decoded view of one frame; payload aliases the decoded buffer.
type frame struct {
	lsn      uint64
	typ      RecordType
	unixNano int64
	payload  []byte
	size     int // whole frame length; > 0 whenever the frame header checked out
}

// Reasons a frame does not decode. They end up in Frame.Err and in log lines.
const (
	reasonShortHeader = "incomplete frame header"
	reasonMarker      = "no sync marker"
	reasonHeaderSum   = "frame header checksum mismatch"
	reasonReserved    = "reserved frame bytes set"
	reasonType        = "record type 0"
	reasonTooLarge    = "payload length over the limit"
	reasonTruncated   = "frame runs past the end of the segment"
	reasonRecordSum   = "record checksum mismatch"
	reasonLSNOrder    = "LSN not above the previous record's"
)

// decodeFrame decodes the frame at the start of b. reason is empty when the whole frame is
// intact. f.size is set as soon as the frame header checks out, even if the rest is damaged, so
// callers can tell a damaged record from noise. decodeFrame never reads outside b.
func decodeFrame(b []byte) (f frame, reason string) {
	if len(b) < frameHeaderSize {
		if len(b) >= 4 && binary.LittleEndian.Uint32(b) != frameMarker {
			return f, reasonMarker
		}
		return f, reasonShortHeader
	}
	if binary.LittleEndian.Uint32(b) != frameMarker {
		return f, reasonMarker
	}
	if uint32(xxhash.Sum64(b[frmLenOff:frmHdrSumOff])) != binary.LittleEndian.Uint32(b[frmHdrSumOff:]) {
		return f, reasonHeaderSum
	}
	if b[frmTypeOff+1]|b[frmTypeOff+2]|b[frmTypeOff+3] != 0 {
		return f, reasonReserved
	}
	f.typ = RecordType(b[frmTypeOff])
	if f.typ == 0 {
		return f, reasonType
	}
	n := binary.LittleEndian.Uint32(b[frmLenOff:])
	if n > MaxPayloadBytes {
		return f, reasonTooLarge
	}
	f.lsn = binary.LittleEndian.Uint64(b[frmLSNOff:])
	f.unixNano = int64(binary.LittleEndian.Uint64(b[frmTimeOff:]))
	f.size = frameOverhead + int(n)
	if len(b) < f.size {
		return f, reasonTruncated
	}
	end := frmPayloadOff + int(n)
	if xxhash.Sum64(b[frmLenOff:end]) != binary.LittleEndian.Uint64(b[end:]) {
		return f, reasonRecordSum
	}
	f.payload = b[frmPayloadOff:end:end]
	return f, ""
}

// frameSize returns the length of the well-formed frame at the start of b (written by this
// process, so not checked again).
func frameSize(b []byte) int {
	return frameOverhead + int(binary.LittleEndian.Uint32(b[frmLenOff:]))
}

// frameLSN returns the LSN of the well-formed frame at the start of b.
func frameLSN(b []byte) uint64 { return binary.LittleEndian.Uint64(b[frmLSNOff:]) }

// frameTime returns the append time of the well-formed frame at the start of b.
func frameTime(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b[frmTimeOff:])) }

// indexMarker returns the index of the first frame marker in b, or -1.
func indexMarker(b []byte) int { return bytes.Index(b, []byte(frameMarkerBytes)) }
