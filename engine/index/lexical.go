package index

import (
	"math"
	"slices"
	"strings"
	"sync"
)

// BM25 parameters: the values Lucene and most of the literature use. k1 bounds how much
// repeating a term can add (a term's contribution saturates at (k1+1)·idf); b = 0.75
// mostly, not fully, normalises for document length.
const (
	BM25K1 = 1.2
	BM25B  = 0.75
)

// Lexical is a BM25 inverted index over the text of rows. Terms come from Tokenize.
// Postings are slices sorted by row; a document's distinct term ids are kept so Remove
// touches only its own postings. Safe for concurrent use: writers take the write lock,
// searches the read lock.
type Lexical struct {
	mu       sync.RWMutex
	termIDs  map[string]uint32
	terms    []string    // by term id; "" for a free id
	postings [][]posting // by term id, sorted by row
	freeIDs  []uint32    // ids of terms whose last posting was removed
	docs     []lexDoc    // by row
	lengths  []uint32    // by row: document length in terms, dense for the scoring loop
	count    int         // rows with a document
	totalLen uint64      // sum of document lengths, for the average
	// unlisted: some documents, loaded by LoadLexical, have no term list yet (nil terms);
	// the first removal of one without its text lists them all (listTerms).
	unlisted bool

	accums sync.Pool // *lexAccum
}

type posting struct {
	row uint32
	tf  uint32
}

type lexDoc struct {
	terms   []uint32 // distinct term ids; nil until listTerms for a loaded document
	present bool
}

// LexicalResult is the answer to a lexical search.
type LexicalResult struct {
	// QueryTerms is the number of distinct non-stop terms of the query, whether or not
	// any document holds them.
	QueryTerms int
	Hits       []LexicalHit
}

// LexicalHit is one matching row.
type LexicalHit struct {
	Row     uint32
	Score   float32 // BM25
	Matched int     // distinct query terms present in the row's text
}

// NewLexical returns an empty index.
func NewLexical() *Lexical {
	return &Lexical{
		termIDs: make(map[string]uint32),
		accums:  sync.Pool{New: func() any { return new(lexAccum) }},
	}
}

// Len is the number of rows with a document, including documents without any term.
func (l *Lexical) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.count
}

// Add indexes text as the document of row, replacing any previous one.
func (l *Lexical) Add(row uint32, text string) { l.AddTerms(row, Tokenize(text)) }

// AddTerms is Add for a text whose terms the caller has: Tokenize's, in any order. It
// sorts terms in place and keeps none of them (a term new to the index is cloned).
func (l *Lexical) AddTerms(row uint32, terms []string) {
	length := uint32(len(terms))
	slices.Sort(terms)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.removeLocked(row)
	if int(row) >= len(l.docs) {
		l.docs = slices.Grow(l.docs, int(row)+1-len(l.docs))[:int(row)+1]
		l.lengths = slices.Grow(l.lengths, int(row)+1-len(l.lengths))[:int(row)+1]
	}
	ids := make([]uint32, 0, len(terms))
	for i := 0; i < len(terms); {
		j := i + 1
		for j < len(terms) && terms[j] == terms[i] {
			j++
		}
		id := l.termID(terms[i])
		l.postings[id] = insertPosting(l.postings[id], posting{row: row, tf: uint32(j - i)})
		ids = append(ids, id)
		i = j
	}
	l.docs[row] = lexDoc{terms: ids, present: true}
	l.lengths[row] = length
	l.count++
	l.totalLen += uint64(length)
}

// Remove drops the document of row; removing an absent row does nothing.
func (l *Lexical) Remove(row uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.removeLocked(row)
}

// RemoveText is Remove for a caller that has the document's text as it was added. A
// document loaded by LoadLexical keeps no list of its terms: the first Remove of one
// lists every loaded document's (listTerms, a pass over all postings), while RemoveText
// takes its terms from the text, and lists them only when the text does not match the
// document.
func (l *Lexical) RemoveText(row uint32, text string) {
	terms := Tokenize(text)
	slices.Sort(terms)
	l.mu.Lock()
	defer l.mu.Unlock()
	if int(row) < len(l.docs) && l.docs[row].present && l.docs[row].terms == nil && l.unlisted {
		if ids, ok := l.idsOf(row, terms); ok {
			l.drop(row, ids)
			return
		}
	}
	l.removeLocked(row)
}

