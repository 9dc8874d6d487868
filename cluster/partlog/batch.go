package partlog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/wal"
)

// ErrBadBatch wraps every reason a message does not decode as a batch.
var ErrBadBatch = errors.New("partlog: malformed batch")

// Batch layout (docs/formats/cluster-batch.md). Integers are little endian.
const (
	batchMagic    = "EGRB"
	batchVersion  = 1
	batchHeader   = 8 // magic, version, 3 reserved bytes
	batchTrailer  = 8 // xxhash64 of everything before it
	sectionHeader = 2 // kind, space length; then the space id and a uint32 body length
	maxSpaceBytes = 64
)

// Kind is what a section holds.
type Kind uint8

// Section kinds.
const (
	// KindFrames: WAL frames of one space, LSNs increasing.
	KindFrames Kind = 1
	// KindCreate: the space was created with the settings (JSON object) in the body.
	KindCreate Kind = 2
	// KindDelete: the space was deleted; the body is empty.
	KindDelete Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindFrames:
		return "frames"
	case KindCreate:
		return "create"
	case KindDelete:
		return "delete"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Section is one space's part of a batch.
type Section struct {
	Kind  Kind
	Space string
	// Frames are the encoded WAL frames of a KindFrames section (docs/formats/wal.md).
	Frames []byte
	// Records, FirstLSN and LastLSN describe Frames; DecodeBatch fills them in.
	Records           int
	FirstLSN, LastLSN uint64
	// Settings is the JSON object of a KindCreate section.
	Settings json.RawMessage
}

// AppendBatch encodes sections as one message appended to dst. Sections are encoded as
// given; DecodeBatch checks them.
func AppendBatch(dst []byte, sections []Section) []byte {
	start := len(dst)
	dst = append(dst, batchMagic...)
	dst = append(dst, batchVersion, 0, 0, 0)
	for _, s := range sections {
		body := s.Frames
		if s.Kind == KindCreate {
			body = s.Settings
		}
		dst = append(dst, byte(s.Kind), byte(len(s.Space)))
		dst = append(dst, s.Space...)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(body)))
		dst = append(dst, body...)
	}
	return binary.LittleEndian.AppendUint64(dst, xxhash.Sum64(dst[start:]))
}

// DecodeBatch decodes and checks a message: its checksum, every section's space id, every
// frame (intact, LSNs increasing within the section) and every settings object. Frames and
// Settings alias b. The error wraps ErrBadBatch.
func DecodeBatch(b []byte) ([]Section, error) {
	if len(b) < batchHeader+batchTrailer {
		return nil, fmt.Errorf("%w: %d bytes, shorter than a header and a checksum", ErrBadBatch, len(b))
	}
	if string(b[:4]) != batchMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrBadBatch, b[:4])
	}
	if b[4] != batchVersion {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrBadBatch, b[4])
	}
	if b[5]|b[6]|b[7] != 0 {
		return nil, fmt.Errorf("%w: reserved header bytes set", ErrBadBatch)
	}
	end := len(b) - batchTrailer
	if xxhash.Sum64(b[:end]) != binary.LittleEndian.Uint64(b[end:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrBadBatch)
	}
	var out []Section
	for off := batchHeader; off < end; {
		s, n, err := decodeSection(b[off:end])
		if err != nil {
			return nil, fmt.Errorf("%w: section %d at offset %d: %w", ErrBadBatch, len(out), off, err)
		}
		out = append(out, s)
		off += n
	}
	return out, nil
}

// decodeSection decodes the section at the start of b and returns its length.
func decodeSection(b []byte) (Section, int, error) {
	var s Section
	if len(b) < sectionHeader {
		return s, 0, errors.New("truncated section header")
	}
	s.Kind = Kind(b[0])
	n := int(b[1])
	if len(b) < sectionHeader+n+4 {
		return s, 0, errors.New("truncated section header")
	}
	s.Space = string(b[sectionHeader : sectionHeader+n])
	if n > maxSpaceBytes {
		return s, 0, fmt.Errorf("space id of %d bytes", n)
	}
	if id, err := engine.NormalizeSpaceID(s.Space); err != nil || id != s.Space {
		return s, 0, fmt.Errorf("invalid space id %q", s.Space)
	}
	off := sectionHeader + n
	size := binary.LittleEndian.Uint32(b[off:])
	off += 4
	if uint64(size) > uint64(len(b)-off) {
		return s, 0, fmt.Errorf("body of %d bytes runs past the end", size)
	}
	body := b[off : off+int(size) : off+int(size)]
	off += int(size)
	switch s.Kind {
	case KindFrames:
		if len(body) == 0 {
			return s, 0, errors.New("frames section without frames")
		}
		err := wal.EachFrame(body, func(f wal.Frame) error {
			if s.Records == 0 {
				s.FirstLSN = f.LSN
			}
			s.LastLSN = f.LSN
			s.Records++
			return nil
		})
		if err != nil {
			return s, 0, fmt.Errorf("space %q: %w", s.Space, err)
		}
		s.Frames = body
	case KindCreate:
		var settings engine.SpaceSettings
		if err := json.Unmarshal(body, &settings); err != nil {
			return s, 0, fmt.Errorf("space %q: settings: %w", s.Space, err)
		}
		s.Settings = json.RawMessage(body)
	case KindDelete:
		if len(body) != 0 {
			return s, 0, fmt.Errorf("space %q: delete section with a %d-byte body", s.Space, len(body))
		}
	default:
		return s, 0, fmt.Errorf("unknown section kind %d", s.Kind)
	}
	return s, off, nil
}
