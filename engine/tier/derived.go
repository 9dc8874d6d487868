package tier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/internal/durable"
)

// Derived files (docs/formats/rowgraph.md, lexical.md, hnsw.md, idmap.md) hold structures
// the engine can rebuild from the memories of a checkpoint, saved so that opening a space
// does not have to. They share one 64-byte header:
//
//	0   8  magic
//	8   2  version (per format: 2 for the row graph and the HNSW graph, 1 for the others)
//	10  6  reserved, zero
//	16  8  checkpoint LSN
//	24  8  rows
//	32  8  id sum (IDSum of the rows' memory ids)
//	40  8  count: what the payload holds, per format
//	48  8  xxHash64 of the payload
//	56  8  xxHash64 of bytes 0–55
//	64  …  payload
const (
	lexicalVersion    = 1
	hnswVersion       = 2 // 1 also saved each layer-0 link's similarity
	derivedHeaderSize = 64
)

// DerivedHeader is what a derived file says about the checkpoint it belongs to: its LSN,
// the number of rows loading it gives, and the sum of those rows' ids in order.
type DerivedHeader struct {
	LSN   uint64
	Rows  uint64
	IDSum uint64
	Count uint64
}

// IDSum hashes memory ids in row order, each followed by a zero byte, for
// DerivedHeader.IDSum.
type IDSum struct{ d *xxhash.Digest }

// NewIDSum returns an empty id sum.
func NewIDSum() IDSum { return IDSum{xxhash.New()} }

// Add appends id.
func (s IDSum) Add(id string) {
	_, _ = s.d.WriteString(id)
	_, _ = s.d.Write([]byte{0})
}

// Sum returns the hash of the ids added so far.
func (s IDSum) Sum() uint64 { return s.d.Sum64() }

// writeDerived fills the header of buf (whose payload starts at derivedHeaderSize) and
// writes it to path atomically (temporary file, fsync, rename, folder fsync).
func writeDerived(path, magic string, version uint16, h DerivedHeader, buf []byte) error {
	copy(buf, magic)
	binary.LittleEndian.PutUint16(buf[8:], version)
	clear(buf[10:16])
	binary.LittleEndian.PutUint64(buf[16:], h.LSN)
	binary.LittleEndian.PutUint64(buf[24:], h.Rows)
	binary.LittleEndian.PutUint64(buf[32:], h.IDSum)
	binary.LittleEndian.PutUint64(buf[40:], h.Count)
	binary.LittleEndian.PutUint64(buf[48:], xxhash.Sum64(buf[derivedHeaderSize:]))
	binary.LittleEndian.PutUint64(buf[56:], xxhash.Sum64(buf[:56]))
	return durable.WriteFileBytes(path, buf, 0o644)
}

// readDerived reads the file at path and decodes it with decode, naming path in a
// *CorruptError.
func readDerived[T any](path, what string, decode func([]byte) (T, error)) (T, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("tier: read %s: %w", what, err)
	}
	v, err := decode(data)
	var ce *CorruptError
	if errors.As(err, &ce) {
		ce.Path = path
	}
	return v, err
}

