package httpapi

import (
	"math"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// Typed readers of JSON body fields. Each error names the field, so that a client sees
// which part of its body is wrong.

func fieldString(v *fastjson.Value, name string) (string, error) {
	b, err := v.StringBytes()
	if err != nil {
		return "", invalidInput("%s must be a string, got %s", name, v.Type())
	}
	return string(b), nil
}

func fieldBool(v *fastjson.Value, name string) (bool, error) {
	b, err := v.Bool()
	if err != nil {
		return false, invalidInput("%s must be true or false, got %s", name, v.Type())
	}
	return b, nil
}

func fieldNumber(v *fastjson.Value, name string) (float64, error) {
	if v.Type() != fastjson.TypeNumber {
		return 0, invalidInput("%s must be a number, got %s", name, v.Type())
	}
	f, err := v.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, invalidInput("%s must be a finite number", name)
	}
	return f, nil
}

// fieldRange reads a number that must lie in [lo, hi].
func fieldRange(v *fastjson.Value, name string, lo, hi float64) (float32, error) {
	f, err := fieldNumber(v, name)
	if err != nil {
		return 0, err
	}
	if f < lo || f > hi {
		return 0, invalidInput("%s must be between %g and %g, got %g", name, lo, hi, f)
	}
	return float32(f), nil
}

func fieldInt(v *fastjson.Value, name string) (int, error) {
	f, err := fieldNumber(v, name)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, invalidInput("%s must be an integer, got %g", name, f)
	}
	return int(f), nil
}

func fieldStrings(v *fastjson.Value, name string) ([]string, error) {
	arr, err := v.Array()
	if err != nil {
		return nil, invalidInput("%s must be an array of strings, got %s", name, v.Type())
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		b, err := x.StringBytes()
		if err != nil {
			return nil, invalidInput("%s[%d] must be a string, got %s", name, i, x.Type())
		}
		out[i] = string(b)
	}
	return out, nil
}

// fieldEmbedding reads a vector. Components must be finite and fit a float32; the length
// is checked against the space's dimension by the engine. An empty array counts as absent.
func fieldEmbedding(v *fastjson.Value, name string) ([]float32, error) {
	arr, err := v.Array()
	if err != nil {
		return nil, invalidInput("%s must be an array of numbers, got %s", name, v.Type())
	}
	if len(arr) == 0 {
		return nil, nil
	}
	out := make([]float32, len(arr))
	for i, x := range arr {
		if x.Type() != fastjson.TypeNumber {
			return nil, invalidInput("%s[%d] must be a number, got %s", name, i, x.Type())
		}
		f, err := x.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
			return nil, invalidInput("%s[%d] is not a finite number", name, i)
		}
		out[i] = float32(f)
	}
	return out, nil
}

func fieldTime(v *fastjson.Value, name string) (time.Time, error) {
	s, err := fieldString(v, name)
	if err != nil {
		return time.Time{}, err
	}
	t, err := parseTime(s)
	if err != nil {
		return time.Time{}, invalidInput("%s must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got %q", name, s)
	}
	return t, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// splitList splits a comma list, trimming blanks and dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