// idsOf returns the term ids of sorted terms, repeats folded, when they are exactly row's
// document: each has a posting of row with as many repeats as its frequency, and they are
// as many as the document's length. Caller holds the lock.
func (l *Lexical) idsOf(row uint32, terms []string) ([]uint32, bool) {
	if len(terms) != int(l.lengths[row]) {
		return nil, false
	}
	ids := make([]uint32, 0, len(terms))
	for i := 0; i < len(terms); {
		j := i + 1
		for j < len(terms) && terms[j] == terms[i] {
			j++
		}
		id, ok := l.termIDs[terms[i]]
		if !ok {
			return nil, false
		}
		p := l.postings[id]
		k, found := slices.BinarySearchFunc(p, row, func(p posting, row uint32) int { return cmpRow(p.row, row) })
		if !found || p[k].tf != uint32(j-i) {
			return nil, false
		}
		ids = append(ids, id)
		i = j
	}
	return ids, true
}

func (l *Lexical) removeLocked(row uint32) {
	if int(row) >= len(l.docs) || !l.docs[row].present {
		return
	}
	if l.unlisted && l.docs[row].terms == nil {
		l.listTerms()
	}
	l.drop(row, l.docs[row].terms)
}

// drop removes row's document, whose distinct term ids are ids. Caller holds the lock.
func (l *Lexical) drop(row uint32, ids []uint32) {
	for _, id := range ids {
		p := l.postings[id]
		i, found := slices.BinarySearchFunc(p, row, func(p posting, row uint32) int { return cmpRow(p.row, row) })
		if found {
			p = slices.Delete(p, i, i+1)
		}
		if len(p) == 0 {
			delete(l.termIDs, l.terms[id])
			l.terms[id] = ""
			l.freeIDs = append(l.freeIDs, id)
			p = nil
		}
		l.postings[id] = p
	}
	l.docs[row] = lexDoc{}
	l.count--
	l.totalLen -= uint64(l.lengths[row])
	l.lengths[row] = 0
}

// termID returns the id of term, allocating one for a new term. The term is cloned
// because it may be a substring of a large document that must not stay alive for it.
func (l *Lexical) termID(term string) uint32 {
	if id, ok := l.termIDs[term]; ok {
		return id
	}
	term = strings.Clone(term)
	var id uint32
	if n := len(l.freeIDs); n > 0 {
		id = l.freeIDs[n-1]
		l.freeIDs = l.freeIDs[:n-1]
		l.terms[id] = term
	} else {
		id = uint32(len(l.terms))
		l.terms = append(l.terms, term)
		l.postings = append(l.postings, nil)
	}
	l.termIDs[term] = id
	return id
}

// insertPosting adds p to a row-sorted list. Rows mostly arrive in increasing order, so
// the common case is an append. Concurrent remembers add their rows in the order their
// goroutines run, a few places out of order: a short walk back from the end finds those
// without a binary search over the whole (often long) list; a reused row costs one memmove.
func insertPosting(list []posting, p posting) []posting {
	n := len(list)
	if n == 0 || list[n-1].row < p.row {
		return append(list, p)
	}
	i := n - 1
	for i > 0 && n-i < 32 && list[i-1].row > p.row {
		i--
	}
	if i > 0 && list[i-1].row > p.row {
		i, _ = slices.BinarySearchFunc(list[:i], p.row, func(q posting, row uint32) int { return cmpRow(q.row, row) })
	}
	return slices.Insert(list, i, p)
}