// decodeDerived checks a derived file's header and payload checksum and returns both.
// Damage yields a *CorruptError, a version other than version an error wrapping
// ErrVersion.
func decodeDerived(data []byte, magic string, version uint16, what string) (DerivedHeader, []byte, error) {
	corrupt := func(format string, args ...any) error {
		return &CorruptError{File: what, Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) < derivedHeaderSize || string(data[:8]) != magic {
		return DerivedHeader{}, nil, corrupt("not a %s file (%d bytes)", what, len(data))
	}
	if xxhash.Sum64(data[:56]) != binary.LittleEndian.Uint64(data[56:]) {
		return DerivedHeader{}, nil, corrupt("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint16(data[8:]); v != version {
		return DerivedHeader{}, nil, fmt.Errorf("tier: %s: %w: version %d", what, ErrVersion, v)
	}
	if !allZero(data[10:16]) {
		return DerivedHeader{}, nil, corrupt("reserved bytes are not zero")
	}
	payload := data[derivedHeaderSize:]
	if xxhash.Sum64(payload) != binary.LittleEndian.Uint64(data[48:]) {
		return DerivedHeader{}, nil, corrupt("payload checksum mismatch")
	}
	return DerivedHeader{
		LSN:   binary.LittleEndian.Uint64(data[16:]),
		Rows:  binary.LittleEndian.Uint64(data[24:]),
		IDSum: binary.LittleEndian.Uint64(data[32:]),
		Count: binary.LittleEndian.Uint64(data[40:]),
	}, payload, nil
}

// Payload files are derived files whose payload another package writes and decodes: the
// lexical index (docs/formats/lexical.md, magic "ENGRMLEX", payload from
// index.Lexical.AppendSaved) and the HNSW graph (docs/formats/hnsw.md, magic "ENGRMHNS",
// payload from index.HNSW.AppendSaved). Their header's count is the payload's length;
// this package checks the payload by its checksum only.
const (
	lexicalMagic = "ENGRMLEX"
	hnswMagic    = "ENGRMHNS"
)

// PayloadHeaderSize is where a payload file's payload starts: WriteLexical and WriteHNSW
// take a buffer with this much room before the payload.
const PayloadHeaderSize = derivedHeaderSize

// PayloadFile is a payload file: its header and the payload to give to the decoder of
// the package that wrote it (index.LoadLexical, index.LoadHNSW).
type PayloadFile struct {
	DerivedHeader
	Payload []byte
}

// WriteLexical writes a lexical index file: buf is PayloadHeaderSize bytes of room for
// the header, then the payload.
func WriteLexical(path string, h DerivedHeader, buf []byte) error {
	return writePayload(path, lexicalMagic, lexicalVersion, "lexical index", h, buf)
}

// ReadLexical reads a lexical index file (see DecodeLexical).
func ReadLexical(path string) (PayloadFile, error) {
	return readDerived(path, "lexical index", DecodeLexical)
}

// DecodeLexical decodes a lexical index file's framing. Damage yields an error wrapping
// ErrCorrupt, another version one wrapping ErrVersion.
func DecodeLexical(data []byte) (PayloadFile, error) {
	return decodePayload(data, lexicalMagic, lexicalVersion, "lexical index")
}

// WriteHNSW writes an HNSW graph file: buf is PayloadHeaderSize bytes of room for the
// header, then the payload.
func WriteHNSW(path string, h DerivedHeader, buf []byte) error {
	return writePayload(path, hnswMagic, hnswVersion, "hnsw graph", h, buf)
}

// ReadHNSW reads an HNSW graph file (see DecodeHNSW).
func ReadHNSW(path string) (PayloadFile, error) {
	return readDerived(path, "hnsw graph", DecodeHNSW)
}

// DecodeHNSW decodes an HNSW graph file's framing. Damage yields an error wrapping
// ErrCorrupt, another version one wrapping ErrVersion.
func DecodeHNSW(data []byte) (PayloadFile, error) {
	return decodePayload(data, hnswMagic, hnswVersion, "hnsw graph")
}

func writePayload(path, magic string, version uint16, what string, h DerivedHeader, buf []byte) error {
	if len(buf) < PayloadHeaderSize {
		return fmt.Errorf("tier: write %s %s: %w: no room for the header", what, path, ErrInvalidArgument)
	}
	h.Count = uint64(len(buf) - PayloadHeaderSize)
	if err := writeDerived(path, magic, version, h, buf); err != nil {
		return fmt.Errorf("tier: write %s: %w", what, err)
	}
	return nil
}

func decodePayload(data []byte, magic string, version uint16, what string) (PayloadFile, error) {
	h, payload, err := decodeDerived(data, magic, version, what)
	if err == nil && h.Count != uint64(len(payload)) {
		err = &CorruptError{File: what, Reason: fmt.Sprintf("payload is %d bytes, the header says %d", len(payload), h.Count)}
	}
	if err != nil {
		return PayloadFile{}, err
	}
	return PayloadFile{h, payload}, nil
}
