package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/internal/jsonwire"
	"github.com/valyala/fastjson"
)

// ContentType is the media type of the transfer format.
const ContentType = "application/x-ndjson"

const (
	// BatchSize is how many memories one group commit of an import holds.
	BatchSize = 1000
	// MaxErrors bounds the line errors an import reports; Result.Failed
	// still counts them all.
	MaxErrors = 1000
	// MaxLineBytes bounds one line of an import: the largest content the engine
	// accepts, fully escaped, plus a generous embedding.
	MaxLineBytes = 8 << 20
)

// Result is what an import stored and what it refused. It is also the body of the
// import route's answer (with the space), so the JSON names are part of the API.
type Result struct {
	Imported int         `json:"imported"`
	Failed   int         `json:"failed"`
	Errors   []LineError `json:"errors"`
}

// LineError is one refused line. Line numbers count every line of the input from 1,
// blank ones included.
type LineError struct {
	Line  int    `json:"line"`
	ID    string `json:"id,omitempty"`
	Error string `json:"error"`
}

func (r *Result) refuse(line int, id string, err error) {
	r.Failed++
	if len(r.Errors) < MaxErrors {
		r.Errors = append(r.Errors, LineError{Line: line, ID: id, Error: err.Error()})
	}
}

// Options tune Import.
type Options struct {
	// OverloadWait bounds how long one batch keeps retrying while the space's edge queue
	// is full (engine.ErrOverloaded); 0 retries as long as ctx lasts.
	OverloadWait time.Duration
}

// Export writes every live memory of sp to w in the transfer format, in id order,
// as of one instant (engine.Space.Export), and returns how many it wrote.
func Export(ctx context.Context, sp *engine.Space, w io.Writer) (int, error) {
	buf := make([]byte, 0, 4096)
	n := 0
	err := sp.Export(ctx, func(m engine.Memory) error {
		buf = AppendLine(buf[:0], &m)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("transfer: export space %q: %w", sp.ID(), err)
	}
	return n, nil
}

// Import stores every memory of r (transfer format) in sp with engine.RememberOptions
// Preserve, BatchSize memories per group commit. Ids are kept, so importing the
// same lines again replaces each memory by itself. A line that does not parse or that the
// engine refuses as invalid is reported and skipped; any other failure (capacity, a
// closed space, the WAL, ctx) stops the import and is returned with what was stored so far.
func Import(ctx context.Context, sp *engine.Space, r io.Reader, opts Options) (Result, error) {
	res := Result{Errors: []LineError{}}
	lines := newLineReader(r, MaxLineBytes)
	var (
		p       fastjson.Parser
		batch   = make([]engine.Memory, 0, BatchSize)
		batchAt = make([]int, 0, BatchSize) // line number of each batch entry
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		errs, err := rememberPreserved(ctx, sp, batch, opts.OverloadWait)
		if err != nil {
			return fmt.Errorf("import stopped after storing %d memories, in the batch starting at line %d (importing again is safe): %w",
				res.Imported, batchAt[0], err)
		}
		for i, err := range errs {
			switch {
			case err == nil:
				res.Imported++
			case errors.Is(err, engine.ErrInvalidInput):
				res.refuse(batchAt[i], batch[i].ID, err)
			default:
				return fmt.Errorf("import stopped after storing %d memories, at line %d (importing again is safe): %w",
					res.Imported, batchAt[i], err)
			}
		}
		batch, batchAt = batch[:0], batchAt[:0]
		return nil
	}
	for {
		line, n, err := lines.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errLineTooLong) {
			res.refuse(n, "", jsonwire.Invalid("the line is longer than %d bytes", MaxLineBytes))
			continue
		}
		if err != nil {
			return res, fmt.Errorf("import: read line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := ParseLine(&p, line)
		if err != nil {
			res.refuse(n, "", err)
			continue
		}
		batch, batchAt = append(batch, m), append(batchAt, n)
		if len(batch) == BatchSize {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	return res, flush()
}

// rememberPreserved stores one batch with Preserve, retrying while the space is
// overloaded: an overloaded batch is refused whole before anything is logged, so
// retrying it is safe. It returns the per-memory errors of the final attempt.
func rememberPreserved(ctx context.Context, sp *engine.Space, batch []engine.Memory, maxWait time.Duration) ([]error, error) {
	start := time.Now()
	backoff := 10 * time.Millisecond
	for {
		// The engine fills defaults into the slice it is given; each attempt gets a copy.
		_, errs := sp.RememberBatch(ctx, append([]engine.Memory(nil), batch...), engine.RememberOptions{Preserve: true})
		overloaded := false
		for _, err := range errs {
			if errors.Is(err, engine.ErrOverloaded) {
				overloaded = true
				break
			}
		}
		if !overloaded {
			return errs, nil
		}
		if maxWait > 0 && time.Since(start)+backoff > maxWait {
			return nil, fmt.Errorf("space %q stayed overloaded for %s: %w", sp.ID(), maxWait, engine.ErrOverloaded)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}
