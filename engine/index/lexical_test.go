package index

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
)

func hitRows(hits []LexicalHit) []uint32 {
	rows := make([]uint32, len(hits))
	for i, h := range hits {
		rows[i] = h.Row
	}
	return rows
}

func TestLexicalFindsMitochondria(t *testing.T) {
	l := NewLexical()
	sentences := unrelatedSentences(400, 1)
	const target = 273
	sentences[target] = "The mitochondria is the powerhouse of the cell"
	for i, s := range sentences {
		l.Add(uint32(i), s)
	}
	tests := []struct {
		query      string
		queryTerms int
	}{
		{"mitochondria", 1},
		{"Mitochondria?", 1},
		{"what is the powerhouse of the cell", 3}, // "what", "powerhouse", "cell"
		{"mitochondria cells", 2},                 // plural meets singular
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res := l.Search(tt.query, 10, nil)
			if res.QueryTerms != tt.queryTerms {
				t.Errorf("QueryTerms = %d, want %d", res.QueryTerms, tt.queryTerms)
			}
			if len(res.Hits) == 0 || res.Hits[0].Row != target {
				t.Fatalf("hits %v, want row %d first", res.Hits, target)
			}
		})
	}
}

func TestLexicalMatchedCountsQueryTerms(t *testing.T) {
	l := NewLexical()
	docs := []string{
		0: "red apple pie with cream",
		1: "apple apple apple apple apple apple", // repeats one term a lot
		2: "a pie chart of red wine sales",
		3: "nothing relevant here",
		4: "Red pies and APPLES", // all terms, other forms
	}
	for i, d := range docs {
		l.Add(uint32(i), d)
	}
	res := l.Search("the red apple pie", 10, nil)
	if res.QueryTerms != 3 {
		t.Fatalf("QueryTerms = %d, want 3", res.QueryTerms)
	}
	want := map[uint32]int{0: 3, 1: 1, 2: 2, 4: 3}
	got := map[uint32]int{}
	for _, h := range res.Hits {
		got[h.Row] = h.Matched
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Matched by row = %v, want %v", got, want)
	}
	// Full matches rank first however much row 1 repeats its one term.
	if first := hitRows(res.Hits[:2]); !slices.Contains(first, 0) || !slices.Contains(first, 4) {
		t.Fatalf("ranking %v: rows 0 and 4 (all terms) must come first", hitRows(res.Hits))
	}
	if res.Hits[2].Row != 2 || res.Hits[3].Row != 1 {
		t.Fatalf("ranking %v: want row 2 (two terms) before row 1 (one term)", hitRows(res.Hits))
	}
}

func TestLexicalBM25Score(t *testing.T) {
	l := NewLexical()
	l.Add(0, "cat cat dog")
	l.Add(1, "dog bird fish")
	l.Add(2, "fish")
	res := l.Search("cat", 10, nil)
	if len(res.Hits) != 1 || res.Hits[0].Row != 0 {
		t.Fatalf("hits %v, want row 0 only", res.Hits)
	}
	// N = 3, df = 1, tf = 2, |d| = 3, avgdl = 7/3.
	idf := math.Log(1 + (3-1+0.5)/(1+0.5))
	norm := BM25K1 * (1 - BM25B + BM25B*3/(7.0/3))
	want := idf * 2 * (BM25K1 + 1) / (2 + norm)
	if got := float64(res.Hits[0].Score); math.Abs(got-want) > 1e-5 {
		t.Fatalf("score = %v, want %v", got, want)
	}
}

func TestLexicalRemoveAndReplace(t *testing.T) {
	l := NewLexical()
	l.Add(0, "alpha beta")
	l.Add(1, "beta gamma")
	l.Add(2, "gamma delta")
	tests := []struct {
		name  string
		apply func()
		query string
		want  []uint32
		len   int
	}{
		{"initial", func() {}, "beta", []uint32{0, 1}, 3},
		{"remove", func() { l.Remove(0) }, "beta", []uint32{1}, 2},
		{"removed term gone", func() {}, "alpha", []uint32{}, 2},
		{"remove absent row", func() { l.Remove(0); l.Remove(99) }, "gamma", []uint32{1, 2}, 2},
		{"replace text", func() { l.Add(1, "epsilon") }, "gamma", []uint32{2}, 2},
		{"replacement indexed", func() {}, "epsilon", []uint32{1}, 2},
		{"reuse row", func() { l.Add(0, "alpha again") }, "alpha", []uint32{0}, 3},
		{"remove all", func() { l.Remove(0); l.Remove(1); l.Remove(2) }, "gamma alpha epsilon", []uint32{}, 0},
		{"add after emptying", func() { l.Add(5, "gamma") }, "gamma", []uint32{5}, 1},
	}
	for _, tt := range tests {
		tt.apply()
		res := l.Search(tt.query, 10, nil)
		got := hitRows(res.Hits)
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Search(%q) rows = %v, want %v", tt.name, tt.query, got, tt.want)
		}
		if l.Len() != tt.len {
			t.Errorf("%s: Len = %d, want %d", tt.name, l.Len(), tt.len)
		}
	}
	if n := len(l.termIDs); n != 1 {
		t.Errorf("dictionary holds %d terms, want 1 (terms without postings are dropped)", n)
	}
}

