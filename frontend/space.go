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

// SpaceChoice is one place a request may name its space: the id found there ("" when none)
// and the name the client knows that place by, which an error about a bad id repeats.
type SpaceChoice struct {
	ID     string
	Source SpaceSource
}

// Normalize returns the choice's id in canonical form, or an error naming its source.
func (c SpaceChoice) Normalize() (string, error) {
	id, err := engine.NormalizeSpaceID(c.ID)
	if err != nil {
		return "", fmt.Errorf("%w (from the %s)", err, c.Source)
	}
	return id, nil
}

// ChooseSpaceFrom applies the precedence rule to choices given in precedence order: the
// first non-empty one wins and must be a valid id; an invalid one is an error naming where
// it came from (it never falls through to the next). With none, the default space.
func ChooseSpaceFrom(choices ...SpaceChoice) (string, SpaceSource, error) {
	for _, c := range choices {
		if c.ID == "" {
			continue
		}
		id, err := c.Normalize()
		return id, c.Source, err
	}
	return engine.DefaultSpace, SourceDefault, nil
}

// HTTPSpaceChoices are the places an HTTP request names its space, in precedence order:
// header, query parameter, body field.
func HTTPSpaceChoices(header, query, body string) [3]SpaceChoice {
	return [3]SpaceChoice{{header, SourceHeader}, {query, SourceQuery}, {body, SourceBody}}
}

// ChooseSpace applies the precedence rule of an HTTP request: header, then query
// parameter, then body field, then the default space.
func ChooseSpace(header, query, body string) (string, SpaceSource, error) {
	c := HTTPSpaceChoices(header, query, body)
	return ChooseSpaceFrom(c[:]...)
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
