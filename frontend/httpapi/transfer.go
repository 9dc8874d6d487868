package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/engram-go/engram/engine/transfer"
	"github.com/engram-go/engram/frontend"
)

// importOverloadWait bounds how long an import request waits for a space whose edge
// queue is full before answering 503 with Retry-After; the client then sends the same
// lines again, which is safe.
const importOverloadWait = time.Minute

// DefaultTransferWriteTimeout is how long an export waits for its client to take the next
// part of the stream (64 KiB) before it cuts the connection (docs/operations.md).
const DefaultTransferWriteTimeout = time.Minute

// testHooks let tests observe the server; nil in production.
type testHooks struct {
	exportEnded func(err error) // an export's writer is done, err nil when complete
}

// handleExport serves GET /api/v1/spaces/{id}/export: every live memory of the space in
// the transfer format, streamed as it is encoded. The snapshot is taken when the body
// starts; the space's locks are released before the first byte is written. A failure part
// way ends the chunked body without its final chunk, so that a client never mistakes a cut
// export for a complete one. Three things cut it: the server stopping, the space being
// deleted, and the client taking nothing for TransferWriteTimeout.
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
	// The write deadline moves forward with every part the client takes (stallWriter);
	// the connection closes after the export, so no later answer inherits the deadline.
	timeout := s.TransferWriteTimeout
	if timeout <= 0 {
		timeout = DefaultTransferWriteTimeout
	}
	conn := rq.ctx.Conn()
	rq.ctx.SetConnectionClose()
	_ = rq.ctx.SetWriteDeadline(time.Now().Add(timeout))
	pr, pw := io.Pipe()
	stopCtx, cancel := s.untilStop()
	ctx, unbind := sp.WithLifetime(stopCtx)
	// A writer blocked on a client that reads nothing is released by ending the pipe when
	// the server stops or the space is deleted.
	stopWatch := context.AfterFunc(ctx, func() { pw.CloseWithError(context.Cause(ctx)) })
	go func() {
		bw := bufio.NewWriterSize(stallWriter{w: pw, conn: conn, timeout: timeout}, 64<<10)
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
		unbind()
		cancel()
		if h := s.hooks.exportEnded; h != nil {
			h(err)
		}
	}()
	// fasthttp closes the reader when the client goes away, which ends the export.
	rq.ctx.SetBodyStream(pr, -1)
	return nil
}

// stallWriter moves the connection's write deadline timeout ahead of each part it hands to
// the body stream. A part is taken only once the previous one went out, so a client that
// reads nothing leaves the deadline where it is, and the server's blocked write fails
// when it passes: the connection closes, which ends the pipe and the export.
type stallWriter struct {
	w       io.Writer
	conn    net.Conn
	timeout time.Duration
}

func (sw stallWriter) Write(p []byte) (int, error) {
	// An error means the connection is already gone; the pipe then reports it.
	_ = sw.conn.SetWriteDeadline(time.Now().Add(sw.timeout))
	return sw.w.Write(p)
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
	stopCtx, cancel := s.untilStop()
	defer cancel()
	// A delete of the space ends the import, also while it waits for room (overload).
	ctx, unbind := sp.WithLifetime(stopCtx)
	defer unbind()
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
