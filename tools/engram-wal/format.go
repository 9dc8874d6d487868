package main

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeFormat says how times written by the log (append times, segment time ranges) are
// printed. Times inside record payloads are data and always printed in RFC 3339.
type timeFormat uint8

const (
	timesUTC  timeFormat = iota // RFC 3339 in UTC, milliseconds in tables, nanoseconds in JSON
	timesUnix                   // Unix nanoseconds
	timesNone                   // left out, so that logs written at different moments compare equal
)

// textTimeLayout is RFC 3339 with a fixed width, so table columns line up.
const textTimeLayout = "2006-01-02T15:04:05.000Z07:00"

func (f *timeFormat) String() string {
	switch *f {
	case timesUnix:
		return "unix"
	case timesNone:
		return "none"
	}
	return "utc"
}

func (f *timeFormat) Set(s string) error {
	switch strings.ToLower(s) {
	case "utc", "rfc3339":
		*f = timesUTC
	case "unix":
		*f = timesUnix
	case "none":
		*f = timesNone
	default:
		return fmt.Errorf("%q is not one of utc, unix, none", s)
	}
	return nil
}

func (f *timeFormat) Type() string { return "utc|unix|none" }

// text formats t for a table or a dump line: "-" for an unknown time, "" with --times none.
func (f timeFormat) text(t time.Time) string {
	switch {
	case f == timesNone:
		return ""
	case t.IsZero():
		return "-"
	case f == timesUnix:
		return strconv.FormatInt(t.UnixNano(), 10)
	}
	return t.UTC().Format(textTimeLayout)
}

// shown reports whether time columns are printed at all.
func (f timeFormat) shown() bool { return f != timesNone }

// payloadTime formats a time decoded from a payload; "" when unset.
func payloadTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// hexPrefix shows the first n bytes of b as spaced hex, with "…" when b is longer.
func hexPrefix(b []byte, n int) string {
	if len(b) == 0 {
		return "(none)"
	}
	short := b[:min(len(b), n)]
	var sb strings.Builder
	for i, c := range short {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(hex.EncodeToString([]byte{c}))
	}
	if len(b) > n {
		sb.WriteString(" …")
	}
	return sb.String()
}

// orDash prints an empty field as "-", so whitespace-separated columns stay aligned.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plural returns "1 frame" or "2 frames".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}
