package limits

import (
	"errors"
	"fmt"
	"time"
)

// DefaultCopyBytes is the buffer size of the copy limit: 256 MiB, far beyond any cache,
// so the copy streams through main memory as a scan of a large slab does.
const DefaultCopyBytes = 256 << 20

// ErrInvalidArgument rejects a size, count or duration that cannot be measured.
var ErrInvalidArgument = errors.New("limits: invalid argument")

// CopyResult is the outcome of MemCopy. Bandwidths count the bytes copied once (as
// testing.B.SetBytes does), although a copy reads and writes each of them.
type CopyResult struct {
	Bytes  int           // size of one copy
	Rounds int           // copies timed
	Best   time.Duration // fastest copy
	Total  time.Duration // all copies
}

// BestBandwidth is the fastest copy's rate in bytes per second: the ceiling.
func (r CopyResult) BestBandwidth() float64 {
	if r.Best <= 0 {
		return 0
	}
	return float64(r.Bytes) / r.Best.Seconds()
}

// MeanBandwidth is the rate over all copies in bytes per second.
func (r CopyResult) MeanBandwidth() float64 {
	if r.Total <= 0 {
		return 0
	}
	return float64(r.Bytes) * float64(r.Rounds) / r.Total.Seconds()
}

func (r CopyResult) String() string {
	return fmt.Sprintf("memcopy %d MiB: best %.2f GB/s, mean %.2f GB/s over %d copies",
		r.Bytes>>20, r.BestBandwidth()/1e9, r.MeanBandwidth()/1e9, r.Rounds)
}

// MemCopy copies a buffer of size bytes into another, rounds times, and reports the
// times. Both buffers are written before timing.
func MemCopy(size, rounds int) (CopyResult, error) {
	if size <= 0 || rounds <= 0 {
		return CopyResult{}, fmt.Errorf("memcopy of %d bytes × %d rounds: %w", size, rounds, ErrInvalidArgument)
	}
	src, dst := make([]byte, size), make([]byte, size)
	Fill(src)
	copy(dst, src)
	r := CopyResult{Bytes: size, Rounds: rounds}
	for range rounds {
		start := time.Now()
		copy(dst, src)
		d := time.Since(start)
		r.Total += d
		if r.Best == 0 || d < r.Best {
			r.Best = d
		}
	}
	return r, nil
}

// Fill writes a non-constant pattern over b, touching every page: one pseudo-random
// block of an odd length, then doubling copies of it, which is cheap even for 256 MiB.
func Fill(b []byte) {
	block := min(len(b), 1<<16+3)
	x := uint32(2463534242)
	for i := range block {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	for n := block; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}
