package query

import (
	"errors"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseValid(t *testing.T) {
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		src  string
		want Query
	}{
		{`RECALL mem_1`, &Recall{Pattern: Pattern{ID: "mem_1"}}},
		{`recall mem_1`, &Recall{Pattern: Pattern{ID: "mem_1"}}},
		{`RECALL "coffee in the morning"`, &Recall{Pattern: Pattern{Text: "coffee in the morning"}}},
		{`RECALL "say \"hi\"\n"`, &Recall{Pattern: Pattern{Text: "say \"hi\"\n"}}},
		{`RECALL [0.1, -2, 3e-1] THRESHOLD 0.8`, &Recall{Pattern: Pattern{Vector: []float32{0.1, -2, 0.3}}, Threshold: 0.8, HasThreshold: true}},
		{`RECALL "x" LIMIT 5 THRESHOLD 0`, &Recall{Pattern: Pattern{Text: "x"}, Limit: 5, HasThreshold: true}},
		{`RECALL "x" WHERE content CONTAINS "tea" AND tag = "home" AND tag != "work" AND type = semantic CONFIDENCE >= 0.5 LIMIT 1000`,
			&Recall{Pattern: Pattern{Text: "x"}, Limit: 1000, Confidence: &Bound{">=", 0.5}, Where: []Constraint{
				{Field: FieldContent, Pos: Pos{1, 18}, Text: "tea"},
				{Field: FieldTag, Pos: Pos{1, 45}, Text: "home"},
				{Field: FieldTag, Pos: Pos{1, 62}, Text: "work", Not: true},
				{Field: FieldType, Pos: Pos{1, 80}, Text: "semantic"},
			}}},
		{"RECALL \"x\"\n  WHERE created AFTER \"2024-01-02\" AND confidence < 0.9",
			&Recall{Pattern: Pattern{Text: "x"}, Where: []Constraint{
				{Field: FieldCreated, Pos: Pos{2, 9}, After: true, Time: day},
				{Field: FieldConfidence, Pos: Pos{2, 40}, Bound: Bound{"<", 0.9}},
			}}},
		{`RECALL mem_1 CONFIDENCE > 0.7`, &Recall{Pattern: Pattern{ID: "mem_1"}, Confidence: &Bound{">", 0.7}}},
		{`SPREAD FROM a.b:c-1`, &Spread{From: "a.b:c-1"}},
		{`SPREAD FROM m MAX_HOPS 4 DECAY 0.25 THRESHOLD 0.01`, &Spread{From: "m", MaxHops: 4, Decay: 0.25, Threshold: 0.01}},
		{`SPREAD FROM m THRESHOLD 1 MAX_HOPS 8`, &Spread{From: "m", MaxHops: 8, Threshold: 1}},
		{`SPREAD FROM 123abc`, &Spread{From: "123abc"}},
		{`PREDICT "rain" GIVEN a, b HORIZON 3600`, &Predict{Pattern: Pattern{Text: "rain"}, Given: []string{"a", "b"}, Horizon: time.Hour}},
		{`IMAGINE [1] BASED ON a NOVELTY 0.3 CONFIDENCE > 0.2`, &Imagine{Pattern: Pattern{Vector: []float32{1}}, BasedOn: []string{"a"}, Novelty: 0.3, Confidence: &Bound{">", 0.2}}},
		{`CONSOLIDATE WHERE tag = "trip" INTO trip_summary`, &Consolidate{Where: []Constraint{{Field: FieldTag, Pos: Pos{1, 19}, Text: "trip"}}, Into: "trip_summary"}},
		{`CONSOLIDATE "trip" INTO s`, &Consolidate{Pattern: &Pattern{Text: "trip"}, Into: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %#v\nwant    %#v", got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ src, want string }{
		{``, "expected RECALL, SPREAD, PREDICT, IMAGINE or CONSOLIDATE at the start of the query, got the end of the query at 1:1"},
		{`FETCH x`, "expected RECALL, SPREAD, PREDICT, IMAGINE or CONSOLIDATE at the start of the query, got 'FETCH' at 1:1"},
		{`RECALL`, `expected a memory id, "text" or [vector] after RECALL, got the end of the query at 1:7`},
		{`RECALL WHERE`, `expected a memory id, "text" or [vector] after RECALL, got the keyword WHERE at 1:8`},
		{`RECALL [0.1, 0.2] THRESHOLD high`, "expected a number after THRESHOLD, got 'high' at 1:29"},
		{`RECALL "coffee with friends" THRESHOLD`, "expected a number after THRESHOLD, got the end of the query at 1:39"},
		{`RECALL "x" THRESHOLD 1.5`, "THRESHOLD must be between 0 and 1, got 1.5 at 1:22"},
		{`RECALL "x" THRESHOLD 0.1 THRESHOLD 0.2`, "THRESHOLD is given twice at 1:26"},
		{`RECALL mem_1 THRESHOLD 0.5`, "THRESHOLD applies to a text or vector cue, not to the memory id mem_1 at 1:14"},
		{`RECALL mem_1 LIMIT 5`, "LIMIT applies to a text or vector cue; RECALL of a memory id answers one memory at 1:14"},
		{`RECALL "x" LIMIT 0`, "LIMIT must be a whole number from 1 to 1000, got 0 at 1:18"},
		{`RECALL "x" LIMIT 2.5`, "LIMIT must be a whole number from 1 to 1000, got 2.5 at 1:18"},
		{`RECALL "x" BASE_RATE 0.1`, "expected THRESHOLD, WHERE, CONFIDENCE, LIMIT or the end of the query, got 'BASE_RATE' at 1:12"},
		{`RECALL ""`, "the text after RECALL is empty at 1:8"},
		{`RECALL "abc`, "unterminated string at 1:8"},
		{`RECALL "a\qb"`, `unknown escape \q in a string (use \" \\ \n or \t) at 1:10`},
		{`RECALL []`, "the vector is empty at 1:8"},
		{`RECALL [1, ]`, "expected a number after ',', got ']' at 1:12"},
		{`RECALL [1 2]`, "expected ',' or ']' in the vector, got the number 2 at 1:11"},
		{`RECALL [1e999]`, "1e999 is not a finite 32-bit number at 1:9"},
		{`RECALL "x" WHERE`, "expected content, created, confidence, tag or type after WHERE, got the end of the query at 1:17"},
		{`RECALL "x" WHERE colour = "red"`, "expected content, created, confidence, tag or type after WHERE, got 'colour' at 1:18"},
		{`RECALL "x" WHERE content = "a"`, "expected CONTAINS after content, got '=' at 1:26"},
		{`RECALL "x" WHERE created SINCE "2024-01-01"`, "expected BEFORE or AFTER after created, got 'SINCE' at 1:26"},
		{`RECALL "x" WHERE created AFTER "yesterday"`, `expected an RFC 3339 time or a YYYY-MM-DD date after AFTER, got "yesterday" at 1:32`},
		{`RECALL "x" WHERE confidence = 0.5`, "expected >, <, >= or <= after confidence, got '=' at 1:29"},
		{`RECALL "x" WHERE tag > "a"`, "expected = or != after tag, got '>' at 1:22"},
		{`RECALL "x" WHERE type = working`, "expected episodic, semantic or procedural after type =, got 'working' at 1:25"},
		{`RECALL "x" WHERE tag = "a" AND`, "expected content, created, confidence, tag or type after AND, got the end of the query at 1:31"},
		{`RECALL "x" CONFIDENCE 0.5`, "expected >, <, >= or <= after CONFIDENCE, got the number 0.5 at 1:23"},
		{`RECALL "x" CONFIDENCE > 2`, "CONFIDENCE > must be between 0 and 1, got 2 at 1:25"},
		{`RECALL "x" ! 1`, "expected '!=', got a lone '!' at 1:12"},
		{`RECALL "x" @`, "unexpected character '@' at 1:12"},
		{"RECALL \"x\"\nLIMIT", "expected a number after LIMIT, got the end of the query at 2:6"},
		{`SPREAD mem_1`, "expected FROM after SPREAD, got 'mem_1' at 1:8"},
		{`SPREAD FROM`, "expected a memory id after FROM, got the end of the query at 1:12"},
		{`SPREAD FROM "m"`, "expected a memory id after FROM, got a string at 1:13"},
		{`SPREAD FROM ..`, `.. is not a valid memory id: id must not be ".." at 1:13`},
		{`SPREAD FROM m MAX_HOPS 0`, "MAX_HOPS must be a whole number from 1 to 8, got 0 at 1:24"},
		{`SPREAD FROM m MAX_HOPS 9`, "MAX_HOPS must be a whole number from 1 to 8, got 9 at 1:24"},
		{`SPREAD FROM m DECAY 0`, "DECAY must be above 0 (activation would not move) at 1:21"},
		{`SPREAD FROM m DECAY -0.5`, "DECAY must be between 0 and 1, got -0.5 at 1:21"},
		{`SPREAD FROM m THRESHOLD 0`, "THRESHOLD of SPREAD must be above 0 (it bounds the work) at 1:25"},
		{`SPREAD FROM m HOPS 3`, "expected MAX_HOPS, DECAY, THRESHOLD or the end of the query, got 'HOPS' at 1:15"},
		{`SPREAD FROM m DECAY 0.5 DECAY 0.5`, "DECAY is given twice at 1:25"},
		{`PREDICT "x"`, "expected GIVEN after the PREDICT pattern, got the end of the query at 1:12"},
		{`PREDICT "x" GIVEN a,`, "expected a memory id after ',', got the end of the query at 1:21"},
		{`IMAGINE "x" BASED a`, "expected ON after BASED, got 'a' at 1:19"},
		{`CONSOLIDATE "x"`, "expected INTO after the episodes to consolidate, got the end of the query at 1:16"},
		{`CONSOLIDATE "x" INTO a b`, "unexpected 'b' after a complete CONSOLIDATE query at 1:24"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			q, err := Parse(tt.src)
			if err == nil {
				t.Fatalf("Parse = %#v, want error %q", q, tt.want)
			}
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not match ErrSyntax", err)
			}
			if err.Error() != tt.want {
				t.Fatalf("error\n got %q\nwant %q", err.Error(), tt.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that every failure is a positioned syntax
// error inside the input, and that a parsed query is validated.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`RECALL mem_1`, `RECALL "tea" THRESHOLD 0.4 WHERE tag = "a" AND created BEFORE "2024-01-01" CONFIDENCE > 0.5 LIMIT 3`,
		`RECALL [0.1, 0.2]`, `SPREAD FROM m MAX_HOPS 2 DECAY 0.5 THRESHOLD 0.1`, `PREDICT "x" GIVEN a, b HORIZON 10`,
		`IMAGINE "x" BASED ON a NOVELTY 0.2`, `CONSOLIDATE WHERE content CONTAINS "x" INTO y`, "RECALL \"a\\\"\nb\"", `RECALL [1e39]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SyntaxError", err)
			}
			lines := 1
			for _, c := range src {
				if c == '\n' {
					lines++
				}
			}
			if se.Pos.Line < 1 || se.Pos.Line > lines || se.Pos.Col < 1 || se.Pos.Col > utf8.RuneCountInString(src)+1 {
				t.Fatalf("position %v outside the input %q", se.Pos, src)
			}
			return
		}
		switch q := q.(type) {
		case *Recall:
			if q.Limit < 0 || q.Limit > MaxLimit || q.Threshold < 0 || q.Threshold > 1 {
				t.Fatalf("unvalidated recall %#v", q)
			}
			n := 0
			if q.Pattern.ID != "" {
				n++
			}
			if q.Pattern.Text != "" {
				n++
			}
			if len(q.Pattern.Vector) > 0 {
				n++
			}
			if n != 1 {
				t.Fatalf("pattern %#v has %d parts", q.Pattern, n)
			}
		case *Spread:
			if q.From == "" || q.MaxHops < 0 || q.MaxHops > MaxHops || q.Decay < 0 || q.Decay > 1 || q.Threshold < 0 || q.Threshold > 1 {
				t.Fatalf("unvalidated spread %#v", q)
			}
		}
	})
}
