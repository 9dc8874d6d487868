package grpcapi

import (
	"context"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// spaceMetadata is the metadata key that picks a call's memory space, first in precedence.
const spaceMetadata = "x-memory-space"

// headerSpace is the call's x-memory-space metadata ("" when absent).
func headerSpace(ctx context.Context) string { return incoming(ctx, spaceMetadata) }

// Where a call names its space, by the names a gRPC client knows.
const (
	sourceMetadata frontend.SpaceSource = "x-memory-space metadata"
	sourceField    frontend.SpaceSource = "memory_space_id field"
)

// chooseSpace applies the precedence rule (metadata, then the request's field, then the
// default space) and checks that the caller's key may touch the space.
func (s *Server) chooseSpace(ctx context.Context, field string) (string, error) {
	id, _, err := frontend.ChooseSpaceFrom(frontend.SpaceChoice{ID: headerSpace(ctx), Source: sourceMetadata},
		frontend.SpaceChoice{ID: field, Source: sourceField})
	if err != nil {
		return "", err
	}
	if err := s.maySpace(ctx, id); err != nil {
		return "", err
	}
	return id, s.route(ctx, id)
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
