package embed

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/engram-go/engram/engine/index"
)

func embed(h *Hash, text string) []float32 {
	out := make([]float32, h.Dim())
	h.Embed(text, out)
	return out
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// unrelatedSentences builds n deterministic everyday sentences, none about biology, with
// a few that share the words "cell" and "powerhouse" so a match has to be earned.
func unrelatedSentences(n int, seed uint64) []string {
	subjects := []string{"The farmer", "A teacher", "My neighbour", "The old dog", "Our team", "The pilot",
		"A child", "The baker", "Her brother", "The committee", "A tourist", "The mayor", "The engineer"}
	verbs := []string{"painted", "sold", "repaired", "visited", "ignored", "described", "carried",
		"photographed", "borrowed", "cleaned", "measured", "forgot"}
	objects := []string{"the red bicycle", "a wooden table", "the prison cell", "the battery cell",
		"the train station", "an old guitar", "the garden fence", "a cup of coffee", "the football stadium",
		"the economic powerhouse", "a blue umbrella", "the phone charger", "a stack of letters", "the kitchen"}
	tails := []string{"on Monday", "before lunch", "after the storm", "in the rain", "last winter",
		"with great care", "for the festival", "near the river", "without a word", "at dawn"}
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]string, n)
	for i := range out {
		out[i] = subjects[rng.IntN(len(subjects))] + " " + verbs[rng.IntN(len(verbs))] + " " +
			objects[rng.IntN(len(objects))] + " " + tails[rng.IntN(len(tails))] + "."
	}
	return out
}

func TestHashFindsMitochondria(t *testing.T) {
	// 768 is the default dimension. Below about 256 hash collisions between unrelated
	// words become frequent enough to let an unrelated sentence win now and then.
	for _, dim := range []int{768, 384} {
		h := NewHash(dim)
		sentences := unrelatedSentences(400, 2)
		const target = 123
		sentences[target] = "The mitochondria is the powerhouse of the cell"
		for _, query := range []string{"mitochondria", "What is the mitochondria?", "mitochondrial powerhouse"} {
			q := embed(h, query)
			best, bestScore, runnerUp := -1, math.Inf(-1), math.Inf(-1)
			for i, s := range sentences {
				score := dot(q, embed(h, s))
				if score > bestScore {
					best, bestScore, runnerUp = i, score, bestScore
				} else if score > runnerUp {
					runnerUp = score
				}
			}
			if best != target {
				t.Errorf("dim %d, query %q: best match is %q (%.3f), want the mitochondria sentence",
					dim, query, sentences[best], bestScore)
				continue
			}
			t.Logf("dim %d, query %q: cosine %.3f, best unrelated %.3f", dim, query, bestScore, runnerUp)
		}
	}
}

func TestHashSimilarity(t *testing.T) {
	h := NewHash(768)
	tests := []struct {
		name     string
		a, b     string
		min, max float64
	}{
		{"identical", "Paris is the capital of France", "Paris is the capital of France", 0.9999, 1.0001},
		{"case and punctuation", "Paris is the capital of France", "paris, IS the capital of france!", 0.9999, 1.0001},
		{"same words, other stop words", "the cat sat on the mat", "a cat sat on a mat", 0.9, 1},
		{"plural", "I like apples and oranges", "I like an apple and an orange", 0.85, 1},
		{"shared words", "my sister lives in Berlin", "my sister works in Berlin", 0.5, 0.9},
		{"typo", "mitochondria", "mitochondira", 0.12, 0.6}, // 8 of 12 3-grams shared
		{"unrelated", "the stock market fell sharply", "grandmother baked an apple pie", -0.15, 0.15},
		{"only stop words", "to be or not to be", "not to be", 0.5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dot(embed(h, tt.a), embed(h, tt.b))
			if got < tt.min || got > tt.max {
				t.Errorf("cosine(%q, %q) = %.3f, want in [%.2f, %.2f]", tt.a, tt.b, got, tt.min, tt.max)
			}
		})
	}
}

func TestHashNormalised(t *testing.T) {
	h := NewHash(256)
	tests := []struct {
		text string
		zero bool
	}{
		{"", true},
		{" \t\n.,;!?-- ", true},
		{"the", false},
		{"x", false},
		{"A memory of the seaside in summer, 1998.", false},
		{"word word word word word word word word", false},
		{"Ünïcode ωμέγα 東京 données", false},
	}
	for _, tt := range tests {
		v := embed(h, tt.text)
		n := math.Sqrt(dot(v, v))
		switch {
		case tt.zero && n != 0:
			t.Errorf("Embed(%q) has norm %v, want the zero vector", tt.text, n)
		case !tt.zero && math.Abs(n-1) > 1e-5:
			t.Errorf("Embed(%q) has norm %v, want 1", tt.text, n)
		}
	}
}

