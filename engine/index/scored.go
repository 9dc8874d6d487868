package index

import "slices"

// Scored is one result of a vector search: a row of the slab and its similarity to the
// query (a dot product of normalised vectors, so cosine similarity).
type Scored struct {
	Row   uint32
	Score float32
}

// Better is the one ranking every result list of this package uses: higher score first,
// lower row first among equal scores, so results are reproducible run to run.
func Better(a, b Scored) bool {
	return a.Score > b.Score || a.Score == b.Score && a.Row < b.Row
}

// SortScored orders s best first (Better).
func SortScored(s []Scored) {
	slices.SortFunc(s, func(a, b Scored) int {
		switch {
		case Better(a, b):
			return -1
		case Better(b, a):
			return 1
		}
		return 0
	})
}

// topK keeps the k best results seen so far in a heap whose root is the worst kept one,
// so a candidate costs one comparison when it does not make the cut.
type topK struct {
	k    int
	heap []Scored
}

func newTopK(k int) topK {
	return topK{k: k, heap: make([]Scored, 0, min(k, 1024))}
}

// admits reports whether a result with this score and row would be kept. Callers test it
// before running an expensive accept filter.
func (t *topK) admits(row uint32, score float32) bool {
	if t.k <= 0 {
		return false
	}
	return len(t.heap) < t.k || Better(Scored{Row: row, Score: score}, t.heap[0])
}

// holds reports whether row is among the kept results.
func (t *topK) holds(row uint32) bool {
	for _, s := range t.heap {
		if s.Row == row {
			return true
		}
	}
	return false
}

func (t *topK) push(s Scored) {
	if len(t.heap) < t.k {
		t.heap = append(t.heap, s)
		t.up(len(t.heap) - 1)
		return
	}
	if t.k > 0 && Better(s, t.heap[0]) {
		t.heap[0] = s
		t.down(0)
	}
}

// sorted returns the kept results best first; the heap is consumed.
func (t *topK) sorted() []Scored {
	out := t.heap
	t.heap = nil
	SortScored(out)
	return out
}

func (t *topK) up(i int) {
	h := t.heap
	for i > 0 {
		p := (i - 1) / 2
		if !Better(h[p], h[i]) {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *topK) down(i int) {
	h := t.heap
	for {
		w := i
		if l := 2*i + 1; l < len(h) && Better(h[w], h[l]) {
			w = l
		}
		if r := 2*i + 2; r < len(h) && Better(h[w], h[r]) {
			w = r
		}
		if w == i {
			return
		}
		h[w], h[i] = h[i], h[w]
		i = w
	}
}

// bestFirst is a heap whose root is the best entry: the frontier of a graph search, always
// expanded from its most promising node.
type bestFirst []Scored

func (h *bestFirst) push(s Scored) {
	*h = append(*h, s)
	q := *h
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !Better(q[i], q[p]) {
			break
		}
		q[p], q[i] = q[i], q[p]
		i = p
	}
}

func (h *bestFirst) pop() Scored {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		w := i
		if l := 2*i + 1; l < len(q) && Better(q[l], q[w]) {
			w = l
		}
		if r := 2*i + 2; r < len(q) && Better(q[r], q[w]) {
			w = r
		}
		if w == i {
			break
		}
		q[w], q[i] = q[i], q[w]
		i = w
	}
	*h = q
	return top
}

// full reports whether k results are kept.
func (t *topK) full() bool { return len(t.heap) >= t.k }

// worst is the weakest kept result; only meaningful when something is kept.
func (t *topK) worst() Scored { return t.heap[0] }
