package engine

import "errors"

// Sentinel errors. Frontends map them to status codes; wrapped errors carry the detail
// (which field, which space) in their message.
var (
	ErrInvalidInput   = errors.New("engine: invalid input")
	ErrInvalidSpaceID = errors.New("engine: invalid memory space id")
	ErrSpaceNotFound  = errors.New("engine: memory space not found")
	ErrSpaceLimit     = errors.New("engine: memory space limit reached")
	ErrSpaceProtected = errors.New("engine: memory space cannot be deleted")
	ErrNotFound       = errors.New("engine: memory not found")
	ErrCapacity       = errors.New("engine: space capacity reached")
	ErrOverloaded     = errors.New("engine: overloaded")
	ErrClosed         = errors.New("engine: closed")
	// ErrStorage: the space's log could not write or sync (disk full, I/O error). Nothing
	// was acknowledged that is not durable; the space recovers from disk by itself.
	ErrStorage = errors.New("engine: storage failure")
	// ErrNotOwner: in a cluster, the space's partition is led by another node (or by none
	// while it moves); nothing was acknowledged. Usually nothing was written; when the
	// partition was lost because its stream did not answer a publish, the write may be in
	// the stream, so a client retries with the same Idempotency-Key. Frontends forward or
	// answer 503 with Retry-After.
	ErrNotOwner = errors.New("engine: memory space is served by another node")
)
