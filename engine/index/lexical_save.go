package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrLexicalData marks saved lexical data that does not decode into a consistent index.
var ErrLexicalData = errors.New("index: invalid saved lexical index")

// Saved lexical index (docs/formats/lexical.md), all integers uvarint:
//
//	rows, then per row 0 (no document) or 1 + its length in terms
//	terms, then per term: length, bytes, postings, then per posting the row (the first
//	as is, the next ones as the gap from the previous, at least 1) and the term frequency
//
// Only the documents are saved; free term ids and the order of term ids are not, so a
// loaded index numbers its terms afresh. Nor are the documents' term lists: listTerms
// gathers them from the postings when a removal first needs them.

// AppendSaved appends the index's documents to dst, renumbered by remap: a document of
// row r is saved as row remap(r) when remap reports true, and left out otherwise. rows is
// one past the highest row remap gives. Safe to call while the index is searched; writers
// wait until it is done.
func (l *Lexical) AppendSaved(dst []byte, rows int, remap func(row uint32) (uint32, bool)) []byte {
	l.mu.RLock()
	defer l.mu.RUnlock()
	docs := make([]uint32, rows)
	for row, d := range l.docs {
		if nr, ok := remap(uint32(row)); d.present && ok && int(nr) < rows {
			docs[nr] = 1 + l.lengths[row]
		}
	}
	dst = binary.AppendUvarint(dst, uint64(rows))
	for _, d := range docs {
		dst = binary.AppendUvarint(dst, uint64(d))
	}
	var kept []posting
	terms, countAt := 0, len(dst)
	dst = append(dst, make([]byte, binary.MaxVarintLen64)...) // the term count, set below
	for id, term := range l.terms {
		kept = kept[:0]
		for _, p := range l.postings[id] {
			if nr, ok := remap(p.row); ok && int(nr) < rows && docs[nr] != 0 {
				kept = append(kept, posting{row: nr, tf: p.tf})
			}
		}
		if term == "" || len(kept) == 0 {
			continue
		}
		slices.SortFunc(kept, func(a, b posting) int { return cmpRow(a.row, b.row) })
		terms++
		dst = binary.AppendUvarint(dst, uint64(len(term)))
		dst = append(dst, term...)
		dst = binary.AppendUvarint(dst, uint64(len(kept)))
		prev := uint32(0)
		for i, p := range kept {
			gap := p.row
			if i > 0 {
				gap = p.row - prev
			}
			dst = binary.AppendUvarint(dst, uint64(gap))
			dst = binary.AppendUvarint(dst, uint64(p.tf))
			prev = p.row
		}
	}
	// The count takes a fixed-width uvarint (continuation bits on every byte but the
	// last), so the bytes after it need not move.
	fixedUvarint(dst[countAt:countAt+binary.MaxVarintLen64], uint64(terms))
	return dst
}

// fixedUvarint writes v into b as a uvarint of exactly len(b) bytes.
func fixedUvarint(b []byte, v uint64) {
	for i := range b {
		b[i] = byte(v&0x7f) | 0x80
		v >>= 7
	}
	b[len(b)-1] &= 0x7f
}

