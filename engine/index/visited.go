package index

// visitedSet marks rows seen by one graph search. Clearing costs nothing: each search
// takes a new generation, and the marks are wiped only when the generation counter wraps.
type visitedSet struct {
	gen   uint16
	marks []uint16
}

// reset prepares the set for a search over rows [0, n).
func (v *visitedSet) reset(n int) {
	if len(v.marks) < n {
		v.marks = make([]uint16, n+n/4)
		v.gen = 0
	}
	v.gen++
	if v.gen == 0 {
		clear(v.marks)
		v.gen = 1
	}
}

// visit marks row and reports whether it was unmarked before.
func (v *visitedSet) visit(row uint32) bool {
	if v.marks[row] == v.gen {
		return false
	}
	v.marks[row] = v.gen
	return true
}
