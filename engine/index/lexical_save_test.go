package index

import (
	"errors"
	"reflect"
	"testing"
)

// savedCorpus is an index with removed and replaced documents, an empty document and
// repeated terms, and the same documents as the rows remap gives them.
func savedCorpus() (l, want *Lexical, rows int, remap func(uint32) (uint32, bool)) {
	sentences := unrelatedSentences(300, 3)
	sentences[7] = "river river river bank"
	sentences[8] = ""
	l = NewLexical()
	for i, s := range sentences {
		l.Add(uint32(i), s)
	}
	for i := 0; i < 300; i += 11 {
		l.Remove(uint32(i))
	}
	l.Add(12, "a replaced document about the river")
	// Reverse the kept rows and drop every third one.
	remap = func(row uint32) (uint32, bool) {
		if row%3 == 2 {
			return 0, false
		}
		return 299 - row, true
	}
	want = NewLexical()
	for i, s := range sentences {
		row := uint32(i)
		nr, ok := remap(row)
		switch {
		case !ok || i%11 == 0:
		case i == 12:
			want.Add(nr, "a replaced document about the river")
		default:
			want.Add(nr, s)
		}
	}
	return l, want, 300, remap
}

// TestLexicalSaveLoad: a saved and loaded index answers every search exactly as one
// built by Add on the renumbered rows, and keeps working after more changes.
func TestLexicalSaveLoad(t *testing.T) {
	l, want, rows, remap := savedCorpus()
	got, err := LoadLexical(l.AppendSaved(nil, rows, remap))
	if err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		if got.Len() != want.Len() {
			t.Fatalf("%s: Len = %d, want %d", stage, got.Len(), want.Len())
		}
		for _, q := range []string{"river", "river bank", "replaced document", "the", "cell energy water", "zzz"} {
			if g, w := got.Search(q, 50, nil), want.Search(q, 50, nil); !reflect.DeepEqual(g, w) {
				t.Fatalf("%s: search %q = %+v, want %+v", stage, q, g, w)
			}
		}
	}
	check("loaded")
	// A loaded document removed with its text leaves the others unlisted; one removed with
	// another text lists them all (listTerms), and a document added before keeps its own.
	for _, ix := range []*Lexical{got, want} {
		ix.Add(400, "a new river document")
		ix.RemoveText(299-7, "river river river bank")
	}
	if !got.unlisted {
		t.Fatal("removing a loaded document by its text listed every document's terms")
	}
	check("removed by its text")
	for _, ix := range []*Lexical{got, want} {
		ix.RemoveText(299-12, "not the text it was added with")
		ix.Add(299-1, "river delta")
	}
	if got.unlisted {
		t.Fatal("a text that is not the document's did not list the documents' terms")
	}
	check("changed after loading")
	for _, ix := range []*Lexical{got, want} {
		ix.Remove(400)
		ix.Remove(299 - 1)
	}
	check("removed after loading")
}

func TestLoadLexicalRejects(t *testing.T) {
	l := NewLexical()
	l.Add(0, "river bank")
	l.Add(1, "river")
	good := l.AppendSaved(nil, 2, func(r uint32) (uint32, bool) { return r, true })
	if _, err := LoadLexical(good); err != nil {
		t.Fatal(err)
	}
	// good is: rows 2, docs 3 2, terms (fixed width), then the terms.
	cases := map[string][]byte{
		"empty":          {},
		"truncated":      good[:len(good)-1],
		"trailing byte":  append(append([]byte(nil), good...), 0),
		"length too big": append([]byte{2, 4, 2}, good[3:]...),
		"no document":    append([]byte{2, 3, 0}, good[3:]...),
		"rows past data": {200, 1},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadLexical(data); !errors.Is(err, ErrLexicalData) {
				t.Fatalf("err = %v, want ErrLexicalData", err)
			}
		})
	}
}

// FuzzLoadLexical feeds arbitrary bytes to LoadLexical; whatever loads must save back to
// an index that loads again and answers the same searches.
func FuzzLoadLexical(f *testing.F) {
	l, _, rows, remap := savedCorpus()
	f.Add(l.AppendSaved(nil, rows, remap))
	small := NewLexical()
	small.Add(0, "river bank river")
	small.Add(2, "")
	f.Add(small.AppendSaved(nil, 3, func(r uint32) (uint32, bool) { return r, true }))
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := LoadLexical(data)
		if err != nil {
			if !errors.Is(err, ErrLexicalData) {
				t.Fatalf("error %v does not wrap ErrLexicalData", err)
			}
			return
		}
		same := func(r uint32) (uint32, bool) { return r, true }
		again, err := LoadLexical(got.AppendSaved(nil, len(got.docs), same))
		if err != nil {
			t.Fatalf("a loaded index saves to data that does not load: %v", err)
		}
		for _, term := range got.terms[:min(len(got.terms), 5)] {
			if g, w := again.Search(term, 20, nil), got.Search(term, 20, nil); !reflect.DeepEqual(g, w) {
				t.Fatalf("search %q: %+v after saving again, %+v before", term, g, w)
			}
		}
		got.Add(uint32(len(got.docs)), "one more river")
		for row := range got.docs {
			if row%2 == 0 { // by a text, which is the document's only now and then
				got.RemoveText(uint32(row), "river bank river")
			} else {
				got.Remove(uint32(row))
			}
		}
		if got.Len() != 0 {
			t.Fatalf("Len = %d after removing every row", got.Len())
		}
		for id, list := range got.postings {
			if len(list) != 0 {
				t.Fatalf("term %q keeps %d postings after removing every row", got.terms[id], len(list))
			}
		}
	})
}
