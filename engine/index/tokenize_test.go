package index

import (
	"slices"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"empty", "", []string{}},
		{"punctuation only", " ,.;!? -- ", []string{}},
		{"stop words dropped", "The mitochondria is the powerhouse of the cell", []string{"mitochondria", "powerhouse", "cell"}},
		{"lower-cased", "MiToChOnDrIa", []string{"mitochondria"}},
		{"plurals stemmed", "Memories, cells & horses!", []string{"memory", "cell", "horse"}},
		{"short words kept", "gas has bus glass", []string{"gas", "has", "bus", "glass"}},
		{"apostrophe fragments", "Don't stop the user's car", []string{"don", "stop", "user", "car"}},
		{"negation kept", "no, not coffee", []string{"no", "not", "coffee"}},
		{"separators", "e-mail foo_bar a/b", []string{"e", "mail", "foo", "bar", "b"}},
		{"digits", "1990s 42 v2", []string{"1990", "42", "v2"}},
		{"unicode", "Ünïcode ÉTÉ Straße Ωμέγα", []string{"ünïcode", "été", "straße", "ωμέγα"}},
		{"combining mark stays in word", "cafe\u0301 au lait", []string{"cafe\u0301", "au", "lait"}},
		{"trailing token", "end", []string{"end"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Tokenize(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Tokenize(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestAllTokensFlagsStopWords(t *testing.T) {
	type tok struct {
		term string
		stop bool
	}
	var got []tok
	for term, stop := range AllTokens("The Cats of THIS house") {
		got = append(got, tok{term, stop})
	}
	want := []tok{{"the", true}, {"cat", false}, {"of", true}, {"this", true}, {"house", false}}
	if !slices.Equal(got, want) {
		t.Fatalf("AllTokens = %v, want %v", got, want)
	}
}

func TestAllTokensStopsWhenAsked(t *testing.T) {
	var got []string
	for term := range AllTokens("one two three four") {
		got = append(got, term)
		if len(got) == 2 {
			break
		}
	}
	if !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("got %q after break, want [one two]", got)
	}
}

func TestStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"memories", "memory"},
		{"cells", "cell"},
		{"horses", "horse"},
		{"glass", "glass"},
		{"status", "status"},
		{"gas", "gas"},
		{"plays", "play"},
		{"pies", "pie"}, // four-letter -ies words are -ie plurals
		{"stories", "story"},
		{"toes", "toe"},     // -oes is an exception to the -es rule, so the -s rule applies
		{"agrees", "agree"}, // likewise -ees
		{"cell", "cell"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Stem(tt.in); got != tt.want {
			t.Errorf("Stem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsStopWord(t *testing.T) {
	for _, w := range []string{"the", "a", "of", "is", "s", "t", "with"} {
		if !IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = false, want true", w)
		}
	}
	for _, w := range []string{"not", "no", "cell", "The", ""} {
		if IsStopWord(w) {
			t.Errorf("IsStopWord(%q) = true, want false", w)
		}
	}
}