func cmpRow(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lexAccum holds per-row score accumulators for one search; touched lists the rows to
// read and clear afterwards, so a search costs its postings, not the index size.
type lexAccum struct {
	score   []float32
	matched []uint32
	touched []uint32
}

// Search returns up to k rows matching query, ranked by the number of distinct query
// terms they contain, then by BM25 score, then by lower row. Ranking coverage first means
// a row holding every query term always outranks one holding only some, however rare or
// repeated those are; among equal coverage BM25 decides. accept (nil takes all) is only
// asked about rows that would make the current top k.
func (l *Lexical) Search(query string, k int, accept func(uint32) bool) LexicalResult {
	qterms := Tokenize(query)
	slices.Sort(qterms)
	qterms = slices.Compact(qterms)
	res := LexicalResult{QueryTerms: len(qterms)}
	if k <= 0 || len(qterms) == 0 {
		return res
	}

	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.count == 0 {
		return res
	}
	// Not deferred: if accept panics the accumulators are dirty and must not be reused.
	acc := l.accums.Get().(*lexAccum)
	if len(acc.score) < len(l.docs) {
		acc.score = make([]float32, len(l.docs)+len(l.docs)/4)
		acc.matched = make([]uint32, len(acc.score))
	}
	acc.touched = acc.touched[:0]

	n := float64(l.count)
	avgLen := float64(l.totalLen) / n
	if avgLen == 0 {
		avgLen = 1
	}
	for _, term := range qterms {
		id, ok := l.termIDs[term]
		if !ok {
			continue
		}
		list := l.postings[id]
		df := float64(len(list))
		// Lucene's idf: never negative, so a term in most documents still counts a little.
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range list {
			tf := float64(p.tf)
			norm := BM25K1 * (1 - BM25B + BM25B*float64(l.lengths[p.row])/avgLen)
			if acc.matched[p.row] == 0 {
				acc.touched = append(acc.touched, p.row)
			}
			acc.matched[p.row]++
			acc.score[p.row] += float32(idf * tf * (BM25K1 + 1) / (tf + norm))
		}
	}

	best := lexTop{k: min(k, len(acc.touched))}
	for _, row := range acc.touched {
		hit := LexicalHit{Row: row, Score: acc.score[row], Matched: int(acc.matched[row])}
		acc.score[row], acc.matched[row] = 0, 0
		if best.admits(hit) && (accept == nil || accept(row)) {
			best.push(hit)
		}
	}
	l.accums.Put(acc)
	res.Hits = best.sorted()
	return res
}

// lexBetter ranks lexical hits: coverage, then score, then row.
func lexBetter(a, b LexicalHit) bool {
	if a.Matched != b.Matched {
		return a.Matched > b.Matched
	}
	return a.Score > b.Score || a.Score == b.Score && a.Row < b.Row
}

// lexTop keeps the k best hits in a heap rooted at the worst kept one.
type lexTop struct {
	k    int
	heap []LexicalHit
}

func (t *lexTop) admits(h LexicalHit) bool {
	return t.k > 0 && (len(t.heap) < t.k || lexBetter(h, t.heap[0]))
}

func (t *lexTop) push(h LexicalHit) {
	if len(t.heap) < t.k {
		t.heap = append(t.heap, h)
		for i := len(t.heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !lexBetter(t.heap[p], t.heap[i]) {
				break
			}
			t.heap[p], t.heap[i] = t.heap[i], t.heap[p]
			i = p
		}
		return
	}
	t.heap[0] = h
	for i := 0; ; {
		w := i
		if c := 2*i + 1; c < len(t.heap) && lexBetter(t.heap[w], t.heap[c]) {
			w = c
		}
		if c := 2*i + 2; c < len(t.heap) && lexBetter(t.heap[w], t.heap[c]) {
			w = c
		}
		if w == i {
			return
		}
		t.heap[w], t.heap[i] = t.heap[i], t.heap[w]
		i = w
	}
}

func (t *lexTop) sorted() []LexicalHit {
	slices.SortFunc(t.heap, func(a, b LexicalHit) int {
		switch {
		case lexBetter(a, b):
			return -1
		case lexBetter(b, a):
			return 1
		}
		return 0
	})
	return t.heap
}
