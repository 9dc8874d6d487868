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

// preauthorize refuses, before a body is read, a request whose listener, X-Memory-Space
// header or space query parameter names a space the key may not touch: those sources win
// over the body's, so spaceID would refuse it anyway, and the body of a caller who may
// not write there is never parsed. An invalid id is left to spaceID, which names its
// source.
func (rq *request) preauthorize() error {
	if rq.principal == nil {
		return nil
	}
	raw := rq.pinned
	if raw == "" {
		raw = rq.headerSpace()
	}
	if raw == "" {
		raw = rq.querySpace()
	}
	if raw == "" {
		return nil
	}
	id, err := engine.NormalizeSpaceID(raw)
	if err != nil {
		return nil
	}
	return rq.allowSpace(id)
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
	if err == nil {
		err = rq.route(id)
	}
	if err != nil {
		return nil, "", err
	}
	sp, err := frontend.SpaceForRead(rq.srv.eng, id)
	return sp, id, err
}

// writeSpace returns the space of a write, creating it when auto-create is on.
func (rq *request) writeSpace(body string) (*engine.Space, error) {
	id, err := rq.spaceID(body)
	if err == nil {
		err = rq.route(id)
	}
	if err != nil {
		return nil, err
	}
	return frontend.SpaceForWrite(rq.srv.eng, id)
}

// bodySpace merges the two body spellings of the space, each normalised as every source
// of a space id is (engine.NormalizeSpaceID: " prod " is "prod"); a body that names two
// different spaces is rejected rather than guessed at. An invalid id is kept as sent: the
// space rule reports it if the body's space is the one that applies.
func bodySpace(memorySpace, memorySpaceID string) (string, error) {
	memorySpace, memorySpaceID = spaceKey(memorySpace), spaceKey(memorySpaceID)
	switch {
	case memorySpace == "":
		return memorySpaceID, nil
	case memorySpaceID == "" || memorySpaceID == memorySpace:
		return memorySpace, nil
	}
	return "", badRequest("memory_space %q and memory_space_id %q name different memory spaces", memorySpace, memorySpaceID)
}

// spaceKey is the id raw names, normalised, or raw itself when it is not a valid id.
func spaceKey(raw string) string {
	if raw == "" {
		return "" // most bodies name no space: no error to build
	}
	if id, err := engine.NormalizeSpaceID(raw); err == nil {
		return id
	}
	return raw
}
