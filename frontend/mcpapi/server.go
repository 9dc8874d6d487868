package mcpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// Defaults of the [mcp] section (docs/mcp.md).
const (
	DefaultListen = "127.0.0.1:7433"
	DefaultPath   = "/mcp"
)

// sessionIdle is how long a session may go without a request before the server forgets
// it: agents that vanish without closing their session would otherwise be kept forever.
// A client whose session was forgotten opens a new one (engram mcp does so by itself).
const sessionIdle = time.Hour

// streamGrace is how long Stop lets open event streams end by themselves before it
// cancels them: an agent's standing GET stream never ends on its own.
const streamGrace = time.Second

func init() {
	frontend.Register("mcp", func(opts frontend.Options) (frontend.Frontend, error) {
		return New(opts)
	})
}

// Server is the MCP frontend.
type Server struct {
	opts frontend.Options
	eng  *engine.Engine
	log  *slog.Logger
	mcp  *mcp.Server
	http *http.Server
	// cancelStreams ends every request's context; Stop calls it after streamGrace.
	cancelStreams context.CancelFunc
	// forwards carries, in a cluster, tool calls to the HTTP API of their space's owner.
	forwards *http.Transport

	life   frontend.Listening
	served chan struct{} // closed when Serve returned
}

// New builds the MCP frontend. Options get the same defaults as frontend.New.
func New(opts frontend.Options) (*Server, error) {
	if opts.Engine == nil {
		return nil, fmt.Errorf("mcpapi: %w: no engine", engine.ErrInvalidInput)
	}
	opts.SetDefaults()
	if opts.MCPPath == "" {
		opts.MCPPath = DefaultPath
	}
	s := &Server{opts: opts, eng: opts.Engine, log: opts.Logger, served: make(chan struct{})}
	if opts.Router != nil {
		s.forwards = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: forwardTimeout}
	}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "engram", Title: "Engram memory server", Version: opts.Version},
		&mcp.ServerOptions{Instructions: instructions})
	if err := s.addTools(); err != nil {
		return nil, err
	}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// instructions tell a connecting agent what the server is for.
const instructions = "Engram is a long-term memory. Use remember to store facts, decisions and " +
	"observations worth keeping, remember_episode for events (what happened, when, where, who), " +
	"and recall before answering to bring back what is relevant. Memories live in memory spaces; " +
	"the connection may pin one, otherwise pass memory_space or the default space is used."

// Handler is the MCP endpoint at Options.MCPPath, behind the bearer-key check when
// authentication is on. Tests mount it on their own listener.
func (s *Server) Handler() http.Handler {
	var h http.Handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp },
		&mcp.StreamableHTTPOptions{Logger: s.log, MaxRequestBodyBytes: int64(s.opts.MaxBodyBytes), SessionTimeout: sessionIdle})
	if s.opts.Auth != nil {
		h = auth.RequireBearerToken(s.verifyKey, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	}
	mux := http.NewServeMux()
	mux.Handle(s.opts.MCPPath, h)
	return mux
}

// Start binds Options.MCPListen (DefaultListen when empty) and serves in the background.
func (s *Server) Start() error {
	addr := s.opts.MCPListen
	if addr == "" {
		addr = DefaultListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mcpapi: listen on %s: %w", addr, err)
	}
	if err := s.ServeOn(ln); err != nil {
		ln.Close()
		return err
	}
	s.log.Info("MCP endpoint listening", "url", "http://"+ln.Addr().String()+s.opts.MCPPath)
	return nil
}

// ServeOn serves on an already bound listener in the background until Stop.
func (s *Server) ServeOn(ln net.Listener) error {
	if err := s.life.Begin(ln); err != nil {
		return err
	}
	base, cancel := context.WithCancel(context.Background())
	s.cancelStreams = cancel
	s.http.BaseContext = func(net.Listener) context.Context { return base }
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("MCP listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return nil
}

// Addr is the bound address ("" before Start).
func (s *Server) Addr() string { return s.life.Addr() }

// Stop stops accepting, lets tool calls in flight finish until ctx ends, ends the open
// event streams and closes every connection.
func (s *Server) Stop(ctx context.Context) error {
	if first, started := s.life.End(); !first || !started {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- s.http.Shutdown(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(streamGrace):
		s.cancelStreams()
		err = <-done
	}
	s.cancelStreams()
	if err != nil {
		s.http.Close()
		err = fmt.Errorf("mcpapi: graceful stop: %w", err)
	}
	<-s.served
	if s.forwards != nil {
		s.forwards.CloseIdleConnections()
	}
	return err
}
