package embed

// Embedder turns text into a vector. Implementations are safe for concurrent use.
type Embedder interface {
	// Dim is the length of the vectors Embed writes.
	Dim() int
	// Embed writes the L2-normalised embedding of text to out, which must have length
	// Dim(); text without any token gives the zero vector.
	Embed(text string, out []float32)
}
