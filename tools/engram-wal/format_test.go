package main

import (
	"testing"
	"time"
)

func TestTimeFormat(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))
	cases := []struct {
		flag string
		at   time.Time
		want string
	}{
		{"utc", at, "2026-03-04T04:06:07.891Z"},
		{"rfc3339", at, "2026-03-04T04:06:07.891Z"},
		{"unix", at, "1772597167891234567"},
		{"none", at, ""},
		{"utc", time.Time{}, "-"},
		{"unix", time.Time{}, "-"},
	}
	for _, c := range cases {
		var f timeFormat
		if err := f.Set(c.flag); err != nil {
			t.Fatal(err)
		}
		if got := f.text(c.at); got != c.want {
			t.Errorf("--times %s: %q, want %q", c.flag, got, c.want)
		}
	}
	var f timeFormat
	if err := f.Set("local"); err == nil {
		t.Error("--times local accepted")
	}
}

func TestHexPrefix(t *testing.T) {
	cases := []struct {
		b    []byte
		n    int
		want string
	}{
		{nil, 4, "(none)"},
		{[]byte{0xd7, 0x5a}, 4, "d7 5a"},
		{[]byte{0xd7, 0x5a, 0x3c, 0xe1, 0x02}, 4, "d7 5a 3c e1 …"},
	}
	for _, c := range cases {
		if got := hexPrefix(c.b, c.n); got != c.want {
			t.Errorf("hexPrefix(% x, %d) = %q, want %q", c.b, c.n, got, c.want)
		}
	}
}

func TestParseTypeFilter(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint8
		ok   bool
	}{
		{"remember", 1, true}, {"forget", 2, true}, {"links", 3, true}, {"access", 4, true},
		{"7", 7, true}, {"type9", 9, true}, {"0", 0, false}, {"256", 0, false}, {"bogus", 0, false},
	} {
		got, err := parseTypeFilter(c.in)
		if (err == nil) != c.ok || uint8(got) != c.want {
			t.Errorf("parseTypeFilter(%q) = %d, %v", c.in, got, err)
		}
	}
}
