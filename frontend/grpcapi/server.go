package grpcapi

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// DefaultListen is the gRPC address used when Options.GRPCListen is empty.
const DefaultListen = "127.0.0.1:50051"

func init() {
	frontend.Register("grpc", func(opts frontend.Options) (frontend.Frontend, error) {
		return New(opts)
	})
}

// Server is the gRPC frontend: EngramService, server reflection and grpc.health.v1.
type Server struct {
	pb.UnimplementedEngramServiceServer

	opts   frontend.Options
	eng    *engine.Engine
	log    *slog.Logger
	srv    *grpc.Server
	health *health.Server
	owners *owners // connections to the owners of forwarded calls' spaces

	mu      sync.Mutex
	ln      net.Listener
	started bool
	stopped bool
	served  chan struct{} // closed when Serve returned
	done    chan struct{} // closed by Stop; ends the event streams and bidi loops
}

// New builds the gRPC frontend. Options get the same defaults as frontend.New.
func New(opts frontend.Options) (*Server, error) {
	if opts.Engine == nil {
		return nil, fmt.Errorf("grpcapi: %w: no engine", engine.ErrInvalidInput)
	}
	opts.SetDefaults()
	s := &Server{
		opts:   opts,
		eng:    opts.Engine,
		log:    opts.Logger,
		health: health.NewServer(),
		served: make(chan struct{}),
		done:   make(chan struct{}),
		owners: &owners{conns: map[string]*grpc.ClientConn{}, max: opts.MaxBodyBytes},
	}
	unary := []grpc.UnaryServerInterceptor{s.unaryAuth}
	stream := []grpc.StreamServerInterceptor{s.streamAuth}
	if opts.Router != nil {
		unary = append(unary, s.unaryForward)
		stream = append(stream, s.streamForward)
	}
	s.srv = grpc.NewServer(
		// The message limit plays the role of HTTP's body limit.
		grpc.MaxRecvMsgSize(opts.MaxBodyBytes),
		// ...and these bound what decoding a message may cost, and whose (admit.go).
		grpc.ForceServerCodecV2(newBoundedCodec(maxMessageFields(opts.MaxBodyBytes))),
		grpc.InTapHandle(s.admit),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		// Clients that keep idle connections alive with pings are welcome, within reason.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	pb.RegisterEngramServiceServer(s.srv, s)
	healthpb.RegisterHealthServer(s.srv, s.health)
	reflection.Register(s.srv)
	return s, nil
}

// Start binds Options.GRPCListen (DefaultListen when empty) and serves in the background.
// A bind failure is returned.
func (s *Server) Start() error {
	addr := s.opts.GRPCListen
	if addr == "" {
		addr = DefaultListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("grpcapi: listen on %s: %w", addr, err)
	}
	if err := s.ServeOn(ln); err != nil {
		ln.Close()
		return err
	}
	s.log.Info("gRPC API listening", "addr", ln.Addr().String())
	return nil
}

// ServeOn serves on an already bound listener in the background until Stop. A server
// serves one listener.
func (s *Server) ServeOn(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return ErrStopped
	case s.started:
		return ErrStarted
	}
	s.started = true
	s.ln = ln
	frontend.ServeInBackground(s.log, "gRPC", ln, s.srv.Serve, s.served)
	return nil
}

// Addr is the bound address ("" before Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Stop reports NOT_SERVING on grpc.health.v1, ends the event streams, ends the
// bidirectional streams after the items they already took in are answered, lets unary
// calls finish until ctx ends, and then closes every connection.
func (s *Server) Stop(ctx context.Context) error {
	first, started := s.markStopped()
	if !first {
		return nil
	}

	s.health.Shutdown()
	graceful := make(chan struct{})
	go func() {
		s.srv.GracefulStop()
		close(graceful)
	}()
	var err error
	select {
	case <-graceful:
	case <-ctx.Done():
		s.srv.Stop()
		<-graceful
		err = fmt.Errorf("grpcapi: graceful stop: %w", ctx.Err())
	}
	if started {
		<-s.served
	}
	s.owners.close()
	return err
}

// markStopped refuses later ServeOn calls and ends the streams (closing done). It reports
// whether this was the first Stop and whether a listener was being served.
func (s *Server) markStopped() (first, started bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false, false
	}
	s.stopped = true
	close(s.done)
	return true, s.started
}
