package vecjson

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestCutEmbedding(t *testing.T) {
	tests := []struct {
		name, body string
		rest       string    // "" when the reader steps aside
		vec        []float32 // the elements read
	}{
		{"plain", `{"content":"x","embedding":[1,-2.5,3e2]}`, `{"content":"x","embedding":[]}`, []float32{1, -2.5, 300}},
		{"first key, spaces", "{ \"embedding\" : [ 0.25 ,\n0.5\t] , \"content\":\"x\" }", "{ \"embedding\" : [] , \"content\":\"x\" }", []float32{0.25, 0.5}},
		{"nested decoys", `{"meta":{"embedding":[9]},"tags":["\"embedding\":[8]"],"embedding":[7]}`, `{"meta":{"embedding":[9]},"tags":["\"embedding\":[8]"],"embedding":[]}`, []float32{7}},
		{"after nested arrays", `{"a":[[1],[{"b":"]"}]],"embedding":[0]}`, `{"a":[[1],[{"b":"]"}]],"embedding":[]}`, []float32{0}},
		{"negative zero", `{"embedding":[-0.0]}`, `{"embedding":[]}`, []float32{float32(math.Copysign(0, -1))}},
		{"long mantissa", `{"embedding":[0.1234567890123456789012]}`, `{"embedding":[]}`, []float32{0.12345679}},
		{"large exponent", `{"embedding":[1.5e30]}`, `{"embedding":[]}`, []float32{1.5e30}},
		{"trailing garbage is left to the parser", `{"embedding":[1]} x`, `{"embedding":[]} x`, []float32{1}},

		{"no embedding", `{"content":"x"}`, "", nil},
		{"empty array", `{"embedding":[]}`, "", nil},
		{"null", `{"embedding":null}`, "", nil},
		{"not an object", `[1,2]`, "", nil},
		{"two embeddings", `{"embedding":[1],"embedding":[2]}`, "", nil},
		{"null then array", `{"embedding":null,"embedding":[2]}`, "", nil},
		{"escaped key", `{"embe\u0064ding":[1]}`, "", nil},
		{"escaped other key", `{"a\"b":1,"embedding":[1]}`, "", nil},
		{"string element", `{"embedding":[1,"2"]}`, "", nil},
		{"leading zero", `{"embedding":[01]}`, "", nil},
		{"bare dot", `{"embedding":[1.]}`, "", nil},
		{"plus sign", `{"embedding":[+1]}`, "", nil},
		{"NaN", `{"embedding":[NaN]}`, "", nil},
		{"beyond float32", `{"embedding":[1e39]}`, "", nil},
		{"beyond float64", `{"embedding":[1e400]}`, "", nil},
		{"trailing comma", `{"embedding":[1,]}`, "", nil},
		{"unclosed", `{"embedding":[1,2`, "", nil},
		{"mismatched brackets before", `{"a":[1},"embedding":[1]}`, "", nil},
		{"missing colon", `{"embedding" [1]}`, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rest, vec, ok := Cut([]byte(tc.body), nil)
			reused := make([]float32, 0, 4)
			if rest2, vec2, ok2 := Cut([]byte(tc.body), reused); ok2 != ok || string(rest2) != string(rest) || fmt.Sprint(vec2) != fmt.Sprint(vec) {
				t.Fatalf("with a buffer: %q %v %v, without: %q %v %v", rest2, vec2, ok2, rest, vec, ok)
			}
			if ok != (tc.rest != "") {
				t.Fatalf("ok = %v, rest %q", ok, rest)
			}
			if !ok {
				return
			}
			if string(rest) != tc.rest {
				t.Fatalf("rest = %s, want %s", rest, tc.rest)
			}
			if len(vec) != len(tc.vec) {
				t.Fatalf("vec = %v, want %v", vec, tc.vec)
			}
			for i := range vec {
				if math.Float32bits(vec[i]) != math.Float32bits(tc.vec[i]) {
					t.Fatalf("vec[%d] = %v, want %v", i, vec[i], tc.vec[i])
				}
			}
		})
	}
}

// TestReadNumberRounding: the one-pass reader rounds as strconv.ParseFloat does, on the
// shapes clients send (embeddings written with 6 to 17 digits) and on the edges of
// Clinger's fast path.
func TestReadNumberRounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var inputs []string
	for range 20000 {
		x := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-6))
		for _, prec := range []int{-1, 6, 9, 17} {
			inputs = append(inputs, strconv.FormatFloat(x, 'f', prec, 64), strconv.FormatFloat(x, 'e', prec, 64))
		}
		inputs = append(inputs, strconv.FormatFloat(x, 'g', -1, 32))
	}
	inputs = append(inputs, "9007199254740993", "9007199254740992", "1e22", "1e23", "123456789e-22",
		"123456789e-23", "0.000000000000000000000000001", "9999999999999999999", "10000000000000000000",
		"1E+2", "1e-2", "-0", "0e10", "4.9e-324", "2e-324", "1.7976931348623157e308")
	for _, s := range inputs {
		f, n, ok := readNumber([]byte(s), 0)
		want, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%s: strconv: %v", s, err)
		}
		if !ok || n != len(s) || math.Float64bits(f) != math.Float64bits(want) {
			t.Fatalf("readNumber(%s) = %v (n %d, ok %v), strconv %v", s, f, n, ok, want)
		}
	}
}