func TestLexicalAcceptAndLimit(t *testing.T) {
	l := NewLexical()
	for i := range 100 {
		l.Add(uint32(i), fmt.Sprintf("shared word number %d", i))
	}
	tests := []struct {
		name   string
		k      int
		accept func(uint32) bool
		want   int
	}{
		{"limit", 7, nil, 7},
		{"filter", 100, func(r uint32) bool { return r%10 == 0 }, 10},
		{"filter and limit", 3, func(r uint32) bool { return r >= 50 }, 3},
		{"zero k", 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := l.Search("shared word", tt.k, tt.accept)
			if len(res.Hits) != tt.want {
				t.Fatalf("%d hits, want %d", len(res.Hits), tt.want)
			}
			for i, h := range res.Hits {
				if tt.accept != nil && !tt.accept(h.Row) {
					t.Fatalf("row %d was rejected by accept", h.Row)
				}
				if i > 0 && lexBetter(h, res.Hits[i-1]) {
					t.Fatalf("hits out of order: %v", res.Hits)
				}
			}
		})
	}
}

func TestLexicalEmptyQueries(t *testing.T) {
	l := NewLexical()
	l.Add(0, "the cat")
	for _, q := range []string{"", "   ", "the of and", "?!"} {
		if res := l.Search(q, 10, nil); res.QueryTerms != 0 || len(res.Hits) != 0 {
			t.Errorf("Search(%q) = %+v, want no terms and no hits", q, res)
		}
	}
	if res := NewLexical().Search("cat", 10, nil); res.QueryTerms != 1 || len(res.Hits) != 0 {
		t.Errorf("empty index: %+v, want 1 query term and no hits", res)
	}
}

func TestLexicalConcurrent(t *testing.T) {
	l := NewLexical()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 500 {
				row := uint32(w*1000 + i)
				l.Add(row, fmt.Sprintf("writer %d note %d about topic%d", w, i, i%7))
				if i%5 == 0 {
					l.Remove(row)
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for i := range 300 {
				res := l.Search(fmt.Sprintf("note topic%d", i%7), 5, nil)
				for _, h := range res.Hits {
					if h.Matched < 1 || h.Matched > res.QueryTerms {
						t.Errorf("Matched = %d with %d query terms", h.Matched, res.QueryTerms)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if got, want := l.Len(), 2*(500-100); got != want {
		t.Fatalf("Len = %d, want %d", got, want)
	}
}

func TestInsertPostingKeepsRowOrder(t *testing.T) {
	rows := func(n, step int) []posting {
		var l []posting
		for i := range n {
			l = append(l, posting{row: uint32(10 + i*step), tf: 1})
		}
		return l
	}
	tests := []struct {
		name string
		list []posting
		row  uint32
	}{
		{"empty", nil, 5},
		{"append", rows(5, 2), 100},
		{"just before the last", rows(5, 2), 17},
		{"a few places back", rows(40, 2), 75},
		{"beyond the walk back", rows(200, 2), 51},
		{"at the front", rows(200, 2), 3},
		{"second", rows(3, 2), 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.list)
			got := insertPosting(slices.Clone(tt.list), posting{row: tt.row, tf: 7})
			if len(got) != before+1 {
				t.Fatalf("len %d, want %d", len(got), before+1)
			}
			if !slices.IsSortedFunc(got, func(a, b posting) int { return cmpRow(a.row, b.row) }) {
				t.Fatalf("not sorted: %v", got)
			}
			if i := slices.IndexFunc(got, func(p posting) bool { return p.row == tt.row }); i < 0 || got[i].tf != 7 {
				t.Fatalf("row %d missing: %v", tt.row, got)
			}
		})
	}
}
