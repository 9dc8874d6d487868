package grpcapi

import (
	"context"
	"strings"

	"github.com/engram-go/engram/frontend"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// principalKey carries the authenticated principal in a call's context.
type principalKey struct{}

// openMethods never need a key: liveness probes and schema discovery carry no space data.
var openMethods = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

func isOpenMethod(fullMethod string) bool {
	for _, p := range openMethods {
		if strings.HasPrefix(fullMethod, p) {
			return true
		}
	}
	return false
}

// authenticate checks the `authorization: Bearer <key>` metadata when authentication is on
// and returns the context carrying the principal.
func (s *Server) authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	if s.opts.Auth == nil || isOpenMethod(fullMethod) {
		return ctx, nil
	}
	key := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		for _, v := range md.Get("authorization") {
			if k, ok := cutBearer(v); ok {
				key = k
				break
			}
		}
	}
	if key == "" {
		return ctx, frontend.ErrUnauthenticated
	}
	p, err := s.opts.Auth.Authenticate(key)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, principalKey{}, p), nil
}

// cutBearer extracts the key of "Bearer <key>" (scheme case-insensitive).
func cutBearer(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 7 || !strings.EqualFold(v[:7], "bearer ") {
		return "", false
	}
	k := strings.TrimSpace(v[7:])
	return k, k != ""
}

// principalOf is the caller's principal; nil when authentication is off.
func principalOf(ctx context.Context) *frontend.Principal {
	p, _ := ctx.Value(principalKey{}).(*frontend.Principal)
	return p
}

// maySpace reports whether the caller may touch space.
func (s *Server) maySpace(ctx context.Context, space string) error {
	if s.opts.Auth == nil {
		return nil
	}
	if p := principalOf(ctx); p == nil || !p.MaySpace(space) {
		return frontend.ErrForbidden
	}
	return nil
}

func (s *Server) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, statusOf(err).Err()
	}
	return handler(ctx, req)
}

func (s *Server) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return statusOf(err).Err()
	}
	return handler(srv, &principalStream{ServerStream: ss, ctx: ctx})
}

// principalStream is a server stream whose context carries the principal.
type principalStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (p *principalStream) Context() context.Context { return p.ctx }
