package tier

import "fmt"

// Kind is the tier a segment belongs to; it selects the vector encoding and the metadata
// encoding of the file.
type Kind uint8

const (
	// KindWarm segments hold float32 vectors and uncompressed metadata. Hot snapshots use the
	// warm format too.
	KindWarm Kind = 1
	// KindCold segments hold int8 vectors with a float32 scale per row and zstd-compressed
	// metadata.
	KindCold Kind = 2
)

// Valid reports whether k is KindWarm or KindCold.
func (k Kind) Valid() bool { return k == KindWarm || k == KindCold }

// String returns "warm", "cold" or "Kind(n)".
func (k Kind) String() string {
	switch k {
	case KindWarm:
		return "warm"
	case KindCold:
		return "cold"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// MarshalText encodes k as "warm" or "cold", which is how manifests spell it.
func (k Kind) MarshalText() ([]byte, error) {
	if !k.Valid() {
		return nil, fmt.Errorf("%w: kind %d", ErrInvalidArgument, uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText decodes "warm" or "cold".
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "warm":
		*k = KindWarm
	case "cold":
		*k = KindCold
	default:
		return fmt.Errorf("%w: kind %q", ErrInvalidArgument, b)
	}
	return nil
}
