package embed

import (
	"fmt"
	"math"
	"math/bits"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

	"github.com/engram-go/engram/engine/index"
)

// Feature weights of Hash. A content word carries the signal; bigrams reward shared
// phrases over the same words scattered; 3-grams let inflections and typos
// ("mitochondrial", "mitochondira") land near the word. Each word's 3-grams share
// trigramWeight² of energy however long the word is, so long words do not outweigh
// short ones. Stop words keep a trace so a text made only of them still embeds.
const (
	wordWeight     = 1.0
	stopWeight     = 0.25
	bigramWeight   = 0.5
	trigramWeight  = 0.6
	maxTrigramWord = 64 // runes; the rest of a longer "word" (a hash, a URL) adds no 3-grams
)

// Feature kinds: the word hash is used as is, the others are remixed with their kind so a
// bigram or 3-gram never lands where the identical word would.
const (
	bigramKind  = 0x9e3779b97f4a7c15
	trigramKind = 0xc2b2ae3d27d4eb4f
)

// Hash is the built-in, deterministic embedder; see the package documentation.
type Hash struct {
	dim int
}

var _ Embedder = (*Hash)(nil)

// NewHash returns a hashing embedder writing dim-dimensional vectors. It panics if dim is
// not positive: the dimension is validated configuration by the time an embedder exists.
func NewHash(dim int) *Hash {
	if dim <= 0 {
		panic(fmt.Sprintf("embed: dimension must be positive, got %d", dim))
	}
	return &Hash{dim: dim}
}

// Dim is the length of the vectors Embed writes.
func (h *Hash) Dim() int { return h.dim }

// Embed writes the embedding of text to out; it panics if len(out) != Dim().
func (h *Hash) Embed(text string, out []float32) { h.embed(text, out, nil) }

// EmbedTerms is Embed that also appends to terms the text's lexical terms, those
// index.Tokenize returns, from the same pass over the text: a remember indexes its
// content lexically too, and need not tokenise it twice. A term may be a substring of text.
func (h *Hash) EmbedTerms(text string, out []float32, terms []string) []string {
	if terms == nil {
		terms = []string{}
	}
	return h.embed(text, out, terms)
}

// embed is Embed, appending the non-stop terms to terms unless terms is nil.
func (h *Hash) embed(text string, out []float32, terms []string) []string {
	if len(out) != h.dim {
		panic(fmt.Sprintf("embed: output has %d components, embedder has %d", len(out), h.dim))
	}
	clear(out)
	// A text sets a few dozen of the coordinates; noting which lets normalisation visit
	// only those instead of every one (the zeros add nothing to the length and stay zero).
	var touched [maxTouchedWords]uint64
	a := features{dim: uint64(h.dim), out: out, touched: touched[:min(len(touched), (h.dim+63)/64)]}
	var prev uint64 // hash of the previous content word, 0 before the first
	for term, stop := range index.AllTokens(text) {
		hw := xxhash.Sum64String(term)
		if stop {
			a.add(hw, stopWeight)
			continue
		}
		if terms != nil {
			terms = append(terms, term)
		}
		a.add(hw, wordWeight)
		if prev != 0 {
			a.add(mix((prev*bigramKind+hw)^bigramKind), bigramWeight)
		}
		prev = hw
		a.addTrigrams(term)
	}
	if h.dim <= maxTouchedWords*64 {
		normalizeTouched(out, a.touched)
	} else {
		normalize(out)
	}
	return terms
}

// maxTouchedWords bounds the bitmap of set coordinates kept on the stack: dimensions up
// to 4,096 are normalised sparsely, larger ones by visiting every coordinate.
const maxTouchedWords = 64

// features accumulates an embedding: the vector and, for dimensions the bitmap covers,
// which of its coordinates a feature set.
type features struct {
	dim     uint64
	out     []float32
	touched []uint64 // bit i: coordinate i was set; too short to use past maxTouchedWords·64
}

