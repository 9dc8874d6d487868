// Package testserver runs an engine and its HTTP frontend in process, on a loopback port,
// for examples and tests of HTTP clients that do not need the real binary.
package testserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/httpapi"
)

// Server is a running in-process server.
type Server struct {
	Addr string // host:port of the HTTP API
	dir  string
	eng  *engine.Engine
	http *httpapi.Server
}

// Start opens an engine in a fresh temporary folder (embedding dimension 64, the built-in
// embedder, consolidation off) and serves HTTP on 127.0.0.1 at a port the kernel picks.
func Start() (*Server, error) {
	dir, err := os.MkdirTemp("", "engram-testserver")
	if err != nil {
		return nil, fmt.Errorf("testserver: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := engine.Open(engine.Config{DataRoot: dir, AutoCreate: true, Defaults: engine.SpaceSettings{Dimension: 64}, Logger: quiet})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testserver: %w", err)
	}
	srv, err := httpapi.New(frontend.Options{Engine: eng, HTTPListen: "127.0.0.1:0", Logger: quiet})
	if err == nil {
		srv.KeepAlive = time.Second
		err = srv.Start()
	}
	if err != nil {
		eng.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("testserver: %w", err)
	}
	return &Server{Addr: srv.Addr(), dir: dir, eng: eng, http: srv}, nil
}

// Close stops the server and removes its data.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.http.Stop(ctx)
	if cerr := s.eng.Close(); err == nil {
		err = cerr
	}
	os.RemoveAll(s.dir)
	return err
}
