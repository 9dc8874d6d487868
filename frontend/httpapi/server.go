package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// DefaultListen is the HTTP address used when Options.HTTPListen is empty.
const DefaultListen = "127.0.0.1:7432"

// DefaultKeepAlive is the interval of the stream keep-alive comments.
const DefaultKeepAlive = 15 * time.Second

// ErrStopped is returned when serving is asked of a stopped server.
var ErrStopped = errors.New("httpapi: server stopped")

func init() {
	frontend.Register("http", func(opts frontend.Options) (frontend.Frontend, error) {
		return New(opts)
	})
}

// Server is the HTTP frontend. It serves the main listener (every space) and one extra
// listener per entry of Options.SpaceListeners, pinned to that space.
type Server struct {
	// KeepAlive is the interval of the stream keep-alive comments; set it before Start.
	KeepAlive time.Duration
	// TransferWriteTimeout cuts an export whose client reads nothing for this long; zero
	// means DefaultTransferWriteTimeout. Set it before Start.
	TransferWriteTimeout time.Duration

	opts    frontend.Options
	eng     *engine.Engine
	log     *slog.Logger
	router  *router
	metrics *requestMetrics
	parsers fastjson.ParserPool
	// maxValues bounds the JSON values of one parse (maxParsedValues), so that a request
	// costs memory in proportion to max_body_bytes whatever its body's shape.
	maxValues int
	vecs      sync.Pool // *[]float32 embedding buffers (borrowVec)
	batchVecs sync.Pool // *vecArena: the embeddings of a batch request (borrowArena)
	// forwards carries requests to the owners of spaces served elsewhere in a cluster.
	forwards *http.Client

	mu        sync.Mutex
	listeners []*listener
	stopped   bool
	done      chan struct{} // closed by Stop; ends the streams
	hooks     testHooks
}

// listener is one bound address and the fasthttp server on it.
type listener struct {
	pinned string // "" = every space
	ln     net.Listener
	srv    *fasthttp.Server
	served chan struct{}
}

// New builds the HTTP frontend. Options get the same defaults as frontend.New.
func New(opts frontend.Options) (*Server, error) {
	if opts.Engine == nil {
		return nil, fmt.Errorf("httpapi: %w: no engine", engine.ErrInvalidInput)
	}
	opts.SetDefaults()
	for space := range opts.SpaceListeners {
		if id, err := engine.NormalizeSpaceID(space); err != nil || id != space {
			return nil, fmt.Errorf("httpapi: dedicated listener of space %q: %w", space, engine.ErrInvalidSpaceID)
		}
	}
	s := &Server{
		KeepAlive: DefaultKeepAlive,
		opts:      opts,
		eng:       opts.Engine,
		log:       opts.Logger,
		maxValues: maxParsedValues(opts.MaxBodyBytes),
		done:      make(chan struct{}),
	}
	if opts.Router != nil {
		s.forwards = newForwardClient()
	}
	s.router = s.routes()
	s.metrics = newRequestMetrics(s.router)
	return s, nil
}

// Start binds the main listener and every dedicated space listener, then serves in the
// background. A bind failure closes what was bound and is returned.
func (s *Server) Start() error {
	addr := s.opts.HTTPListen
	if addr == "" {
		addr = DefaultListen
	}
	type bind struct{ space, addr string }
	binds := []bind{{"", addr}}
	spaces := make([]string, 0, len(s.opts.SpaceListeners))
	for space := range s.opts.SpaceListeners {
		spaces = append(spaces, space)
	}
	sort.Strings(spaces)
	for _, space := range spaces {
		binds = append(binds, bind{space, s.opts.SpaceListeners[space]})
	}
	var bound []net.Listener
	for _, b := range binds {
		ln, err := net.Listen("tcp", b.addr)
		if err != nil {
			for _, l := range bound {
				l.Close()
			}
			if b.space != "" {
				return fmt.Errorf("httpapi: listen on %s for space %q: %w", b.addr, b.space, err)
			}
			return fmt.Errorf("httpapi: listen on %s: %w", b.addr, err)
		}
		bound = append(bound, ln)
	}
	for i, ln := range bound {
		if err := s.ServeOn(ln, binds[i].space); err != nil {
			for _, l := range bound[i:] {
				l.Close()
			}
			return err
		}
		if binds[i].space == "" {
			s.log.Info("HTTP API listening", "addr", ln.Addr().String())
		} else {
			s.log.Info("HTTP API listening for one memory space", "addr", ln.Addr().String(), "space", binds[i].space)
		}
	}
	return nil
}

// ServeOn serves on an already bound listener in the background until Stop. pinned, when
// not empty, pins every request of that listener to one memory space. Tests use it with
// an in-memory listener.
func (s *Server) ServeOn(ln net.Listener, pinned string) error {
	if pinned != "" {
		id, err := engine.NormalizeSpaceID(pinned)
		if err != nil {
			return fmt.Errorf("httpapi: pinned listener: %w", err)
		}
		pinned = id
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	l := &listener{pinned: pinned, ln: ln, served: make(chan struct{})}
	l.srv = &fasthttp.Server{
		Handler:                      func(ctx *fasthttp.RequestCtx) { s.dispatch(ctx, pinned) },
		ErrorHandler:                 s.transportError,
		Name:                         "engram",
		MaxRequestBodySize:           s.opts.MaxBodyBytes,
		ReadTimeout:                  time.Minute,
		IdleTimeout:                  2 * time.Minute,
		DisablePreParseMultipartForm: true,
		// fasthttp would otherwise quote the request, Authorization header included, in
		// the errors it hands to transportError and the logger.
		SecureErrorLogMessage: true,
		CloseOnShutdown:       true,
		Logger:                fasthttpLogger{s.log},
	}
	s.listeners = append(s.listeners, l)
	frontend.ServeInBackground(s.log, "HTTP", ln, l.srv.Serve, l.served)
	return nil
}

// Addr is the bound address of the main listener ("" before Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.pinned == "" {
			return l.ln.Addr().String()
		}
	}
	return ""
}

// SpaceAddr is the bound address of space's dedicated listener ("" if none).
func (s *Server) SpaceAddr(space string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.pinned == space && space != "" {
			return l.ln.Addr().String()
		}
	}
	return ""
}

// Stop ends the streams, stops accepting, lets in-flight requests finish until ctx ends
// and closes every listener.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.done)
	ls := s.listeners
	s.mu.Unlock()

	var errs []error
	for _, l := range ls {
		if err := l.srv.ShutdownWithContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("httpapi: stop %s: %w", l.ln.Addr(), err))
		}
	}
	for _, l := range ls {
		select {
		case <-l.served:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("httpapi: stop %s: %w", l.ln.Addr(), ctx.Err()))
		}
	}
	if s.forwards != nil {
		s.forwards.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// fasthttpLogger routes fasthttp's own messages to the server's logger.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug(frontend.RedactCredentials(fmt.Sprintf(format, args...)), "component", "fasthttp")
}
