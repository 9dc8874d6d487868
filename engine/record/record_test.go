package record

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/wal"
)

// TestPayloadBytes pins the bytes of every payload type, so a change of layout cannot pass
// unnoticed: logs written by earlier builds must replay.
func TestPayloadBytes(t *testing.T) {
	full := Memory{ID: "m1", Content: "hello ü", Confidence: 0.5, Type: 2, Tags: []string{"a", "bc"},
		ObservedAt: time.Unix(100, 7).UTC(), StoredAt: time.Unix(200, 0).UTC(), AccessCount: 3,
		Embedding: []float32{1, -2.5, 3},
		Episode:   &Episode{Where: "w", Who: []string{"x", "y"}, Why: "why", How: "how", EmotionalValence: -0.25, Importance: 0.75},
		Citations: []string{"e1"}}
	plain := Memory{ID: "p", Content: "c", Confidence: 0.7, Type: 1}
	links := []Link{{Target: "m2", Weight: 0.5, Kind: 1}, {Target: "m3", Weight: 1, Kind: 3}}
	accesses := []Access{{ID: "m1", Count: 3, Last: time.Unix(5, 0).UTC()}, {ID: "m2"}}
	tests := []struct {
		name    string
		payload []byte
		want    string
		decode  func([]byte) (any, error)
		value   any
	}{
		{"remember", AppendMemory(nil, &full),
			"010702026d310868656c6c6f20c3bc0000003f8ea0b787e90580c0ee8ed20bffffffffffffffffff0103020161026263030000803f000020c000004040017702017801790377687903686f77000080be0000403f01026531",
			func(p []byte) (any, error) { return DecodeMemory(p) }, full},
		{"remember without options", AppendMemory(nil, &plain),
			"010001017001633333333fffffffffffffffffff01ffffffffffffffffff01ffffffffffffffffff010000",
			func(p []byte) (any, error) { return DecodeMemory(p) }, plain},
		{"forget", AppendForget(nil, "m1"), "01026d31",
			func(p []byte) (any, error) { return DecodeForget(p) }, "m1"},
		{"links", AppendLinks(nil, "m1", 42, links), "01026d315402026d320000003f01026d330000803f03",
			func(p []byte) (any, error) {
				src, v, ls, err := DecodeLinks(p)
				return []any{src, v, ls}, err
			}, []any{"m1", int64(42), links}},
		{"access", AppendAccess(nil, accesses), "0102026d310380c8afa025026d3200ffffffffffffffffff01",
			func(p []byte) (any, error) { return DecodeAccess(p) }, accesses},
		{"promote", AppendPromote(nil, "m1", 1234567890123), "01026d319693d89fee47",
			func(p []byte) (any, error) {
				id, v, err := DecodePromote(p)
				return []any{id, v}, err
			}, []any{"m1", int64(1234567890123)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := hex.EncodeToString(tc.payload); got != tc.want {
				t.Fatalf("payload bytes changed:\n got %s\nwant %s", got, tc.want)
			}
			got, err := tc.decode(tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.value) {
				t.Fatalf("decoded\n %+v\nwant\n %+v", got, tc.value)
			}
			for n := range len(tc.payload) {
				if _, err := tc.decode(tc.payload[:n]); !errors.Is(err, ErrShortPayload) {
					t.Fatalf("payload cut to %d bytes: got %v, want ErrShortPayload", n, err)
				}
			}
		})
	}
}

func TestPayloadVersion(t *testing.T) {
	p := AppendForget(nil, "m1")
	p[0] = 2
	if _, err := DecodeForget(p); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 2: got %v, want ErrVersion", err)
	}
}

func TestTypeNames(t *testing.T) {
	tests := []struct {
		t    wal.RecordType
		name string
	}{
		{TypeRemember, "remember"}, {TypeForget, "forget"}, {TypeLinks, "links"},
		{TypeAccess, "access"}, {TypePromote, "promote"}, {9, "type9"},
	}
	for _, tc := range tests {
		if got := TypeName(tc.t); got != tc.name {
			t.Errorf("TypeName(%d) = %q, want %q", tc.t, got, tc.name)
		}
		got, ok := ParseType(tc.name)
		if known := tc.t <= TypePromote; ok != known || (known && got != tc.t) {
			t.Errorf("ParseType(%q) = %d, %v", tc.name, got, ok)
		}
	}
	if got := Types(); !reflect.DeepEqual(got, []wal.RecordType{1, 2, 3, 4, 5}) {
		t.Errorf("Types() = %v", got)
	}
}

// TestArenaStrings: strings from an arena hold what they were given, whether they share a
// block, start a new one or are too long for one, and later strings leave them as they were.
func TestArenaStrings(t *testing.T) {
	var a Arena
	var want, got []string
	for i := range 3000 {
		s := strings.Repeat(string(rune('a'+i%26)), i%97)
		if i%500 == 0 {
			s = strings.Repeat("x", arenaBlock/4+1+i) // a block of its own
		}
		want = append(want, s)
		got = append(got, a.String([]byte(s)))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("string %d = %q (len %d), want len %d", i, got[i][:min(len(got[i]), 20)], len(got[i]), len(want[i]))
		}
	}
}

// TestBackground checks which record types the WAL's Committer does not wait for after a
// shared round: those only the background lanes write.
func TestBackground(t *testing.T) {
	tests := []struct {
		t          wal.RecordType
		background bool
	}{
		{TypeRemember, false}, {TypeForget, false}, {TypeLinks, true}, {TypeAccess, true},
		{TypePromote, false}, {9, false},
	}
	for _, tc := range tests {
		if got := Background(tc.t); got != tc.background {
			t.Errorf("Background(%s) = %v, want %v", TypeName(tc.t), got, tc.background)
		}
	}
}
