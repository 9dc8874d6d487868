package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// request is what a handler sees of one HTTP request.
type request struct {
	ctx       *fasthttp.RequestCtx
	srv       *Server
	pinned    string // the listener's space, "" when it serves every space
	param     string // the {id} path segment, if the route has one
	principal *frontend.Principal
	parser    *fastjson.Parser // borrowed for the body; returned after the handler
	vecs      *[]float32       // borrowed for a memory body's embedding; returned after the handler
}

// dispatch routes one request, records its metrics and turns handler errors and panics
// into JSON error answers.
func (s *Server) dispatch(ctx *fasthttp.RequestCtx, pinned string) {
	start := time.Now()
	path := string(ctx.Path())
	rt, param := s.router.lookup(path)
	label := "unmatched"
	if rt != nil {
		label = rt.pattern
	}
	rq := request{ctx: ctx, srv: s, pinned: pinned, param: param}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("HTTP handler panicked", "route", label, "panic", p)
			ctx.Response.Reset()
			writeError(ctx, frontend.Errorf(http.StatusInternalServerError, frontend.CodeSystem, "internal error"))
		}
		if rq.parser != nil {
			s.parsers.Put(rq.parser)
		}
		if rq.vecs != nil && cap(*rq.vecs) <= maxPooledVector {
			s.vecs.Put(rq.vecs)
		}
		s.metrics.observe(label, ctx.Response.StatusCode(), start)
	}()

	if rt == nil {
		writeError(ctx, frontend.Errorf(http.StatusNotFound, frontend.CodeNotFound,
			fmt.Sprintf("no route %s %s", ctx.Method(), path)))
		return
	}
	method := string(ctx.Method())
	h, ok := rt.methods[method]
	if !ok && method == fasthttp.MethodHead {
		h, ok = rt.methods[fasthttp.MethodGet]
	}
	if !ok {
		ctx.Response.Header.Set("Allow", rt.allow)
		writeError(ctx, frontend.Errorf(http.StatusMethodNotAllowed, frontend.CodeMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed on %s; allowed: %s", method, rt.pattern, rt.allow)))
		return
	}
	if s.opts.Auth != nil && !publicRoute(rt.pattern) {
		p, err := s.authenticate(ctx)
		if err != nil {
			writeError(ctx, err)
			return
		}
		rq.principal = p
	}
	if err := h(&rq); err != nil {
		if fw, ok := frontend.AsForward(err); ok {
			s.forward(ctx, fw)
			return
		}
		fe := writeError(ctx, err)
		if fe.Status >= 500 {
			s.log.Warn("HTTP request failed", "route", label, "status", fe.Status, "err", fe.Message)
		}
	}
}

// authenticate checks the bearer key of a request.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (*frontend.Principal, error) {
	h := string(ctx.Request.Header.Peek("Authorization"))
	scheme, key, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return nil, fmt.Errorf("%w: send Authorization: Bearer <key>", frontend.ErrUnauthenticated)
	}
	p, err := s.opts.Auth.Authenticate(strings.TrimSpace(key))
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, frontend.ErrUnauthenticated
	}
	return p, nil
}
