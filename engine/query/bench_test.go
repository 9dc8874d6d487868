package query

import (
	"strconv"
	"strings"
	"testing"
)

// BenchmarkParse measures parsing a typical RECALL with clauses and a RECALL of a
// 768-dimension vector literal.
func BenchmarkParse(b *testing.B) {
	var vec strings.Builder
	vec.WriteString("RECALL [")
	for i := range 768 {
		if i > 0 {
			vec.WriteString(", ")
		}
		vec.WriteString(strconv.FormatFloat(float64(i%97)/97-0.5, 'f', 6, 64))
	}
	vec.WriteString("] THRESHOLD 0.5 LIMIT 10")
	for _, bc := range []struct{ name, src string }{
		{"clauses", `RECALL "coffee at the harbour" THRESHOLD 0.4 WHERE tag = "trip" AND created AFTER "2024-01-01" CONFIDENCE > 0.5 LIMIT 20`},
		{"vector768", vec.String()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bc.src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
