package frontend

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/engram-go/engram/engine"
)

// Hop markers: a request forwarded by a node carries the forwarding node's id, so that
// the owner never forwards it again (docs/cluster.md, "Forwarding").
const (
	ForwardedByHeader   = "Engram-Forwarded-By" // HTTP header
	ForwardedByMetadata = "engram-forwarded-by" // gRPC metadata
)

// Forward is what space resolution returns, as an error, when the space is served by
// another node: the frontend then sends the request there once, unchanged but for the
// hop marker, and returns the owner's answer as its own.
type Forward struct {
	Space string
	Owner Owner
}

func (f *Forward) Error() string {
	return fmt.Sprintf("memory space %q is served by node %q", f.Space, f.Owner.NodeID)
}

// Is makes a forward that is not carried out (a protocol that does not forward it) an
// engine.ErrNotOwner to every mapping of errors.
func (f *Forward) Is(target error) bool { return target == engine.ErrNotOwner }

// RouteSpace asks r where space is served. nil means here. A space served elsewhere is a
// *Forward, unless the request was forwarded already (forwardedBy is the hop marker, ""
// when none): a second hop is refused, as are a partition without an owner and an owner
// without the address the protocol needs (want is "http" or "grpc"), each an error
// wrapping engine.ErrNotOwner, answered 503 with Retry-After.
func RouteSpace(r Router, space, forwardedBy, want string) error {
	owner, local, err := r.Route(space)
	switch {
	case err != nil:
		return fmt.Errorf("%w: memory space %q: %v", engine.ErrNotOwner, space, err)
	case local:
		return nil
	case forwardedBy != "":
		return fmt.Errorf("%w: memory space %q was forwarded here by node %q but is served by node %q; the partition is moving",
			engine.ErrNotOwner, space, forwardedBy, owner.NodeID)
	case want == "http" && owner.HTTP == "", want == "grpc" && owner.GRPC == "":
		return fmt.Errorf("%w: memory space %q is served by node %q, which advertises no %s address",
			engine.ErrNotOwner, space, owner.NodeID, want)
	}
	return &Forward{Space: space, Owner: owner}
}

// AsForward reports whether err asks for a forward.
func AsForward(err error) (*Forward, bool) {
	var f *Forward
	ok := errors.As(err, &f)
	return f, ok
}

// ForwardCounters count the requests this node forwarded, by protocol and outcome, for
// /metrics. Every frontend of a node shares one (Options.Forwards).
type ForwardCounters struct {
	HTTP, GRPC ForwardCount
}

// ForwardCount is one protocol's forwards: answered by the owner (whatever its status)
// or failed to reach it.
type ForwardCount struct {
	OK, Failed atomic.Uint64
}
