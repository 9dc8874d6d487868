package engine

import (
	"fmt"
	"github.com/engram-go/engram/engine/record"
	"math"
	"strings"
	"time"

	"github.com/engram-go/engram/simd"
)

// MemoryType classifies a memory the way the public API does.
type MemoryType uint8

const (
	Episodic MemoryType = iota + 1
	Semantic
	Procedural
)

// String returns the lower-case API name of the type.
func (t MemoryType) String() string {
	switch t {
	case Episodic:
		return "episodic"
	case Semantic:
		return "semantic"
	case Procedural:
		return "procedural"
	}
	return "unknown"
}

// ParseMemoryType accepts the API names; the empty string means episodic.
func ParseMemoryType(s string) (MemoryType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "episodic":
		return Episodic, nil
	case "semantic":
		return Semantic, nil
	case "procedural":
		return Procedural, nil
	}
	return 0, fmt.Errorf("%w: memory_type %q is not one of episodic, semantic, procedural", ErrInvalidInput, s)
}

// Tier names where a memory currently lives.
type Tier uint8

const (
	TierHot Tier = iota
	TierWarm
	TierCold
)

func (t Tier) String() string {
	switch t {
	case TierWarm:
		return "warm"
	case TierCold:
		return "cold"
	}
	return "hot"
}

// Episode holds the who/where/why fields of an episodic memory remembered through the
// episodes route. A nil *Episode means the memory was stored as a plain memory. Its fields
// are those of the remember record's episode (record.Episode), so the two convert freely.
type Episode record.Episode

// Memory is one stored memory of a space. Values returned by the engine are copies; callers
// may keep and modify them.
type Memory struct {
	ID          string
	Content     string
	Embedding   []float32 // L2-normalised copy of what was stored; length = space dimension
	Confidence  float32
	ObservedAt  time.Time
	StoredAt    time.Time
	LastAccess  time.Time
	AccessCount uint32
	Tags        []string
	Type        MemoryType
	Episode     *Episode
	Tier        Tier
	// Citations lists the episode ids a consolidated (semantic) memory was built from.
	Citations []string
}

// Limits bounds what a single memory may hold.
const (
	MaxIDLen      = 128
	MaxTags       = 64
	MaxTagLen     = 256
	DefaultConfid = 0.7
)

// ValidateID checks a client-chosen memory id: 1–128 characters of [A-Za-z0-9._:-].
func ValidateID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return fmt.Errorf("%w: id must be 1-%d characters, got %d", ErrInvalidInput, MaxIDLen, len(id))
	}
	if id == "." || id == ".." {
		// Path segments every HTTP client and proxy folds away: such a memory could be
		// stored but never read, updated or forgotten by its URL.
		return fmt.Errorf("%w: id must not be %q", ErrInvalidInput, id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return fmt.Errorf("%w: id contains %q; allowed are letters, digits and . _ : -", ErrInvalidInput, c)
		}
	}
	return nil
}

// ValidateEmbedding rejects vectors of the wrong length, with NaN/Inf components, or
// whose length (L2 norm) is 0 or overflows a float32.
func ValidateEmbedding(v []float32, dim int) error {
	if len(v) != dim {
		return fmt.Errorf("%w: embedding has %d dimensions, this space expects %d", ErrInvalidInput, len(v), dim)
	}
	// An exponent of all ones (an infinity or a NaN) is the only encoding of a non-finite
	// float32: adding one to the exponent field carries into the sign bit exactly then. The
	// pass has no branch (it runs over every remembered vector); a second pass names the
	// element.
	var n0, n1, n2, n3 uint32 // four chains, so the loop is not one long dependency
	i := 0
	for ; i+4 <= len(v); i += 4 {
		n0 |= math.Float32bits(v[i])&0x7f800000 + 0x00800000
		n1 |= math.Float32bits(v[i+1])&0x7f800000 + 0x00800000
		n2 |= math.Float32bits(v[i+2])&0x7f800000 + 0x00800000
		n3 |= math.Float32bits(v[i+3])&0x7f800000 + 0x00800000
	}
	for ; i < len(v); i++ {
		n0 |= math.Float32bits(v[i])&0x7f800000 + 0x00800000
	}
	if (n0|n1|n2|n3)>>31 != 0 {
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: embedding[%d] is not a finite number", ErrInvalidInput, i)
			}
		}
	}
	// The slab keeps a vector normalised: one of length 0 would be kept as no vector at
	// all (and later replaced by one computed from the content), one whose length
	// overflows as a zero vector. Both are refused rather than changed. The length is
	// computed as the slab computes it (float32), so a component too small or too large
	// to square counts here exactly as it would there.
	switch n := simd.Norm(v); {
	case len(v) == 0:
	case !(n > 0):
		return fmt.Errorf("%w: embedding has length 0 (every component is 0 or too small to square as a float32); send a vector with a direction, or none", ErrInvalidInput)
	case math.IsInf(float64(n), 0):
		return fmt.Errorf("%w: embedding's length overflows a float32 (a component beyond about 1.8e19); scale it down", ErrInvalidInput)
	}
	return nil
}
