package mcpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// principalExtra is the TokenInfo.Extra key holding the key's *frontend.Principal.
const principalExtra = "engram.principal"

// spaceHeader is the connection's choice of memory space, first in precedence.
const spaceHeader = "X-Memory-Space"

// spaceArgument names the tool argument that picks the space, in errors.
const spaceArgument = "memory_space argument"

// verifyKey checks a bearer key with the shared Authenticator. The principal's name is
// the token's user id, so the SDK refuses a session reused under another key.
func (s *Server) verifyKey(_ context.Context, key string, _ *http.Request) (*auth.TokenInfo, error) {
	p, err := s.opts.Auth.Authenticate(key)
	if err != nil {
		if errors.Is(err, frontend.ErrUnauthenticated) {
			return nil, fmt.Errorf("%w: %v", auth.ErrInvalidToken, err)
		}
		return nil, err
	}
	return &auth.TokenInfo{UserID: p.Name, Extra: map[string]any{principalExtra: p}}, nil
}

// caller is who makes a tool call and what the connection asked for.
type caller struct {
	authOn    bool
	principal *frontend.Principal
	header    string // the X-Memory-Space header of the call's HTTP request
}

func (s *Server) callerOf(extra *mcp.RequestExtra) caller {
	c := caller{authOn: s.opts.Auth != nil}
	if extra == nil {
		return c
	}
	if extra.Header != nil {
		c.header = extra.Header.Get(spaceHeader)
	}
	if extra.TokenInfo != nil {
		c.principal, _ = extra.TokenInfo.Extra[principalExtra].(*frontend.Principal)
	}
	return c
}

// may reports whether the caller's key reaches space. With authentication on, a call
// without a principal reaches nothing (the middleware makes that impossible; this is the
// second lock on the door).
func (c caller) may(space string) error {
	if !c.authOn {
		return nil
	}
	if c.principal == nil || !c.principal.MaySpace(space) {
		return fmt.Errorf("%w: %q", frontend.ErrForbidden, space)
	}
	return nil
}

// spaceID applies the precedence rule (header, then the tool argument, then the default
// space) and checks the key's scope.
func (c caller) spaceID(argument string) (string, error) {
	id, src, err := frontend.ChooseSpace(c.header, "", argument)
	if err != nil {
		if src == frontend.SourceBody {
			// Name the source the way an agent knows it.
			return "", fmt.Errorf("%w (from the %s)", errors.Unwrap(err), spaceArgument)
		}
		return "", err
	}
	if err := c.may(id); err != nil {
		return "", err
	}
	return id, nil
}

// readSpace resolves the space of a read; (nil, id, nil) means it does not exist and
// auto-create is on, to be answered as an empty space.
func (s *Server) readSpace(c caller, argument string) (*engine.Space, string, error) {
	id, err := c.spaceID(argument)
	if err == nil {
		err = s.local(id)
	}
	if err != nil {
		return nil, "", err
	}
	sp, err := frontend.SpaceForRead(s.eng, id)
	return sp, id, err
}

// writeSpace resolves the space of a write, creating it when auto-create is on.
func (s *Server) writeSpace(c caller, argument string) (*engine.Space, error) {
	id, err := c.spaceID(argument)
	if err == nil {
		err = s.local(id)
	}
	if err != nil {
		return nil, err
	}
	return frontend.SpaceForWrite(s.eng, id)
}

// local asks, in a cluster, where space id is served: nil here, a *frontend.Forward when
// another node serves it (the tool call is then carried out by that node's HTTP API,
// forward.go), or an error wrapping engine.ErrNotOwner when no node can take it now.
func (s *Server) local(id string) error {
	if s.opts.Router == nil {
		return nil
	}
	return frontend.RouteSpace(s.opts.Router, id, "", "http")
}
