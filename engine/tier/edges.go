package tier

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/internal/durable"
	"github.com/klauspost/compress/zstd"
)

// EdgeRecord is one directed association edge of a space's graph, as checkpointed.
type EdgeRecord struct {
	From, To string
	Weight   float32
	Kind     uint8
}

// Edges file (docs/formats/segment.md):
//
//	0   8  magic "ENGRMEDG"
//	8   2  version (1)
//	10  6  reserved, zero
//	16  8  edge count
//	24  8  uncompressed payload length
//	32  8  compressed payload length
//	40  8  xxHash64 of the compressed payload
//	48  8  xxHash64 of bytes 0–47
//	56  …  payload: one zstd frame
//
// The uncompressed payload is, per edge: uvarint len(From), From, uvarint len(To), To,
// Weight as little-endian float32 bits, Kind.
const (
	edgesMagic      = "ENGRMEDG"
	edgesVersion    = 1
	edgesHeaderSize = 56
	// maxEdgesRaw bounds the uncompressed payload a reader will produce.
	maxEdgesRaw = 1 << 36
)

// WriteEdges writes edges to path, zstd-compressed and checksummed, atomically
// (temporary file, fsync, rename, folder fsync). Weights must be finite.
func WriteEdges(path string, edges []EdgeRecord) error {
	var raw []byte
	for i, e := range edges {
		if !finite(e.Weight) {
			return fmt.Errorf("tier: write edges %s: %w: edge %d (%q → %q) has weight %v", path, ErrInvalidRecord, i, e.From, e.To, e.Weight)
		}
		raw = binary.AppendUvarint(raw, uint64(len(e.From)))
		raw = append(raw, e.From...)
		raw = binary.AppendUvarint(raw, uint64(len(e.To)))
		raw = append(raw, e.To...)
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(e.Weight))
		raw = append(raw, e.Kind)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithZeroFrames(true))
	if err != nil {
		return fmt.Errorf("tier: write edges %s: zstd encoder: %w", path, err)
	}
	buf := make([]byte, edgesHeaderSize, edgesHeaderSize+len(raw)/2)
	buf = enc.EncodeAll(raw, buf)
	enc.Close()
	payload := buf[edgesHeaderSize:]
	copy(buf, edgesMagic)
	binary.LittleEndian.PutUint16(buf[8:], edgesVersion)
	binary.LittleEndian.PutUint64(buf[16:], uint64(len(edges)))
	binary.LittleEndian.PutUint64(buf[24:], uint64(len(raw)))
	binary.LittleEndian.PutUint64(buf[32:], uint64(len(payload)))
	binary.LittleEndian.PutUint64(buf[40:], xxhash.Sum64(payload))
	binary.LittleEndian.PutUint64(buf[48:], xxhash.Sum64(buf[:48]))
	err = durable.WriteFile(path, 0o644, func(f *os.File) error {
		_, err := f.Write(buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("tier: write edges: %w", err)
	}
	return nil
}

// ReadEdges reads the edges file at path. Damage yields an error wrapping ErrCorrupt; a
// missing file is an error (a manifest that names an edges file promises it exists).
func ReadEdges(path string) ([]EdgeRecord, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tier: read edges: %w", err)
	}
	corrupt := func(format string, args ...any) error {
		return &CorruptError{File: "edges", Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) < edgesHeaderSize || string(data[:8]) != edgesMagic {
		return nil, corrupt("not an edges file (%d bytes)", len(data))
	}
	if xxhash.Sum64(data[:48]) != binary.LittleEndian.Uint64(data[48:]) {
		return nil, corrupt("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint16(data[8:]); v != edgesVersion {
		return nil, fmt.Errorf("tier: read edges %s: %w: version %d", path, ErrVersion, v)
	}
	if !allZero(data[10:16]) {
		return nil, corrupt("reserved bytes are not zero")
	}
	count := binary.LittleEndian.Uint64(data[16:])
	rawLen := binary.LittleEndian.Uint64(data[24:])
	payload := data[edgesHeaderSize:]
	if got := binary.LittleEndian.Uint64(data[32:]); got != uint64(len(payload)) {
		return nil, corrupt("payload is %d bytes, the header says %d", len(payload), got)
	}
	if xxhash.Sum64(payload) != binary.LittleEndian.Uint64(data[40:]) {
		return nil, corrupt("payload checksum mismatch")
	}
	// Each edge takes at least 7 bytes (two empty strings, weight, kind).
	if rawLen > maxEdgesRaw || count > rawLen/7 {
		return nil, corrupt("%d edges in %d uncompressed bytes", count, rawLen)
	}
	// The limit also caps the window the frame may declare, so it never goes below the
	// window a small payload is encoded with; the length check below is the exact one.
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(max(rawLen, 1<<20)))
	if err != nil {
		return nil, fmt.Errorf("tier: read edges %s: zstd decoder: %w", path, err)
	}
	defer dec.Close()
	raw, err := dec.DecodeAll(payload, make([]byte, 0, rawLen))
	if err != nil {
		return nil, corrupt("payload: %v", err)
	}
	if uint64(len(raw)) != rawLen {
		return nil, corrupt("payload decompressed to %d bytes, the header says %d", len(raw), rawLen)
	}
	edges := make([]EdgeRecord, 0, count)
	str := func() (string, bool) {
		l, n := binary.Uvarint(raw)
		if n <= 0 || l > uint64(len(raw)-n) {
			return "", false
		}
		s := string(raw[n : n+int(l)])
		raw = raw[n+int(l):]
		return s, true
	}
	for i := range count {
		from, ok1 := str()
		to, ok2 := str()
		if !ok1 || !ok2 || len(raw) < 5 {
			return nil, corrupt("edge %d is cut short", i)
		}
		e := EdgeRecord{From: from, To: to, Weight: math.Float32frombits(binary.LittleEndian.Uint32(raw)), Kind: raw[4]}
		raw = raw[5:]
		edges = append(edges, e)
	}
	if len(raw) != 0 {
		return nil, corrupt("%d bytes after the last edge", len(raw))
	}
	return edges, nil
}
