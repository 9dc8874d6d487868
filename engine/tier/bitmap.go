package tier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/internal/durable"
)

// Bitmap marks deleted records of one segment: bit i set means record i is deleted. Set,
// Has and Count are safe for concurrent use, so recalls can consult a bitmap while a
// forget marks it. A nil *Bitmap is an empty bitmap of length 0.
type Bitmap struct {
	n     int
	words []atomic.Uint64
}

// NewBitmap returns an empty bitmap over n records. It panics if n < 0.
func NewBitmap(n int) *Bitmap {
	if n < 0 {
		panic(fmt.Sprintf("tier: NewBitmap(%d)", n))
	}
	return &Bitmap{n: n, words: make([]atomic.Uint64, (n+63)/64)}
}

// Len returns the number of records the bitmap covers.
func (b *Bitmap) Len() int {
	if b == nil {
		return 0
	}
	return b.n
}

// Set marks record i and reports whether it was unmarked before. It panics if i is out of
// range.
func (b *Bitmap) Set(i int) bool {
	if uint(i) >= uint(b.Len()) {
		panic(fmt.Sprintf("tier: Bitmap.Set(%d) out of range [0, %d)", i, b.Len()))
	}
	mask := uint64(1) << (i % 64)
	return b.words[i/64].Or(mask)&mask == 0
}

// Has reports whether record i is marked; an index out of range is not.
func (b *Bitmap) Has(i int) bool {
	if uint(i) >= uint(b.Len()) {
		return false
	}
	return b.words[i/64].Load()&(1<<(i%64)) != 0
}

// Count returns the number of marked records.
func (b *Bitmap) Count() int {
	if b == nil {
		return 0
	}
	var c int
	for i := range b.words {
		c += bits.OnesCount64(b.words[i].Load())
	}
	return c
}

// Deletion bitmap file (docs/formats/segment.md):
//
//	0   8  magic "ENGRMDEL"
//	8   2  version (1)
//	10  6  reserved, zero
//	16  8  record count n
//	24  8  marked count
//	32  8×⌈n/64⌉  words, bit i%64 of word i/64 marks record i
//	end 8  xxHash64 of every preceding byte
const (
	bitmapMagic      = "ENGRMDEL"
	bitmapVersion    = 1
	bitmapHeaderSize = 32
)

// WriteBitmap writes b to path atomically (temporary file, fsync, rename, folder fsync).
// Bits set concurrently with the write may or may not be included.
func WriteBitmap(path string, b *Bitmap) error {
	n := b.Len()
	buf := make([]byte, bitmapHeaderSize, bitmapHeaderSize+8*((n+63)/64)+8)
	copy(buf, bitmapMagic)
	binary.LittleEndian.PutUint16(buf[8:], bitmapVersion)
	binary.LittleEndian.PutUint64(buf[16:], uint64(n))
	var marked int
	for i := range (n + 63) / 64 {
		w := b.words[i].Load()
		marked += bits.OnesCount64(w)
		buf = binary.LittleEndian.AppendUint64(buf, w)
	}
	binary.LittleEndian.PutUint64(buf[24:], uint64(marked))
	buf = binary.LittleEndian.AppendUint64(buf, xxhash.Sum64(buf))
	err := durable.WriteFile(path, 0o644, func(f *os.File) error {
		_, err := f.Write(buf)
		return err
	})
	if err != nil {
		return fmt.Errorf("tier: write deletion bitmap %s: %w", path, err)
	}
	return nil
}

// ReadBitmap reads the deletion bitmap at path, which must cover n records. A missing file
// is an empty bitmap. Damage, or a bitmap of another length, yields an error wrapping
// ErrCorrupt.
func ReadBitmap(path string, n int) (*Bitmap, error) {
	if n < 0 {
		return nil, fmt.Errorf("tier: read deletion bitmap %s: %w: %d records", path, ErrInvalidArgument, n)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return NewBitmap(n), nil
	}
	if err != nil {
		return nil, fmt.Errorf("tier: read deletion bitmap: %w", err)
	}
	corrupt := func(format string, args ...any) error {
		return &CorruptError{File: "deletion bitmap", Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	if len(data) < bitmapHeaderSize+8 || string(data[:8]) != bitmapMagic {
		return nil, corrupt("not a deletion bitmap (%d bytes)", len(data))
	}
	body, sum := data[:len(data)-8], binary.LittleEndian.Uint64(data[len(data)-8:])
	if xxhash.Sum64(body) != sum {
		return nil, corrupt("checksum mismatch")
	}
	if v := binary.LittleEndian.Uint16(data[8:]); v != bitmapVersion {
		return nil, fmt.Errorf("tier: read deletion bitmap %s: %w: version %d", path, ErrVersion, v)
	}
	if !allZero(data[10:16]) {
		return nil, corrupt("reserved bytes are not zero")
	}
	if got := binary.LittleEndian.Uint64(data[16:]); got != uint64(n) {
		return nil, corrupt("covers %d records, the segment has %d", got, n)
	}
	words := body[bitmapHeaderSize:]
	if len(words) != 8*((n+63)/64) {
		return nil, corrupt("%d bytes of words, want %d", len(words), 8*((n+63)/64))
	}
	b := NewBitmap(n)
	var marked uint64
	for i := range b.words {
		w := binary.LittleEndian.Uint64(words[8*i:])
		b.words[i].Store(w)
		marked += uint64(bits.OnesCount64(w))
	}
	if n%64 != 0 && b.words[len(b.words)-1].Load()>>(n%64) != 0 {
		return nil, corrupt("bits set past the last record")
	}
	if got := binary.LittleEndian.Uint64(data[24:]); got != marked {
		return nil, corrupt("header counts %d marked records, the words hold %d", got, marked)
	}
	return b, nil
}