// addTrigrams adds the character 3-grams of term, padded with a boundary mark on each side
// so prefixes and suffixes count ("cell" → " ce", "cel", "ell", "ll ").
func (a *features) addTrigrams(term string) {
	n := utf8.RuneCountInString(term)
	if n > maxTrigramWord {
		n = maxTrigramWord
	}
	weight := float32(trigramWeight / math.Sqrt(float64(n)))

	var buf [80]byte
	padded := append(buf[:0], ' ')
	padded = append(padded, term...)
	padded = append(padded, ' ')
	// starts holds the byte offsets of the last three runes seen; once full, the gram
	// that ends where the next rune starts is padded[starts[0]:i].
	var starts [3]int
	seen, grams := 0, 0
	for i := 0; i < len(padded); {
		if seen >= 3 {
			a.add(mix(xxhash.Sum64(padded[starts[0]:i])^trigramKind), weight)
			if grams++; grams == n {
				return
			}
		}
		starts[0], starts[1], starts[2] = starts[1], starts[2], i
		seen++
		if c := padded[i]; c < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRune(padded[i:])
			i += size
		}
	}
	if seen >= 3 {
		a.add(mix(xxhash.Sum64(padded[starts[0]:])^trigramKind), weight)
	}
}

// add puts weight on the coordinate and sign chosen by feature: the low 32 bits pick the
// coordinate by multiply-shift (uniform for any dim), the top bit the sign. The sign makes
// collisions cancel on average instead of piling up, so unrelated texts stay near 0.
func (a *features) add(feature uint64, weight float32) {
	i := (feature & 0xffffffff) * a.dim >> 32
	if feature>>63 == 1 {
		a.out[i] -= weight
	} else {
		a.out[i] += weight
	}
	if w := i >> 6; w < uint64(len(a.touched)) {
		a.touched[w] |= 1 << (i & 63)
	}
}

// mix is the splitmix64 finaliser: a bijection that spreads every input bit over the
// output, used to derive independent features from one hash.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// normalize scales v to unit length in float64. A float32 square is exact in float64, so
// a compiler fusing multiply-adds (arm64) rounds each step exactly as one that does not
// (amd64), and the four partial sums are combined in a fixed order: the same bits on every
// platform. Four sums rather than one only break the chain of dependent additions.
func normalize(v []float32) {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0 += float64(v[i]) * float64(v[i])
		s1 += float64(v[i+1]) * float64(v[i+1])
		s2 += float64(v[i+2]) * float64(v[i+2])
		s3 += float64(v[i+3]) * float64(v[i+3])
	}
	for ; i < len(v); i++ {
		s0 += float64(v[i]) * float64(v[i])
	}
	sum := (s0 + s1) + (s2 + s3)
	if sum == 0 {
		return
	}
	scale := 1 / math.Sqrt(sum)
	for i, x := range v {
		v[i] = float32(float64(x) * scale)
	}
}

// normalizeTouched is normalize for a v whose non-zero coordinates all have their bit set
// in touched, visiting only those. It gives normalize's bits: each coordinate is added to
// the partial sum normalize adds it to, in the same order, and the zeros skipped would
// have added exactly nothing to those sums and stay zero once scaled.
func normalizeTouched(v []float32, touched []uint64) {
	var s [4]float64
	blocks := len(v) &^ 3 // below it coordinate i goes to s[i%4], from it to s[0]
	for w, set := range touched {
		for ; set != 0; set &= set - 1 {
			i := w<<6 + bits.TrailingZeros64(set)
			x := float64(v[i]) * float64(v[i])
			if i < blocks {
				s[i&3] += x
			} else {
				s[0] += x
			}
		}
	}
	sum := (s[0] + s[1]) + (s[2] + s[3])
	if sum == 0 {
		return
	}
	scale := 1 / math.Sqrt(sum)
	for w, set := range touched {
		for ; set != 0; set &= set - 1 {
			i := w<<6 + bits.TrailingZeros64(set)
			v[i] = float32(float64(v[i]) * scale)
		}
	}
}