// LoadLexical builds an index from data written by AppendSaved. It checks that the data
// is consistent — every posting's row has a document, rows rise within a term, no term
// twice, each document's term frequencies add up to its length — and otherwise returns an
// error wrapping ErrLexicalData.
func LoadLexical(data []byte) (*Lexical, error) {
	bad := func(format string, args ...any) (*Lexical, error) {
		return nil, fmt.Errorf("%w: %s", ErrLexicalData, fmt.Sprintf(format, args...))
	}
	next := func() (uint64, bool) {
		if len(data) > 0 && data[0] < 0x80 { // most gaps and frequencies take one byte
			v := uint64(data[0])
			data = data[1:]
			return v, true
		}
		v, n := binary.Uvarint(data)
		if n <= 0 {
			return 0, false
		}
		data = data[n:]
		return v, true
	}
	rows, ok := next()
	if !ok || rows > uint64(len(data)) { // each row takes at least one byte
		return bad("row count")
	}
	l := NewLexical()
	l.docs = make([]lexDoc, rows)
	l.lengths = make([]uint32, rows)
	for row := range l.lengths {
		d, ok := next()
		if !ok || d > 1<<32 {
			return bad("document of row %d", row)
		}
		if d > 0 {
			l.docs[row].present = true
			l.lengths[row] = uint32(d - 1)
			l.count++
			l.totalLen += d - 1
		}
	}
	nterms, ok := next()
	if !ok || nterms > uint64(len(data))/3 { // a term takes at least three bytes
		return bad("term count")
	}
	var all strings.Builder // every term in one allocation
	type span struct{ start, end int }
	spans := make([]span, 0, nterms)
	// The terms each row's document length leaves for postings not read yet: a posting
	// of a row without a document, or one past its length, finds fewer than its
	// frequency.
	left := slices.Clone(l.lengths)
	l.postings = make([][]posting, 0, nterms)
	for t := range nterms {
		n, ok := next()
		if !ok || n == 0 || n > uint64(len(data)) {
			return bad("term %d", t)
		}
		spans = append(spans, span{all.Len(), all.Len() + int(n)})
		all.Write(data[:n])
		data = data[n:]
		np, ok := next()
		if !ok || np == 0 || np > uint64(len(data))/2 {
			return bad("postings of term %d", t)
		}
		list := make([]posting, np)
		row := uint64(0)
		for i := range list {
			gap, ok1 := next()
			tf, ok2 := next()
			if i > 0 && gap == 0 {
				ok1 = false
			}
			row += gap
			if !ok1 || !ok2 || row >= rows || tf == 0 || tf > uint64(left[row]) {
				return bad("posting %d of term %d", i, t)
			}
			list[i] = posting{row: uint32(row), tf: uint32(tf)}
			left[row] -= uint32(tf)
		}
		l.postings = append(l.postings, list)
	}
	if len(data) != 0 {
		return bad("%d bytes after the last term", len(data))
	}
	text := all.String()
	l.terms = make([]string, nterms)
	for id, s := range spans {
		term := text[s.start:s.end]
		if _, dup := l.termIDs[term]; dup {
			return bad("term %q twice", term)
		}
		l.terms[id] = term
		l.termIDs[term] = uint32(id)
	}
	for row, n := range left {
		if n != 0 {
			return bad("row %d has %d terms in postings, length %d", row, l.lengths[row]-n, l.lengths[row])
		}
	}
	// The documents' term lists, which only a removal reads, are listed by the first
	// one: a space opens without scattering every posting into its document's list.
	l.unlisted = true
	return l, nil
}

// listTerms gives every document without a term list (a loaded one) the ids of its
// terms, gathered from the postings: the term lists LoadLexical leaves for the first
// removal, all in one backing array. A document added since has its own list, and a
// loaded one has postings only of its own terms, so the lists are exact. Caller holds
// the write lock.
func (l *Lexical) listTerms() {
	l.unlisted = false
	n := len(l.docs)
	unlisted := make([]bool, n)
	for row, d := range l.docs {
		unlisted[row] = d.present && d.terms == nil
	}
	at := make([]int, n+1) // each row's count, then where its next term id goes
	for _, list := range l.postings {
		for _, p := range list {
			if unlisted[p.row] {
				at[p.row+1]++
			}
		}
	}
	for row := range n {
		at[row+1] += at[row]
	}
	ids := make([]uint32, at[n])
	for row, u := range unlisted {
		if u {
			l.docs[row].terms = ids[at[row]:at[row+1]:at[row+1]]
		}
	}
	for id, list := range l.postings {
		for _, p := range list {
			if unlisted[p.row] {
				ids[at[p.row]] = uint32(id)
				at[p.row]++
			}
		}
	}
}
