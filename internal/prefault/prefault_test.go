package prefault

import (
	"testing"
)

// TestPopulateKeepsContents: populating a buffer, whole or any part of it (pages it only
// partly covers included), never changes a byte of it.
func TestPopulateKeepsContents(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to int
	}{
		{"whole buffer", 0, 1 << 20},
		{"unaligned middle", 123, 300_001},
		{"less than a page", 10, 200},
		{"empty", 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]uint32, 1<<18)
			for i := range buf {
				buf[i] = uint32(i*2654435761) | 1
			}
			Populate(buf[tc.from/4 : tc.to/4])
			for i, v := range buf {
				if v != uint32(i*2654435761)|1 {
					t.Fatalf("word %d changed to %#x", i, v)
				}
			}
		})
	}
}