// FuzzReadNumber: what the one-pass reader accepts is a JSON number, and its value is
// strconv.ParseFloat's; every JSON number in float64's range is accepted; and Check's
// grammar accepts every number the reader reads whole.
func FuzzReadNumber(f *testing.F) {
	for _, s := range []string{"0", "-0.5", "1e5", "0.1234567890123456789", "01", "1.", "-", "1e", "+1", "1e400",
		".5", "-.5", "00", "-01", "1.e5", "1e+", "0x1", "1_000", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, n, ok := readNumber([]byte(s), 0)
		if len(s) > 0 {
			end, err := checkNumber([]byte(s), 0)
			if ok && n == len(s) && (err != nil || end != n) {
				t.Fatalf("readNumber reads %q to %d, checkNumber to %d (%v)", s, n, end, err)
			}
			if err == nil && end == len(s) && !json.Valid([]byte(s)) {
				t.Fatalf("checkNumber accepts %q, not a JSON number", s)
			}
		}
		whole := ok && n == len(s)
		want, err := strconv.ParseFloat(s, 64)
		isNumber := json.Valid([]byte(s)) && len(s) > 0 && (s[0] == '-' || isDigit(s[0]))
		switch {
		case whole && !isNumber:
			t.Fatalf("accepted %q, not a JSON number", s)
		case whole && math.Float64bits(v) != math.Float64bits(want):
			t.Fatalf("readNumber(%q) = %v, strconv %v", s, v, want)
		case !whole && isNumber && err == nil:
			t.Fatalf("refused the JSON number %q", s)
		}
	})
}

func TestElements(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	tests := []struct {
		name, body string
		elems      []string // nil when Elements steps aside
		ok         bool
	}{
		{"empty", ` [ ] `, nil, true},
		{"objects", `[{"a":[1,{"b":"]"}]}, {"c":"x,y"} ]`, []string{`{"a":[1,{"b":"]"}]}`, `{"c":"x,y"}`}, true},
		{"scalars are spans for the parser to judge", `[1, tru, "s"]`, []string{`1`, `tru`, `"s"`}, true},
		{"not an array", `{"a":1}`, nil, false},
		{"trailing comma", `[1,]`, nil, false},
		{"missing comma", `[{} {}]`, nil, false},
		{"unclosed", `[{"a":1}`, nil, false},
		{"trailing bytes", `[1] x`, nil, false},
		{"mismatched", `[{"a":[1}]}]`, nil, false},
		{"unterminated string", `["abc]`, nil, false},
		{"too deep", "[" + deep + "]", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			elems, n, ok := Elements([]byte(tc.body), 100)
			if ok != tc.ok {
				t.Fatalf("ok = %v, elements %q", ok, elems)
			}
			var got []string
			for _, e := range elems {
				got = append(got, string(e))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.elems) {
				t.Fatalf("elements %q, want %q", got, tc.elems)
			}
			if n != len(tc.elems) {
				t.Fatalf("n = %d, want %d", n, len(tc.elems))
			}
		})
	}
}

// TestElementsLimit: past the limit elements are counted, not kept.
func TestElementsLimit(t *testing.T) {
	body := []byte("[" + strings.TrimSuffix(strings.Repeat("0,", 1000), ",") + "]")
	elems, n, ok := Elements(body, 10)
	if !ok || n != 1000 || elems != nil {
		t.Fatalf("Elements(1000 zeros, 10) = %d spans, n %d, ok %v; want none, 1000, true", len(elems), n, ok)
	}
	if elems, n, ok = Elements(body, 1000); !ok || n != 1000 || len(elems) != 1000 {
		t.Fatalf("Elements(1000 zeros, 1000) = %d spans, n %d, ok %v", len(elems), n, ok)
	}
}

// TestElementsAllocatesOnlyItsSpans: walking an array of objects allocates nothing per
// element past the limit, so counting millions of them is free.
func TestElementsAllocatesOnlyItsSpans(t *testing.T) {
	body := []byte("[" + strings.TrimSuffix(strings.Repeat(`{"a":[1,{}]},`, 10000), ",") + "]")
	if a := testing.AllocsPerRun(20, func() {
		if _, n, ok := Elements(body, 0); !ok || n != 10000 {
			t.Fatal("not split")
		}
	}); a != 0 {
		t.Fatalf("Elements allocates %v times for 10,000 elements past its limit", a)
	}
}
