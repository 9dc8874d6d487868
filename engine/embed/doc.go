// Package embed turns text into embeddings for spaces that do not receive vectors from
// their clients.
//
// Hash, the built-in embedder (provider "hash"), is signed feature hashing: every feature
// of a text (its words, its word bigrams and the character 3-grams of its words) is
// hashed with xxhash to one coordinate and a sign, its weight is added there, and the sum
// is L2-normalised. Texts sharing words therefore share coordinates and score a high
// cosine; unrelated texts only meet through hash collisions and score near 0. It knows
// no synonyms: "car" and "automobile" are as unrelated as any two words.
//
// Invariants: an embedding has exactly Dim() components and is either L2-normalised or,
// for text without any token, the zero vector. It depends on nothing but the text and the
// dimension: the same text gives bit-identical vectors on every run, machine and
// architecture (integer hashing, fixed-order float32 sums of fixed weights, a float64
// norm; no SIMD, whose summation order differs between CPUs).
//
// Words come from index.AllTokens, the tokenizer of the lexical index, so the embedder
// and BM25 agree on what a word is.
package embed