// TestHashGolden pins the exact output bits: the embedding must be the same on every run,
// machine and architecture, or stored vectors stop matching new queries.
func TestHashGolden(t *testing.T) {
	tests := []struct {
		dim  int
		text string
		sum  uint64 // xxhash64 of the little-endian float32 bits
	}{
		{768, "The mitochondria is the powerhouse of the cell", 0xfd4078a96eba7c39},
		{768, "Ünïcode ÉTÉ Straße, 東京 and 1990s!", 0x974be3d2fdeee25d},
		{384, "to be or not to be", 0x1cbb85a2f7c85879},
		{64, "a longer memory: the meeting with Alice moved to Thursday at 10am in room 4B", 0x4c17e6988a09ec1},
	}
	for _, tt := range tests {
		h := NewHash(tt.dim)
		v := embed(h, tt.text)
		buf := make([]byte, 0, 4*len(v))
		for _, x := range v {
			b := math.Float32bits(x)
			buf = append(buf, byte(b), byte(b>>8), byte(b>>16), byte(b>>24))
		}
		if got := xxhash.Sum64(buf); got != tt.sum {
			t.Errorf("dim %d, %q: checksum %#x, want %#x", tt.dim, tt.text, got, tt.sum)
		}
		if again := embed(h, tt.text); !equalBits(v, again) {
			t.Errorf("dim %d, %q: two embeddings differ", tt.dim, tt.text)
		}
	}
}

func equalBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestHashConcurrentUse(t *testing.T) {
	h := NewHash(768)
	const text = "shared embedder, many goroutines"
	want := embed(h, text)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			out := make([]float32, h.Dim())
			for range 200 {
				h.Embed(text, out)
				if !equalBits(out, want) {
					t.Error("concurrent Embed gave a different vector")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHashPanicsOnMisuse(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"zero dimension", func() { NewHash(0) }},
		{"short output", func() { NewHash(8).Embed("x", make([]float32, 7)) }},
		{"long output", func() { NewHash(8).Embed("x", make([]float32, 9)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f()
		})
	}
}

// TestNormalizeTouched: normalising only the set coordinates gives normalize's bits, for
// dimensions with and without a tail past the last block of four, sparse and dense.
func TestNormalizeTouched(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, dim := range []int{1, 3, 4, 5, 7, 64, 65, 384, 767, 768, 770, 1001, 4096} {
		for _, set := range []int{0, 1, 3, 40, dim} {
			v := make([]float32, dim)
			touched := make([]uint64, (dim+63)/64)
			for range set {
				i := rng.IntN(dim)
				v[i] += float32(rng.NormFloat64())
				touched[i>>6] |= 1 << (i & 63)
			}
			want := slices.Clone(v)
			normalize(want)
			normalizeTouched(v, touched)
			if !equalBits(v, want) {
				t.Fatalf("dim %d, %d set: normalizeTouched differs from normalize", dim, set)
			}
		}
	}
}

// TestEmbedTerms: EmbedTerms writes Embed's vector and appends Tokenize's terms.
func TestEmbedTerms(t *testing.T) {
	h := NewHash(768)
	for _, text := range []string{"", "the", "A memory of the seaside in summer, 1998.",
		"Ünïcode ÉTÉ Straße, 東京 and 1990s!", "Running runners ran; the mitochondria is the powerhouse of the cell"} {
		want := embed(h, text)
		got := make([]float32, 768)
		terms := h.EmbedTerms(text, got, []string{"kept"})
		if !equalBits(got, want) {
			t.Fatalf("%q: EmbedTerms's vector differs from Embed's", text)
		}
		if wantTerms := append([]string{"kept"}, index.Tokenize(text)...); !slices.Equal(terms, wantTerms) {
			t.Fatalf("%q: terms %q, want %q", text, terms, wantTerms)
		}
		if terms := h.EmbedTerms(text, got, nil); terms == nil || len(terms) != len(index.Tokenize(text)) {
			t.Fatalf("%q: EmbedTerms with nil terms gave %q", text, terms)
		}
	}
}
