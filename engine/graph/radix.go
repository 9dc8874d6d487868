package graph

import "slices"

// radixThreshold is the length under which a comparison sort beats the radix passes.
const radixThreshold = 256

// sortKeys sorts keys ascending, using buf (grown as needed and returned) as the
// second buffer of an LSD radix sort over bytes. Bytes equal in every key are skipped,
// which for rank keys (small node ids, activations within a few binades) leaves about
// six of the eight passes. The sorted keys are in the returned slice, which is either
// keys or buf.
func sortKeys(keys, buf []uint64) (sorted, spare []uint64) {
	if len(keys) < radixThreshold {
		slices.Sort(keys)
		return keys, buf
	}
	var counts [8][256]int
	and, or := ^uint64(0), uint64(0)
	for _, k := range keys {
		and &= k
		or |= k
		for d := range 8 {
			counts[d][byte(k>>(8*d))]++
		}
	}
	buf = slices.Grow(buf[:0], len(keys))[:len(keys)]
	src, dst := keys, buf
	for d := range 8 {
		if byte((and^or)>>(8*d)) == 0 {
			continue // every key has the same byte here
		}
		var offsets [256]int
		sum := 0
		for b, c := range counts[d] {
			offsets[b] = sum
			sum += c
		}
		shift := 8 * d
		for _, k := range src {
			b := byte(k >> shift)
			dst[offsets[b]] = k
			offsets[b]++
		}
		src, dst = dst, src
	}
	return src, dst
}
