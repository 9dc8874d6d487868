package index

// RRFK is the rank constant of reciprocal rank fusion, the value of Cormack, Clarke and
// Büttcher (2009): large enough that the first few ranks of one list do not drown the
// agreement of the others.
const RRFK = 60

// FuseRRF merges ranked lists by reciprocal rank fusion: a row's fused score is the sum,
// over the lists it appears in, of 1/(RRFK + rank), rank counting from 1. Only ranks
// matter, never the lists' own scores, so lists on incomparable scales (cosine
// similarity, BM25) fuse without calibration. A row repeated within one list counts at
// its best rank only. The result holds every row of every list, best first, ties broken
// by lower row; its Score is the fused score.
func FuseRRF(lists ...[]Scored) []Scored {
	total := 0
	for _, list := range lists {
		total += len(list)
	}
	if total == 0 {
		return nil
	}
	fused := make(map[uint32]float64, total)
	seen := make(map[uint32]struct{}, total)
	for _, list := range lists {
		clear(seen)
		for i, s := range list {
			if _, dup := seen[s.Row]; dup {
				continue
			}
			seen[s.Row] = struct{}{}
			fused[s.Row] += 1 / float64(RRFK+i+1)
		}
	}
	out := make([]Scored, 0, len(fused))
	for row, score := range fused {
		out = append(out, Scored{Row: row, Score: float32(score)})
	}
	SortScored(out)
	return out
}
