package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"google.golang.org/grpc/metadata"
)

// spaceMetadata is the metadata key that picks a call's memory space, first in precedence.
const spaceMetadata = "x-memory-space"

// headerSpace is the call's x-memory-space metadata ("" when absent).
func headerSpace(ctx context.Context) string {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ""
	}
	if v := md.Get(spaceMetadata); len(v) > 0 {
		return v[0]
	}
	return ""
}

// chooseSpace applies the precedence rule (metadata, then the request's field, then the
// default space) and checks that the caller's key may touch the space.
func (s *Server) chooseSpace(ctx context.Context, field string) (string, error) {
	id, src, err := frontend.ChooseSpace(headerSpace(ctx), "", field)
	if err != nil {
		// Name the source the way a gRPC client knows it, not by its HTTP name.
		cause := errors.Unwrap(err)
		if cause == nil {
			cause = err
		}
		where := "x-memory-space metadata"
		if src == frontend.SourceBody {
			where = "memory_space_id field"
		}
		return "", fmt.Errorf("%w (from the %s)", cause, where)
	}
	if err := s.maySpace(ctx, id); err != nil {
		return "", err
	}
	return id, nil
}

// readSpace resolves the space of a read. A nil space with a nil error means the space
// does not exist and auto-create is on: the caller answers as for an empty space.
func (s *Server) readSpace(ctx context.Context, field string) (*engine.Space, string, error) {
	id, err := s.chooseSpace(ctx, field)
	if err != nil {
		return nil, "", err
	}
	sp, err := frontend.SpaceForRead(s.eng, id)
	return sp, id, err
}

// allowRemember takes n remembers from the space's rate limit, shared with every other
// frontend of the server.
func (s *Server) allowRemember(sp *engine.Space, n int) error {
	rate := sp.Settings().RateLimit
	ok, wait := s.opts.Limits.Allow(sp.ID(), rate, n)
	if ok {
		return nil
	}
	return &frontend.Error{
		Status:     http.StatusTooManyRequests,
		Code:       frontend.CodeRateLimited,
		Message:    fmt.Sprintf("memory space %q accepts %g remembers per second", sp.ID(), rate),
		RetryAfter: frontend.RetryAfterSeconds(wait),
	}
}
