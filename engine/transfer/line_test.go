package transfer

import (
	"bytes"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/valyala/fastjson"
)

func TestLineRoundTrip(t *testing.T) {
	var p fastjson.Parser
	in := engine.Memory{
		ID: "m:1", Content: "line\nbreak \u2028 \"q\"", Embedding: []float32{1.0000001, -3e-38, 0, 65504.5},
		Confidence: 0.123456789, ObservedAt: time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		StoredAt: time.Date(2024, 3, 1, 0, 0, 0, 1, time.UTC), AccessCount: math.MaxUint32,
		Tags: []string{"a", "b"}, Type: engine.Procedural,
		Episode:   &engine.Episode{Where: "w", Who: []string{"x"}, Why: "y", How: "z", EmotionalValence: -1, Importance: 1},
		Citations: []string{"e1"},
	}
	line := AppendLine(nil, &in)
	if !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", line)
	}
	out, err := ParseLine(&p, bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
	bare := engine.Memory{ID: "b", Content: "c", Type: engine.Episodic, Confidence: 0.5}
	out, err = ParseLine(&p, AppendLine(nil, &bare))
	if err != nil || !reflect.DeepEqual(out, bare) {
		t.Fatalf("bare memory: %+v, %v", out, err)
	}
}

func TestParseLineRefuses(t *testing.T) {
	var p fastjson.Parser
	for _, tc := range []struct{ line, words string }{
		{`[]`, "must be a JSON object"},
		{`{"id":"a"}`, "content is required"},
		{`{"id":"a","content":"c","memory_type":"dream"}`, "memory_type"},
		{`{"id":"a","content":"c","access_count":-1}`, "access_count"},
		{`{"id":"a","content":"c","access_count":1.5}`, "integer"},
		{`{"id":"a","content":"c","observed_at":"yesterday"}`, "observed_at"},
		{`{"id":"a","content":"c","episode":{"mood":"x"}}`, "episode.mood"},
		{`{"id":"a","content":"c","episode":{"emotional_valence":3}}`, "emotional_valence"},
		{`{"id":"a","content":"c","embedding":[1,"x"]}`, "embedding[1]"},
		{`{"id":"a","content":"c","tier":"hot"}`, `unknown field "tier"`},
		{`{"id":"a","content":"c","tier":null}`, `unknown field "tier"`},
	} {
		_, err := ParseLine(&p, []byte(tc.line))
		if err == nil || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.line, err, tc.words)
		}
	}
}

func TestLineReader(t *testing.T) {
	in := "a\n\n" + strings.Repeat("x", 40) + "\nbb\nlast"
	lr := newLineReader(strings.NewReader(in), 10)
	type got struct {
		line string
		n    int
		long bool
	}
	var out []got
	for {
		line, n, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil && err != errLineTooLong {
			t.Fatal(err)
		}
		out = append(out, got{string(line), n, err == errLineTooLong})
	}
	want := []got{{"a", 1, false}, {"", 2, false}, {"", 3, true}, {"bb", 4, false}, {"last", 5, false}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("lines %+v, want %+v", out, want)
	}
}
