package graph

// scaleInto sets dst[i] = alpha × w[i].
func scaleInto(dst, w []float32, alpha float32) {
	for i, x := range w[:len(dst)] {
		dst[i] = alpha * x
	}
}
