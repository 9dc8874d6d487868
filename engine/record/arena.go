package record

import "unsafe"

// arenaBlock is the size of the blocks an Arena carves strings from: large enough that a
// million memories' ids and texts take a few thousand allocations, small enough that a
// block kept alive by one string it holds wastes little.
const arenaBlock = 64 << 10

// Arena holds the strings DecodeMemoryIn decodes, many to a block, so that decoding a
// segment's memories allocates per block instead of per string. A string keeps its
// whole block alive: an arena suits strings that live about as long as each other, like
// the memories a space loads at once. An Arena is not safe for concurrent use; the zero
// value is ready.
type Arena struct {
	free []byte // the current block's unused tail
}

// String returns a string holding a copy of b.
func (a *Arena) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > len(a.free) {
		if len(b) > arenaBlock/4 {
			return string(b) // a block of its own would waste the current one's tail
		}
		a.free = make([]byte, arenaBlock)
	}
	s := a.free[:len(b):len(b)]
	a.free = a.free[len(b):]
	copy(s, b)
	// The bytes are never written again: the arena only hands out what lies after them.
	return unsafe.String(&s[0], len(s))
}
