package wal

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

// TestFormatIsStable pins the byte layout to the worked example of docs/formats/wal.md: a change
// here is a format change and needs a new format version.
func TestFormatIsStable(t *testing.T) {
	tests := []struct {
		name string
		got  func() []byte
		want string
	}{
		{"segment header", func() []byte {
			b := make([]byte, headerSize)
			encodeHeader(b, SegmentHeader{Seq: 1, Space: "default", FirstLSN: 1, Created: time.Unix(0, 1_767_225_600_000_000_000)})
			return b
		}, `
			45 4e 47 52 4d 57 41 4c  01 00 07 00 00 00 00 00
			01 00 00 00 00 00 00 00  01 00 00 00 00 00 00 00
			00 00 fa ed 51 72 86 18  64 65 66 61 75 6c 74 00
			00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
			00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
			00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
			00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00
			00 00 00 00 00 00 00 00  f7 31 b6 72 68 2b 1e f4`},
		{"record frame", func() []byte {
			return appendFrame(nil, 1, 1, 1_767_225_600_123_456_789, []byte("hi"))
		}, `
			d7 5a 3c e1 02 00 00 00  01 00 00 00 00 00 00 00
			15 cd 55 f5 51 72 86 18  01 00 00 00 2f 20 ad d0
			68 69 18 57 aa c3 bf 21  b2 2f`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := hex.DecodeString(strings.Join(strings.Fields(tt.want), ""))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(); string(got) != string(want) {
				t.Fatalf("bytes changed:\n%s", hex.Dump(got))
			}
		})
	}
}
