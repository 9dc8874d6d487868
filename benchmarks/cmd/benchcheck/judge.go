package main

import "strings"

// Direction says which way a unit improves.
type Direction int

const (
	Unjudged       Direction = iota // a count (visited/op, memories): neither way is better
	LowerIsBetter                   // times, latencies, (with -allocs) allocation
	HigherIsBetter                  // throughputs, recall, speed-up ratios
)

// DirectionOf classifies a benchstat unit. Allocation units are judged only when
// allocs is set: their changes are deterministic and often intended.
func DirectionOf(unit string, allocs bool) Direction {
	switch {
	case unit == "B/op" || unit == "allocs/op":
		if allocs {
			return LowerIsBetter
		}
		return Unjudged
	case strings.HasPrefix(unit, "sec/"),
		strings.HasSuffix(unit, "-ms"), strings.HasSuffix(unit, "-us"), strings.HasSuffix(unit, "-ns"):
		return LowerIsBetter
	case strings.HasSuffix(unit, "/s"), strings.HasPrefix(unit, "recall@"), strings.HasPrefix(unit, "x-"):
		return HigherIsBetter
	}
	return Unjudged
}

// Policy is what counts as a regression.
type Policy struct {
	Threshold float64 // percent worse that is tolerated
	Alpha     float64 // significance level
	Allocs    bool    // judge B/op and allocs/op too
}

// Verdict sorts the judged comparisons.
type Verdict struct {
	Regressions  []Comparison // significant and worse than the threshold
	Improvements []Comparison // significant and better than the threshold
	Judged       int          // comparisons with a known direction
}

// Judge applies p to cs.
func Judge(cs []Comparison, p Policy) Verdict {
	var v Verdict
	for _, c := range cs {
		dir := DirectionOf(c.Unit, p.Allocs)
		if dir == Unjudged {
			continue
		}
		v.Judged++
		if !c.Significant || c.P >= p.Alpha {
			continue
		}
		worse := c.Delta
		if dir == HigherIsBetter {
			worse = -c.Delta
		}
		switch {
		case worse > p.Threshold:
			v.Regressions = append(v.Regressions, c)
		case worse < -p.Threshold:
			v.Improvements = append(v.Improvements, c)
		}
	}
	return v
}
