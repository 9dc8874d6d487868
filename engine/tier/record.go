package tier

// Record is one memory as a segment stores it. The engine encodes everything it needs
// besides the id and the vector into Meta; the segment never looks inside.
type Record struct {
	// ID identifies the memory; ids are non-empty and unique within a segment.
	ID string
	// Meta is the engine's encoding of every other field, stored verbatim.
	Meta []byte
	// Vector is the L2-normalised embedding, of exactly the segment's dimension, or empty
	// for a memory without one.
	Vector []float32
	// Norm is the embedding's L2 norm before normalisation. It is stored as 0 when Vector
	// is empty.
	Norm float32
}

// Hit is one scored record returned by Scan.
type Hit struct {
	// Index is the record's position in the segment, 0 ≤ Index < Len().
	Index int
	// Score is the dot product of the query with the record's stored vector.
	Score float32
}
