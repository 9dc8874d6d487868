package frontend

import (
	"errors"
	"fmt"

	"github.com/engram-go/engram/engine"
)

// SpaceSource says where a request's space id came from.
type SpaceSource string

const (
	SourceHeader  SpaceSource = "X-Memory-Space header"
	SourceQuery   SpaceSource = "space query parameter"
	SourceBody    SpaceSource = "memory_space body field"
	SourceDefault SpaceSource = "default"
)

// ChooseSpace applies the precedence rule: header, then query parameter, then body field,
// then the default space. The first non-empty value wins and must be a valid id; an
// invalid one is an error naming where it came from (it never falls through to the next).
func ChooseSpace(header, query, body string) (string, SpaceSource, error) {
	for _, c := range []struct {
		v   string
		src SpaceSource
	}{{header, SourceHeader}, {query, SourceQuery}, {body, SourceBody}} {
		if c.v == "" {
			continue
		}
		id, err := engine.NormalizeSpaceID(c.v)
		if err != nil {
			return "", c.src, fmt.Errorf("%w (from the %s)", err, c.src)
		}
		return id, c.src, nil
	}
	return engine.DefaultSpace, SourceDefault, nil
}

// SpaceForRead returns the space for a read. An unknown space is not created: with
// auto-create on, (nil, nil) means "answer as an empty space"; with it off the answer is
// ErrSpaceNotFound.
func SpaceForRead(e *engine.Engine, id string) (*engine.Space, error) {
	s, err := e.Space(id)
	if errors.Is(err, engine.ErrSpaceNotFound) && e.Config().AutoCreate {
		return nil, nil
	}
	return s, err
}

// SpaceForWrite returns the space for a write, creating it when auto-create is on.
func SpaceForWrite(e *engine.Engine, id string) (*engine.Space, error) {
	return e.SpaceForWrite(id)
}
