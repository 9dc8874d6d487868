package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/engram-go/engram/engine/transfer"
	"github.com/engram-go/engram/frontend"
)

// importOverloadWait bounds how long an import request waits for a space whose edge
// queue is full before answering 503 with Retry-After; the client then sends the same
// lines again, which is safe.
const importOverloadWait = time.Minute

// handleExport serves GET /api/v1/spaces/{id}/export: every live memory of the space in
// the transfer format, streamed as it is encoded. The snapshot is taken when the body
// starts. A failure part way ends the chunked body without its final chunk, so that a
// client never mistakes a cut export for a complete one.
func (s *Server) handleExport(rq *request) error {
	id, err := rq.pathSpace(rq.param, "path")
	if err != nil {
		return err
	}
	sp, err := s.eng.Space(id) // an export never creates a space: unknown → 404
	if err != nil {
		return err
	}
	rq.ctx.SetContentType(transfer.ContentType)
	rq.ctx.Response.Header.Set("X-Memory-Space", sp.ID())
	rq.ctx.SetStatusCode(http.StatusOK)
	if rq.ctx.IsHead() {
		return nil
	}
	pr, pw := io.Pipe()
	ctx, cancel := s.untilStop()
	// The export holds the space's read lock while it writes into the pipe. A client that
	// stops reading would block that write until the connection dies, and with it the
	// engine's close at shutdown; ending the pipe when the server stops unblocks it.
	stopWatch := context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		_, err := transfer.Export(ctx, sp, bw)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			s.log.Warn("space export failed part way; the client sees a cut stream", "space", sp.ID(), "err", err)
		}
		// The watch goes first: once the body is complete, nothing may turn its end into
		// an error.
		stopWatch()
		pw.CloseWithError(err) // nil ends the body normally
		cancel()
	}()
	// fasthttp closes the reader when the client goes away, which ends the export.
	rq.ctx.SetBodyStream(pr, -1)
	return nil
}

// importAnswer is the answer of POST /api/v1/spaces/{id}/import.
type importAnswer struct {
	transfer.Result
	MemorySpaceID string `json:"memory_space_id"`
}

// handleImport serves POST /api/v1/spaces/{id}/import: NDJSON in the transfer format,
// stored with Preserve in batches of transfer.BatchSize (one group commit each). The space
// is created when auto-create is on. The body is bounded by [limits] max_body_bytes like
// every other; larger imports are sent as several requests (the CLI does so). The
// per-space rate limit does not apply: restore and merge replay memories that were
// already admitted once.
func (s *Server) handleImport(rq *request) error {
	id, err := rq.pathSpace(rq.param, "path")
	if err != nil {
		return err
	}
	ct := rq.ctx.Request.Header.ContentType()
	if classifyContentType(ct) != bodyNDJSON && len(bytes.TrimSpace(ct)) > 0 {
		return unsupportedMediaType(ct, transfer.ContentType+" (one memory per line, as the export route sends)")
	}
	sp, err := frontend.SpaceForWrite(s.eng, id)
	if err != nil {
		return err
	}
	ctx, cancel := s.untilStop()
	defer cancel()
	res, err := transfer.Import(ctx, sp, bytes.NewReader(rq.ctx.Request.Body()), transfer.Options{OverloadWait: importOverloadWait})
	if err != nil {
		return err
	}
	return writeJSON(rq.ctx, http.StatusOK, &importAnswer{Result: res, MemorySpaceID: sp.ID()})
}

// untilStop returns a context that ends when the server stops, for work that outlives
// the handler or waits on the engine.
func (s *Server) untilStop() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
