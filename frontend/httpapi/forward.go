package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fasthttp"
)

// route sends the request on to the owner of space id when the cluster says it is served
// elsewhere (a *frontend.Forward error that dispatch turns into a proxied request). A
// single node has no Router: one comparison.
func (rq *request) route(id string) error {
	r := rq.srv.opts.Router
	if r == nil {
		return nil
	}
	return frontend.RouteSpace(r, id, string(rq.ctx.Request.Header.Peek(frontend.ForwardedByHeader)), "http")
}

// forwardTimeout bounds a forwarded request until the owner's answer starts; an event
// stream then flows for as long as both ends keep it open.
const forwardTimeout = 2 * time.Minute

func newForwardClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxIdleConnsPerHost:   64, // one pool per owner; its keep-alive connections are reused
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: forwardTimeout,
			DisableCompression:    true, // the client's Accept-Encoding goes through as sent
		},
		// A redirect is the owner's answer, returned to the client as is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// hopByHop are the headers of one connection, never passed on (RFC 9110, 7.6.1), plus
// those the serving side sets itself.
func hopByHop(name string) bool {
	switch strings.ToLower(name) {
	case "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
		"te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "server", "date":
		return true
	}
	return false
}

// forward sends the request to the owner, once, with the same method, path, query,
// headers and body plus the hop marker, and answers with the owner's status, headers and
// body; an event stream is relayed as it comes. An owner that cannot be reached is a 503
// NOT_OWNER: the partition is moving or the node is gone, and a retry finds the new owner.
func (s *Server) forward(ctx *fasthttp.RequestCtx, fw *frontend.Forward) {
	counts := &s.opts.Forwards.HTTP
	stream := bytes.Contains(ctx.Request.Header.Peek("Accept"), []byte("text/event-stream")) ||
		bytes.HasPrefix(ctx.Path(), []byte("/api/v1/stream/")) || bytes.HasPrefix(ctx.Path(), []byte("/api/v1/monitoring/"))
	reqCtx, cancel := context.WithCancel(context.Background())
	if stream {
		// A relayed stream ends with this server: Stop closes s.done.
		go func() {
			select {
			case <-s.done:
				cancel()
			case <-reqCtx.Done():
			}
		}()
	}
	url := "http://" + fw.Owner.HTTP + string(ctx.RequestURI())
	req, err := http.NewRequestWithContext(reqCtx, string(ctx.Method()), url, bytes.NewReader(ctx.Request.Body()))
	if err != nil {
		cancel()
		counts.Failed.Add(1)
		writeError(ctx, fmt.Errorf("%w: forwarding to node %q: %v", engine.ErrNotOwner, fw.Owner.NodeID, err))
		return
	}
	req.ContentLength = int64(len(ctx.Request.Body()))
	ctx.Request.Header.VisitAll(func(k, v []byte) {
		if name := string(k); !hopByHop(name) {
			req.Header.Add(name, string(v))
		}
	})
	req.Header.Set(frontend.ForwardedByHeader, s.opts.NodeID)
	// The space as chosen here, highest in precedence there: it is what the request named
	// already, or the space of the dedicated listener it came in on, which the owner's
	// main listener would not know.
	req.Header.Set("X-Memory-Space", fw.Space)
	resp, err := s.forwards.Do(req)
	if err != nil {
		cancel()
		counts.Failed.Add(1)
		writeError(ctx, fmt.Errorf("%w: memory space %q is served by node %q at %s, which did not answer: %v",
			engine.ErrNotOwner, fw.Space, fw.Owner.NodeID, fw.Owner.HTTP, err))
		return
	}
	counts.OK.Add(1)
	ctx.SetStatusCode(resp.StatusCode)
	for name, vs := range resp.Header {
		if hopByHop(name) {
			continue
		}
		for _, v := range vs {
			ctx.Response.Header.Add(name, v)
		}
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if err != nil {
			// Headers are not sent yet: the answer can still become an error.
			ctx.Response.Reset()
			counts.Failed.Add(1)
			writeError(ctx, fmt.Errorf("%w: reading the answer of node %q: %v", engine.ErrNotOwner, fw.Owner.NodeID, err))
			return
		}
		ctx.SetBody(body)
		return
	}
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		defer resp.Body.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				if w.Flush() != nil {
					return // the client went away
				}
			}
			if err != nil {
				return
			}
		}
	})
}
