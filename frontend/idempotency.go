package frontend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/engram-go/engram/engine"
)

// A remember may carry an idempotency key (docs/api.md, "Idempotency-Key"): a retry of a
// write whose outcome the client did not learn — a timeout, a dropped connection, a node
// that died — then stores the memory once. The key fixes the memory's id, so the retry
// finds what the first attempt stored, on whichever node owns the space by then.
const (
	IdempotencyHeader   = "Idempotency-Key" // HTTP header
	IdempotencyMetadata = "idempotency-key" // gRPC metadata
	// MaxIdempotencyKey bounds a key's length in bytes.
	MaxIdempotencyKey = 255
)

// IdempotentID is the memory id a key stands for in a space: "mem_" and 24 hex digits, the
// shape of the ids the engine draws at random, taken from SHA-256 of the space and the
// key, so the same key names different memories in different spaces.
func IdempotentID(space, key string) (string, error) {
	if len(key) == 0 || len(key) > MaxIdempotencyKey {
		return "", fmt.Errorf("%w: %s must be 1-%d characters, got %d", engine.ErrInvalidInput, IdempotencyHeader, MaxIdempotencyKey, len(key))
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("%w: %s must be printable ASCII, byte %d is 0x%02x", engine.ErrInvalidInput, IdempotencyHeader, i, c)
		}
	}
	h := sha256.New()
	h.Write([]byte(space))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return "mem_" + hex.EncodeToString(h.Sum(nil)[:12]), nil
}

// Idempotency serialises the remembers of one idempotency key, so that of two attempts
// racing with the same key one stores and the other finds it. Every frontend of a server
// shares one (Options.Idempotency); ids without a key never wait here.
type Idempotency struct {
	mu       sync.Mutex
	inflight map[string]chan struct{}
}

// NewIdempotency returns an empty set of in-flight keys.
func NewIdempotency() *Idempotency { return &Idempotency{inflight: map[string]chan struct{}{}} }

// lock holds ids (each once, in sorted order, so batches cannot deadlock) until the
// returned function is called.
func (ix *Idempotency) lock(ids ...string) (unlock func()) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for _, id := range ids {
		for {
			ix.mu.Lock()
			ch, busy := ix.inflight[id]
			if !busy {
				ix.inflight[id] = make(chan struct{})
				ix.mu.Unlock()
				break
			}
			ix.mu.Unlock()
			<-ch
		}
	}
	return func() {
		ix.mu.Lock()
		for _, id := range ids {
			close(ix.inflight[id])
			delete(ix.inflight, id)
		}
		ix.mu.Unlock()
	}
}

// stored reports whether m (whose id a key fixed) is already stored in sp with the same
// content: the memory as stored, or ErrIdempotencyConflict when its content differs.
func stored(sp *engine.Space, m *engine.Memory, key string) (*engine.Memory, error) {
	prev, err := sp.Get(m.ID)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case prev.Content != m.Content:
		return nil, &Error{Status: http.StatusConflict, Code: CodeConflict,
			Message: fmt.Sprintf("%s %q was used for memory %s in memory space %q, whose content differs from this request's; nothing was stored",
				IdempotencyHeader, key, m.ID, sp.ID()),
			Guidance: "Use a new key for a new memory; a key stands for one write and its retries."}
	}
	prev.Embedding = nil
	return &prev, nil
}

// Remember stores m in sp once per key: without a key, or with an explicit memory id
// (which is idempotent already: the same id is replaced), it is sp.Remember. With a key
// the memory gets IdempotentID; when that memory exists with the same content it is
// answered as stored (replayed = true) and nothing is written, with other content the
// answer is 409 CONFLICT.
func (ix *Idempotency) Remember(ctx context.Context, sp *engine.Space, m engine.Memory, opts engine.RememberOptions, key string) (res engine.RememberResult, replayed bool, err error) {
	if key == "" || m.ID != "" {
		res, err = sp.Remember(ctx, m, opts)
		return res, false, err
	}
	if m.ID, err = IdempotentID(sp.ID(), key); err != nil {
		return res, false, err
	}
	defer ix.lock(m.ID)()
	prev, err := stored(sp, &m, key)
	if err != nil || prev != nil {
		if prev != nil {
			res.Memory = *prev
		}
		return res, prev != nil, err
	}
	res, err = sp.Remember(ctx, m, opts)
	return res, false, err
}

// BatchKey is the key of item i of a batch sent with key: each item is its own memory.
func BatchKey(key string, i int) string { return fmt.Sprintf("%s#%d", key, i) }

// RememberBatch stores ms in sp as one group commit, once per key: with a key, item i
// without an id gets the id of BatchKey(key, i), and an item already stored with the same
// content is answered from what is stored instead of being written again.
func (ix *Idempotency) RememberBatch(ctx context.Context, sp *engine.Space, ms []engine.Memory, opts engine.RememberOptions, key string, index []int) ([]engine.RememberResult, []error) {
	if key == "" {
		return sp.RememberBatch(ctx, ms, opts)
	}
	results := make([]engine.RememberResult, len(ms))
	errs := make([]error, len(ms))
	var ids []string
	for k := range ms {
		if ms[k].ID != "" {
			continue
		}
		if ms[k].ID, errs[k] = IdempotentID(sp.ID(), BatchKey(key, index[k])); errs[k] == nil {
			ids = append(ids, ms[k].ID)
		}
	}
	defer ix.lock(ids...)()
	var write []int
	for k := range ms {
		if errs[k] != nil {
			continue
		}
		prev, err := stored(sp, &ms[k], key)
		switch {
		case err != nil:
			errs[k] = err
		case prev != nil:
			results[k].Memory = *prev
		default:
			write = append(write, k)
		}
	}
	if len(write) == 0 {
		return results, errs
	}
	batch := make([]engine.Memory, len(write))
	for j, k := range write {
		batch[j] = ms[k]
	}
	rs, es := sp.RememberBatch(ctx, batch, opts)
	for j, k := range write {
		results[k], errs[k] = rs[j], es[j]
	}
	return results, errs
}
