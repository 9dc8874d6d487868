package partlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/engram-go/engram/engine/wal"
	"github.com/engram-go/engram/engine/wal/waltest"
)

// walFrames returns n encoded frames written by a real log.
func walFrames(t testing.TB, n int) []byte {
	t.Helper()
	entries := make([]wal.Entry, n)
	for i := range entries {
		entries[i] = wal.Entry{Type: 1, Payload: fmt.Appendf(nil, "payload %d", i)}
	}
	return waltest.Frames(t, entries...)
}

func TestBatchRoundTrip(t *testing.T) {
	frames := walFrames(t, 5)
	tests := []struct {
		name     string
		sections []Section
	}{
		{"empty", nil},
		{"frames", []Section{{Kind: KindFrames, Space: "alpha", Frames: frames}}},
		{"create, frames, delete", []Section{
			{Kind: KindCreate, Space: "beta", Settings: []byte(`{"dimension":8}`)},
			{Kind: KindFrames, Space: "beta", Frames: frames},
			{Kind: KindFrames, Space: "gamma", Frames: frames},
			{Kind: KindDelete, Space: "beta"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := AppendBatch(nil, tt.sections)
			got, err := DecodeBatch(msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.sections) {
				t.Fatalf("%d sections, want %d", len(got), len(tt.sections))
			}
			for i, s := range got {
				w := tt.sections[i]
				if s.Kind != w.Kind || s.Space != w.Space || !bytes.Equal(s.Frames, w.Frames) || !bytes.Equal(s.Settings, w.Settings) {
					t.Fatalf("section %d: got %+v, want %+v", i, s, w)
				}
				if s.Kind == KindFrames && (s.Records != 5 || s.FirstLSN != 1 || s.LastLSN != 5) {
					t.Fatalf("section %d: %d records LSN %d-%d, want 5 records LSN 1-5", i, s.Records, s.FirstLSN, s.LastLSN)
				}
			}
			if again := AppendBatch(nil, got); !bytes.Equal(again, msg) {
				t.Fatal("re-encoding the decoded sections changed the message")
			}
		})
	}
}

// reseal recomputes the checksum of a tampered message, so the check behind it is reached.
func reseal(msg []byte) []byte {
	end := len(msg) - batchTrailer
	return binary.LittleEndian.AppendUint64(msg[:end:end], xxhashSum(msg[:end]))
}

func TestDecodeBatchRejects(t *testing.T) {
	frames := walFrames(t, 3)
	good := func(s ...Section) []byte { return AppendBatch(nil, s) }
	valid := good(Section{Kind: KindFrames, Space: "alpha", Frames: frames})
	tamper := func(off int, b byte) []byte {
		m := append([]byte(nil), valid...)
		m[off] = b
		return reseal(m)
	}
	reversed := append(append([]byte(nil), frames[len(frames)/3*2:]...), frames[:len(frames)/3*2]...)
	tests := []struct {
		name string
		msg  []byte
		want string
	}{
		{"short", []byte("EGRB"), "shorter"},
		{"magic", tamper(0, 'X'), "magic"},
		{"version", tamper(4, 2), "version"},
		{"reserved", tamper(5, 1), "reserved"},
		{"checksum", append(append([]byte(nil), valid[:len(valid)-1]...), valid[len(valid)-1]^1), "checksum"},
		{"kind", tamper(batchHeader, 9), "unknown section kind"},
		{"space id", good(Section{Kind: KindFrames, Space: "Alpha", Frames: frames}), "invalid space id"},
		{"body past end", tamper(batchHeader+sectionHeader+5+3, 0x7f), "past the end"},
		{"damaged frame", tamper(len(valid)-batchTrailer-9, 0), "corrupt"},
		{"LSN order", good(Section{Kind: KindFrames, Space: "alpha", Frames: reversed}), "corrupt"},
		{"no frames", good(Section{Kind: KindFrames, Space: "alpha"}), "without frames"},
		{"settings", good(Section{Kind: KindCreate, Space: "alpha", Settings: []byte(`{"dimension":"x"}`)}), "settings"},
		{"delete body", good(Section{Kind: KindDelete, Space: "alpha", Frames: []byte("x")}), "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeBatch(tt.msg)
			if !errors.Is(err, ErrBadBatch) || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Fatalf("DecodeBatch: %v, want ErrBadBatch mentioning %q", err, tt.want)
			}
		})
	}
}

func FuzzDecodeBatch(f *testing.F) {
	frames := walFrames(f, 3)
	f.Add(AppendBatch(nil, nil))
	f.Add(AppendBatch(nil, []Section{{Kind: KindFrames, Space: "alpha", Frames: frames}}))
	f.Add(AppendBatch(nil, []Section{{Kind: KindCreate, Space: "beta", Settings: []byte(`{}`)}, {Kind: KindDelete, Space: "beta"}}))
	f.Fuzz(func(t *testing.T, msg []byte) {
		sections, err := DecodeBatch(msg)
		if err != nil {
			if !errors.Is(err, ErrBadBatch) {
				t.Fatalf("error does not wrap ErrBadBatch: %v", err)
			}
			// Past the checksum the decoder is reached only by resealed input.
			if len(msg) >= batchHeader+batchTrailer {
				_, _ = DecodeBatch(reseal(append([]byte(nil), msg...)))
			}
			return
		}
		if again := AppendBatch(nil, sections); !bytes.Equal(again, msg) {
			t.Fatalf("decoded sections re-encode to other bytes")
		}
	})
}

func xxhashSum(b []byte) uint64 { return xxhash.Sum64(b) }
