package jsonwire

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/valyala/fastjson"
)

// Typed readers of JSON fields. Each error names the field, so that a client sees which
// part of its input is wrong.

// FieldError is a field of the input that is wrong. It matches engine.ErrInvalidInput,
// and its message is the field's problem alone.
type FieldError struct{ msg string }

func (e *FieldError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, engine.ErrInvalidInput) hold.
func (e *FieldError) Unwrap() error { return engine.ErrInvalidInput }

// Invalid returns a FieldError with a formatted message.
func Invalid(format string, args ...any) *FieldError {
	return &FieldError{msg: fmt.Sprintf(format, args...)}
}

// String reads a string.
func String(v *fastjson.Value, name string) (string, error) {
	b, err := v.StringBytes()
	if err != nil {
		return "", Invalid("%s must be a string, got %s", name, v.Type())
	}
	return string(b), nil
}

func Bool(v *fastjson.Value, name string) (bool, error) {
	b, err := v.Bool()
	if err != nil {
		return false, Invalid("%s must be true or false, got %s", name, v.Type())
	}
	return b, nil
}

func Number(v *fastjson.Value, name string) (float64, error) {
	if v.Type() != fastjson.TypeNumber {
		return 0, Invalid("%s must be a number, got %s", name, v.Type())
	}
	f, err := v.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, Invalid("%s must be a finite number", name)
	}
	return f, nil
}

// Range reads a number that must lie in [lo, hi].
func Range(v *fastjson.Value, name string, lo, hi float64) (float32, error) {
	f, err := Number(v, name)
	if err != nil {
		return 0, err
	}
	if f < lo || f > hi {
		return 0, Invalid("%s must be between %g and %g, got %g", name, lo, hi, f)
	}
	return float32(f), nil
}

func Int(v *fastjson.Value, name string) (int, error) {
	f, err := Number(v, name)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, Invalid("%s must be an integer, got %g", name, f)
	}
	return int(f), nil
}

func Strings(v *fastjson.Value, name string) ([]string, error) {
	arr, err := v.Array()
	if err != nil {
		return nil, Invalid("%s must be an array of strings, got %s", name, v.Type())
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		b, err := x.StringBytes()
		if err != nil {
			return nil, Invalid("%s[%d] must be a string, got %s", name, i, x.Type())
		}
		out[i] = string(b)
	}
	return out, nil
}

// Embedding reads a vector. Components must be finite and fit a float32; the length
// is checked against the space's dimension by the engine. An empty array counts as absent.
func Embedding(v *fastjson.Value, name string) ([]float32, error) {
	arr, err := v.Array()
	if err != nil {
		return nil, Invalid("%s must be an array of numbers, got %s", name, v.Type())
	}
	if len(arr) == 0 {
		return nil, nil
	}
	out := make([]float32, len(arr))
	for i, x := range arr {
		if x.Type() != fastjson.TypeNumber {
			return nil, Invalid("%s[%d] must be a number, got %s", name, i, x.Type())
		}
		f, err := x.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
			return nil, Invalid("%s[%d] is not a finite number", name, i)
		}
		out[i] = float32(f)
	}
	return out, nil
}

func Time(v *fastjson.Value, name string) (time.Time, error) {
	s, err := String(v, name)
	if err != nil {
		return time.Time{}, err
	}
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, Invalid("%s must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got %q", name, s)
	}
	return t, nil
}

func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
