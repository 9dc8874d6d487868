package wal

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// testSegment returns a segment of sequence 1 whose frames hold LSNs first..first+n-1.
func testSegment(first uint64, n int) []byte {
	data := make([]byte, headerSize)
	encodeHeader(data, SegmentHeader{Seq: 1, Space: "s", FirstLSN: first, Created: time.Unix(1, 0)})
	for i := range n {
		data = appendFrame(data, first+uint64(i), 1, int64(i), payloadFor(i))
	}
	return data
}

// TestVerifySegment checks the one classification of damage that recovery and engram-wal
// share, and that recovery keeps exactly the records it calls intact.
func TestVerifySegment(t *testing.T) {
	clean := testSegment(1, 3)
	frameEnd := func(k int) int { // end of the k-th frame (1-based)
		end, seen := headerSize, 0
		_, _ = scanBytes(clean, func(f Frame) error {
			if seen++; seen == k {
				end = int(f.Offset) + len(f.Raw)
			}
			return nil
		})
		return end
	}
	flip := func(data []byte, at int) []byte {
		out := slices.Clone(data)
		out[at] ^= 0xff
		return out
	}
	tests := []struct {
		name  string
		data  []byte
		place SegmentPlace
		want  string // classes in callback order: h (header) or f (frame), then the class
	}{
		{"clean last", clean, SegmentPlace{Last: true}, "f:intact f:intact f:intact"},
		{"cut last frame, last segment", clean[:frameEnd(3)-5], SegmentPlace{Last: true}, "f:intact f:intact f:torn"},
		{"cut last frame, sealed segment", clean[:frameEnd(3)-5], SegmentPlace{}, "f:intact f:intact f:corrupt"},
		{"damaged middle frame", flip(clean, frameEnd(1)+40), SegmentPlace{Last: true}, "f:intact f:corrupt f:intact"},
		{"LSNs not above the log's", clean, SegmentPlace{PrevLSN: 2}, "f:corrupt f:corrupt f:intact"},
		{"only LSNs not above the log's, last", clean, SegmentPlace{PrevLSN: 3, Last: true}, "f:torn f:torn f:torn"},
		{"damaged header, last, frames follow", flip(clean, 10), SegmentPlace{Last: true}, "h:corrupt f:intact f:intact f:intact"},
		{"damaged header, last, nothing else", flip(clean[:headerSize], 10), SegmentPlace{Last: true}, "h:torn"},
		{"damaged header, sealed", flip(clean[:headerSize], 10), SegmentPlace{}, "h:corrupt"},
		{"header of another sequence", clean, SegmentPlace{Seq: 2, SeqKnown: true}, "h:corrupt f:intact f:intact f:intact"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			st, err := verifyBytes(tc.data, tc.place, func(v *Verified) error {
				kind := "f"
				if v.Header {
					kind = "h"
				}
				if (v.Damage == Intact) != (v.Err == nil) {
					t.Errorf("item at %d: class %s with error %v", v.Offset, v.Damage, v.Err)
				}
				got = append(got, kind+":"+v.Damage.String())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("classes %q, want %q", g, tc.want)
			}
			if n := strings.Count(tc.want, "f:intact"); st.Records != n {
				t.Errorf("stats count %d records, want %d", st.Records, n)
			}
			if n := strings.Count(tc.want, "f:corrupt"); st.Corrupted != n {
				t.Errorf("stats count %d corrupted frames, want %d", st.Corrupted, n)
			}
			seq := tc.place.Seq
			if !tc.place.SeqKnown {
				seq = 1
			}
			var kept []uint64
			r, err := recoverSegment(segmentFile{seq: seq}, tc.data, tc.place.Last, tc.place.PrevLSN, "s", func(f Frame) error {
				kept = append(kept, f.LSN)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(kept) != st.Records || r.records != st.Records {
				t.Errorf("recovery replayed %v (%d records), verification found %d intact", kept, r.records, st.Records)
			}
			if r.drop != strings.HasPrefix(tc.want, "h:torn") {
				t.Errorf("recovery drops the segment: %v", r.drop)
			}
			if !r.drop && r.corrupted != st.Corrupted {
				t.Errorf("recovery counts %d corrupted, verification %d", r.corrupted, st.Corrupted)
			}
		})
	}
}
