package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// BatchAllOptions tune RememberAll.
type BatchAllOptions struct {
	BatchOptions
	// MaxItems bounds the memories of one request (default 1000; the server refuses more
	// than its max_batch_items, 10,000 by default).
	MaxItems int
	// MaxBytes bounds the encoded size of one request (default 4 MiB; the server refuses
	// bodies over max_body_bytes, 8 MiB by default). A request refused as too large is
	// split in two and sent again.
	MaxBytes int
}

// BatchAllResult sums the batches of RememberAll. Indexes in Errors are those of the input.
type BatchAllResult struct {
	Accepted  int
	MemoryIDs []string // the stored memories' ids, in input order
	Errors    []BatchError
	Batches   int // requests that stored something
}

// RememberAll stores items of any number in batches the server accepts. Every item
// without an ID is given one first (items itself is not modified), so a batch sent again
// after a lost answer replaces what the first attempt stored instead of duplicating it:
// the whole call is idempotent and can be repeated with the returned ids. Batches whose
// answer did not arrive are sent again up to the retry policy's MaxAttempts.
func (c *Client) RememberAll(ctx context.Context, items []RememberRequest, opts BatchAllOptions) (*BatchAllResult, error) {
	if opts.MaxItems <= 0 {
		opts.MaxItems = 1000
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 4 << 20
	}
	work := make([]RememberRequest, len(items))
	copy(work, items)
	for i := range work {
		if work[i].ID == "" {
			id, err := newID()
			if err != nil {
				return nil, err
			}
			work[i].ID = id
		}
	}
	res := &BatchAllResult{MemoryIDs: make([]string, 0, len(work)), Errors: []BatchError{}}
	for start := 0; start < len(work); {
		end, size := start, 2
		for end < len(work) && end-start < opts.MaxItems {
			b, err := json.Marshal(&work[end])
			if err != nil {
				return res, fmt.Errorf("client: encode item %d: %w", end, err)
			}
			if end > start && size+len(b)+1 > opts.MaxBytes {
				break
			}
			size += len(b) + 1
			end++
		}
		if err := c.sendChunk(ctx, work[start:end], start, opts.BatchOptions, res); err != nil {
			return res, err
		}
		start = end
	}
	return res, nil
}

// sendChunk stores items (which start at input index base), halving on 413 and sending
// again after a transport failure.
func (c *Client) sendChunk(ctx context.Context, items []RememberRequest, base int, opts BatchOptions, res *BatchAllResult) error {
	var out *BatchResponse
	var err error
	for attempt := 1; ; attempt++ {
		out, err = c.RememberBatch(ctx, items, opts)
		var apiErr *Error
		if err == nil || errors.As(err, &apiErr) || ctx.Err() != nil || attempt >= c.retry.MaxAttempts {
			break
		}
		// No answer (connection dropped): the ids make sending the same items again safe.
		if serr := c.sleep(ctx, c.retry.DefaultDelay); serr != nil {
			return err
		}
	}
	if errors.Is(err, ErrTooLarge) && len(items) > 1 {
		half := len(items) / 2
		if err := c.sendChunk(ctx, items[:half], base, opts, res); err != nil {
			return err
		}
		return c.sendChunk(ctx, items[half:], base+half, opts, res)
	}
	if err != nil {
		return fmt.Errorf("client: batch of items %d..%d: %w", base, base+len(items)-1, err)
	}
	res.Accepted += out.Accepted
	res.MemoryIDs = append(res.MemoryIDs, out.MemoryIDs...)
	for _, e := range out.Errors {
		e.Index += base
		res.Errors = append(res.Errors, e)
	}
	if out.Accepted > 0 {
		res.Batches++
	}
	return nil
}

// newID returns a fresh client id: 128 random bits.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("client: make an id: %w", err)
	}
	return "mem_c" + hex.EncodeToString(b[:]), nil
}
