package index

import "math/rand/v2"

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
