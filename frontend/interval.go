package frontend

import "math"

// Interval is a 95% confidence interval around a point estimate, all in [0, 1].
type Interval struct {
	Lower, Point, Upper float64
}

// z95 is the normal quantile of a two-sided 95% interval.
const z95 = 1.96

// Interval95 brackets a confidence point with a 95% interval computed from the scores of
// the results behind it: the Wilson score interval of point with one observation per
// result, widened to the normal interval of the mean score when the scores disagree more
// than that. With no result there is no evidence: the interval is [0, 1] around 0.
func Interval95(point float64, scores []float64) Interval {
	n := float64(len(scores))
	if n == 0 {
		return Interval{Lower: 0, Upper: 1, Point: 0}
	}
	z2 := z95 * z95
	centre := (point + z2/(2*n)) / (1 + z2/n)
	half := z95 / (1 + z2/n) * math.Sqrt(point*(1-point)/n+z2/(4*n*n))
	if n > 1 {
		half = math.Max(half, z95*StdDev(scores)/math.Sqrt(n))
	}
	lower := math.Max(0, math.Min(point, centre-half))
	upper := math.Min(1, math.Max(point, centre+half))
	return Interval{Lower: lower, Upper: upper, Point: point}
}

// StdDev is the sample standard deviation (0 under two values).
func StdDev(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}
