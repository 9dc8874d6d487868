package httpapi

import (
	"fmt"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// headerSpace and querySpace are the request's explicit space choices.
func (rq *request) headerSpace() string { return string(rq.ctx.Request.Header.Peek("X-Memory-Space")) }
func (rq *request) querySpace() string  { return string(rq.ctx.QueryArgs().Peek("space")) }

// spaceID picks the request's space: header > query > body > default, or the listener's
// pinned space, which every named source must then equal. The key, when auth is on, must
// allow the space.
func (rq *request) spaceID(body string) (string, error) {
	header, query := rq.headerSpace(), rq.querySpace()
	var id string
	if rq.pinned != "" {
		for _, c := range frontend.HTTPSpaceChoices(header, query, body) {
			if c.ID == "" {
				continue
			}
			got, err := c.Normalize()
			if err != nil {
				return "", err
			}
			if got != rq.pinned {
				return "", badRequest("the %s names memory space %q but this listener serves only %q", c.Source, got, rq.pinned)
			}
		}
		id = rq.pinned
	} else {
		var err error
		if id, _, err = frontend.ChooseSpace(header, query, body); err != nil {
			return "", err
		}
	}
	if err := rq.allowSpace(id); err != nil {
		return "", err
	}
	return id, nil
}

// allowSpace checks the request's key against a space.
func (rq *request) allowSpace(id string) error {
	if rq.principal != nil && !rq.principal.MaySpace(id) {
		return fmt.Errorf("%w: %q", frontend.ErrForbidden, id)
	}
	return nil
}

// readSpace returns the space of a read. (nil, id, nil) means the space does not exist and
// auto-create is on: the caller answers as for an empty space.
func (rq *request) readSpace(body string) (*engine.Space, string, error) {
	id, err := rq.spaceID(body)
	if err != nil {
		return nil, "", err
	}
	sp, err := frontend.SpaceForRead(rq.srv.eng, id)
	return sp, id, err
}

// writeSpace returns the space of a write, creating it when auto-create is on.
func (rq *request) writeSpace(body string) (*engine.Space, error) {
	id, err := rq.spaceID(body)
	if err != nil {
		return nil, err
	}
	return frontend.SpaceForWrite(rq.srv.eng, id)
}

// bodySpace merges the two body spellings of the space; a body that names two different
// spaces is rejected rather than guessed at.
func bodySpace(memorySpace, memorySpaceID string) (string, error) {
	switch {
	case memorySpace == "":
		return memorySpaceID, nil
	case memorySpaceID == "" || memorySpaceID == memorySpace:
		return memorySpace, nil
	}
	return "", badRequest("memory_space %q and memory_space_id %q name different memory spaces", memorySpace, memorySpaceID)
}
