package frontend

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/internal/enginetest"
)

// wantError checks that err is the public error with the given status and code.
func wantError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) || fe.Status != status || fe.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
}

func TestSetDefaults(t *testing.T) {
	tests := []struct {
		name        string
		in          Options
		wantContent int
		wantBody    int
	}{
		{"unset", Options{}, engine.MaxContentBytes, 8 << 20},
		{"lower content limit kept", Options{MaxContentBytes: 64, MaxBodyBytes: 1 << 10}, 64, 1 << 10},
		{"content above the engine's is capped", Options{MaxContentBytes: engine.MaxContentBytes + 1}, engine.MaxContentBytes, 8 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.in
			o.SetDefaults()
			if o.MaxContentBytes != tc.wantContent || o.MaxBodyBytes != tc.wantBody || o.MaxBatchItems != 10000 ||
				o.Logger == nil || o.Limits == nil || o.Started.IsZero() {
				t.Fatalf("defaults: %+v", o)
			}
		})
	}
}

func TestCheckContent(t *testing.T) {
	tests := []struct {
		content string
		limit   int
		message string // "" = accepted
	}{
		{"hello", 5, ""},
		{"", 5, "what must not be empty"},
		{" \t\n", 5, "what must not be empty"},
		{"hello!", 5, "what is 6 bytes; the limit is 5 bytes ([limits] max_content_bytes)"},
		{"bad \xff", 10, "what is not valid UTF-8"},
		// A bound above the engine's is the engine's: nothing passes here that it refuses.
		{strings.Repeat("a", engine.MaxContentBytes+1), 1 << 30, fmt.Sprintf("what is %d bytes; the limit is %d bytes ([limits] max_content_bytes)", engine.MaxContentBytes+1, engine.MaxContentBytes)},
	}
	for _, tc := range tests {
		err := CheckContent("what", tc.content, tc.limit)
		if tc.message == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.content, err)
			}
			continue
		}
		wantError(t, err, http.StatusBadRequest, CodeInvalidInput)
		if got := err.(*Error).Message; got != tc.message {
			t.Errorf("%.20q: message %q, want %q", tc.content, got, tc.message)
		}
	}
}

func TestEventFilter(t *testing.T) {
	ev := func(typ engine.EventType, importance float32) *engine.Event {
		return &engine.Event{Type: typ, Importance: importance}
	}
	tests := []struct {
		name          string
		stream        []engine.EventType
		names         []string
		minImportance float64
		bad           string // error message fragment; "" = accepted
		want, skip    []*engine.Event
	}{
		{name: "all of the stream", stream: MemoryEvents(),
			want: []*engine.Event{ev(engine.EventFormation, 0), ev(engine.EventRetrieval, 0)},
			skip: []*engine.Event{ev(engine.EventStorage, 1)}},
		{name: "names in any case", stream: AllEvents(), names: []string{"Storage", "FORGET"},
			want: []*engine.Event{ev(engine.EventStorage, 0), ev(engine.EventForget, 0)},
			skip: []*engine.Event{ev(engine.EventRecall, 1)}},
		{name: "importance", stream: ActivityEvents(), minImportance: 0.5,
			want: []*engine.Event{ev(engine.EventStorage, 0.5)},
			skip: []*engine.Event{ev(engine.EventStorage, 0.4), ev(engine.EventForget, 0)}},
		{name: "type of another stream", stream: ActivityEvents(), names: []string{"formation"},
			bad: `event_types: "formation" is not an event of this stream (accepted: storage, recall, activation, forget, consolidation)`},
		{name: "importance above 1", stream: AllEvents(), minImportance: 2, bad: "min_importance must be a number between 0 and 1"},
		{name: "importance below 0", stream: AllEvents(), minImportance: -0.1, bad: "min_importance must be a number between 0 and 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewEventFilter(tc.stream, tc.names, tc.minImportance)
			if tc.bad != "" {
				wantError(t, err, http.StatusBadRequest, CodeBadRequest)
				if !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("error %q does not say %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tc.want {
				if !f.Want(e) {
					t.Errorf("filter drops %+v", e)
				}
			}
			for _, e := range tc.skip {
				if f.Want(e) {
					t.Errorf("filter passes %+v", e)
				}
			}
		})
	}
}

func TestChooseSpaceFrom(t *testing.T) {
	tests := []struct {
		name    string
		choices []SpaceChoice
		id      string
		source  SpaceSource
		bad     string
	}{
		{"none", nil, engine.DefaultSpace, SourceDefault, ""},
		{"first non-empty wins", []SpaceChoice{{"", "a"}, {"team-b", "b"}, {"other", "c"}}, "team-b", "b", ""},
		{"an invalid id does not fall through", []SpaceChoice{{"no way", "x-memory-space metadata"}, {"fine", "b"}}, "", "x-memory-space metadata",
			"(from the x-memory-space metadata)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, src, err := ChooseSpaceFrom(tc.choices...)
			if tc.bad != "" {
				if !errors.Is(err, engine.ErrInvalidSpaceID) || !strings.Contains(err.Error(), tc.bad) || src != tc.source {
					t.Fatalf("got %q %q %v, want an invalid-id error %q", id, src, err, tc.bad)
				}
				return
			}
			if err != nil || id != tc.id || src != tc.source {
				t.Fatalf("got %q %q %v, want %q %q", id, src, err, tc.id, tc.source)
			}
		})
	}
}

// TestAllowRemember: a space's rate limit answers 429 RATE_LIMITED with Retry-After, and
// one space's bucket does not drain another's.
func TestAllowRemember(t *testing.T) {
	e := enginetest.Open(t, enginetest.Config(t, 8))
	limited, _, err := e.CreateSpace("limited", engine.SpaceSettings{RateLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := e.CreateSpace("other", engine.SpaceSettings{RateLimit: 2})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLimits()
	if err := l.AllowRemember(limited, 2); err != nil {
		t.Fatalf("within the rate: %v", err)
	}
	err = l.AllowRemember(limited, 1)
	wantError(t, err, http.StatusTooManyRequests, CodeRateLimited)
	if fe := err.(*Error); fe.RetryAfter < 1 || !strings.Contains(fe.Message, `memory space "limited" accepts 2 remembers per second`) {
		t.Fatalf("rate-limit answer: %+v", fe)
	}
	if err := l.AllowRemember(other, 2); err != nil {
		t.Fatalf("another space's bucket was drained: %v", err)
	}
}
