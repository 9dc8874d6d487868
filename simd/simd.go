package simd

// Dot returns the dot product of a and b. It panics if len(a) != len(b).
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("simd: Dot: len(a) != len(b)")
	}
	return active.dot(a, b)
}

// Norm returns the L2 norm of a.
func Norm(a []float32) float32 {
	return active.norm(a)
}

// Cosine returns the cosine of the angle between a and b, or 0 if either has norm 0.
// It panics if len(a) != len(b).
func Cosine(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("simd: Cosine: len(a) != len(b)")
	}
	return active.cosine(a, b)
}

// Normalize scales a in place to unit L2 norm. A zero vector is left as is.
func Normalize(a []float32) {
	n := active.norm(a)
	if n == 0 {
		return
	}
	active.scale(1/n, a)
}

// DotBatch scores the query q against len(out) rows stored one after another in rows:
// out[i] = Dot(q, rows[i*dim:(i+1)*dim]). Rows past len(out) are not read. It panics
// unless len(q) == dim and len(rows) >= len(out)*dim.
func DotBatch(q, rows []float32, dim int, out []float32) {
	if len(q) != dim {
		panic("simd: DotBatch: len(q) != dim")
	}
	if dim == 0 {
		clear(out)
		return
	}
	if len(out) > len(rows)/dim {
		panic("simd: DotBatch: rows holds fewer than len(out) rows of dim elements")
	}
	active.dotBatch(q, rows, dim, out)
}

// Axpy adds alpha*x to y element by element. It panics if len(x) != len(y). x and y
// may be the same slice but must not otherwise overlap.
func Axpy(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic("simd: Axpy: len(x) != len(y)")
	}
	active.axpy(alpha, x, y)
}

// Scale multiplies every element of x by alpha, in place.
func Scale(alpha float32, x []float32) {
	active.scale(alpha, x)
}
