package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/engram-go/engram/engine/transfer"
)

const (
	// defaultChunkBytes is the size of one import request: half the server's default
	// [limits] max_body_bytes, so that a default server never refuses one.
	defaultChunkBytes = 4 << 20
	// minChunkBytes is where halving after a 413 stops; below it one line is sent alone.
	minChunkBytes = 16 << 10
)

// importTotals add up the answers of every chunk, with line numbers of the whole stream.
type importTotals struct {
	Imported int                  `json:"imported"`
	Failed   int                  `json:"failed"`
	Errors   []transfer.LineError `json:"errors"`
}

// chunkImporter reads NDJSON lines and sends them to a store in chunks of at most
// maxChunk bytes, halving the chunk size whenever the server refuses one as too large.
// Every chunk is whole lines, so a chunk sent twice (after a retry or a rerun) only
// replaces memories by themselves.
type chunkImporter struct {
	store    transferStore
	space    string
	maxChunk int
	progress func(lines int)   // after each stored chunk; may be nil
	observe  func(line []byte) // sees every line before it is sent; may be nil
	totals   importTotals
	lines    int // lines read so far
}

// run imports everything r holds.
func (ci *chunkImporter) run(ctx context.Context, r io.Reader) error {
	if ci.maxChunk <= 0 {
		ci.maxChunk = defaultChunkBytes
	}
	ci.totals.Errors = []transfer.LineError{}
	br := bufio.NewReaderSize(r, 256<<10)
	var chunk []byte
	first, n := 1, 0 // first line number of the chunk, lines in it
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				line = append(line, '\n')
			}
			ci.lines++
			if ci.observe != nil {
				ci.observe(line)
			}
			if n > 0 && len(chunk)+len(line) > ci.maxChunk {
				if err := ci.send(ctx, chunk, first, n); err != nil {
					return err
				}
				chunk, first, n = chunk[:0], ci.lines, 0
			}
			chunk = append(chunk, line...)
			n++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	if n > 0 {
		return ci.send(ctx, chunk, first, n)
	}
	return nil
}

// send stores one chunk of n lines starting at line first, splitting it on a 413.
func (ci *chunkImporter) send(ctx context.Context, chunk []byte, first, n int) error {
	res, err := ci.store.importChunk(ctx, ci.space, chunk)
	if errors.Is(err, errChunkTooLarge) {
		if n == 1 {
			return fmt.Errorf("engram: line %d alone (%d bytes) is over the server's body limit; raise [limits] max_body_bytes or restore offline with --data-root", first, len(chunk))
		}
		ci.maxChunk = max(len(chunk)/2, minChunkBytes)
		half := n / 2
		cut := 0
		for range half {
			cut += bytes.IndexByte(chunk[cut:], '\n') + 1
		}
		if err := ci.send(ctx, chunk[:cut], first, half); err != nil {
			return err
		}
		return ci.send(ctx, chunk[cut:], first+half, n-half)
	}
	if err != nil {
		return fmt.Errorf("%w (lines %d-%d; %d memories stored before them; running the command again is safe)", err, first, first+n-1, ci.totals.Imported)
	}
	ci.totals.Imported += res.Imported
	ci.totals.Failed += res.Failed
	for _, e := range res.Errors {
		if len(ci.totals.Errors) < transfer.MaxErrors {
			e.Line += first - 1
			ci.totals.Errors = append(ci.totals.Errors, e)
		}
	}
	if ci.progress != nil {
		ci.progress(n)
	}
	return nil
}
