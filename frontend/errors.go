package frontend

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/query"
)

// Error is the public error shape shared by every frontend:
// {"error": {"code", "message", "educational_context", "cognitive_guidance"}}.
type Error struct {
	Status      int    `json:"-"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	Educational string `json:"educational_context,omitempty"`
	Guidance    string `json:"cognitive_guidance,omitempty"`
	// RetryAfter, in seconds, accompanies 429 and 503 answers.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an Error.
func Errorf(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// Public error codes.
const (
	CodeInvalidInput     = "INVALID_MEMORY_INPUT"
	CodeBadRequest       = "BAD_REQUEST"
	CodeUnauthorized     = "UNAUTHORIZED"
	CodeForbidden        = "FORBIDDEN"
	CodeMemoryNotFound   = "MEMORY_NOT_FOUND"
	CodeSpaceNotFound    = "SPACE_NOT_FOUND"
	CodeNotFound         = "RESOURCE_NOT_FOUND"
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	CodeConflict         = "CONFLICT"
	CodeTooLarge         = "PAYLOAD_TOO_LARGE"
	CodeMediaType        = "UNSUPPORTED_MEDIA_TYPE"
	CodeValidation       = "MEMORY_VALIDATION_ERROR"
	CodeRateLimited      = "RATE_LIMITED"
	CodeSpaceLimit       = "SPACE_LIMIT"
	CodeSystem           = "MEMORY_SYSTEM_ERROR"
	CodeOverloaded       = "OVERLOADED"
	CodeUnimplemented    = "NOT_IMPLEMENTED"
	CodeEmbedding        = "EMBEDDING_PROVIDER_UNAVAILABLE"
	CodeNotOwner         = "NOT_OWNER"
)

// FromError maps an engine (or frontend) error to the public shape. Messages of engine
// errors name the field or the space involved and never another space's data.
func FromError(err error) *Error {
	var fe *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, ErrUnauthenticated):
		return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: err.Error()}
	case errors.Is(err, ErrForbidden):
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: err.Error()}
	case errors.Is(err, engine.ErrInvalidSpaceID):
		return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: err.Error(),
			Educational: "Memory space ids are 3-64 characters of a-z, 0-9, '_' and '-', starting with a letter or digit."}
	case errors.Is(err, query.ErrSyntax):
		return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: err.Error(),
			Educational: "The query language is described in docs/query-language.md."}
	case errors.Is(err, query.ErrNotImplemented):
		return &Error{Status: http.StatusNotImplemented, Code: CodeUnimplemented, Message: err.Error()}
	case errors.Is(err, engine.ErrInsufficientEvidence):
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeValidation, Message: err.Error(),
			Guidance: "Nothing stored supports an answer: give more known fields, or remember the episode first."}
	case errors.Is(err, engine.ErrInvalidInput):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidInput, Message: err.Error()}
	case errors.Is(err, engine.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeMemoryNotFound, Message: err.Error()}
	case errors.Is(err, engine.ErrSpaceNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeSpaceNotFound, Message: err.Error(),
			Guidance: "Create the space first (POST /api/v1/spaces) or enable [spaces] auto_create."}
	case errors.Is(err, engine.ErrSpaceLimit):
		return &Error{Status: http.StatusTooManyRequests, Code: CodeSpaceLimit, Message: err.Error(), RetryAfter: 60}
	case errors.Is(err, engine.ErrSpaceProtected):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error()}
	case errors.Is(err, engine.ErrCapacity):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeOverloaded, Message: err.Error(), RetryAfter: 30}
	case errors.Is(err, engine.ErrEmbeddingUnavailable):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeEmbedding, Message: err.Error(), RetryAfter: 5,
			Guidance: "Nothing of this request was stored. The memory space's embedding provider did not answer; retry once it is back."}
	case errors.Is(err, engine.ErrModelChanged):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error()}
	case errors.Is(err, engine.ErrOverloaded):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeOverloaded, Message: err.Error(), RetryAfter: 1}
	case errors.Is(err, engine.ErrStorage):
		return &Error{Status: http.StatusInternalServerError, Code: CodeSystem, Message: err.Error(), RetryAfter: 2,
			Guidance: "Nothing unacknowledged was stored. The space recovers from disk by itself once the cause (often a full disk) is gone; retry later."}
	case errors.As(err, new(*Forward)):
		// A forward the frontend could not carry out (a gRPC server stream that had
		// answered already): the client is told where to go.
		fw, _ := AsForward(err)
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeNotOwner, RetryAfter: 1,
			Message: fmt.Sprintf("memory space %q is served by node %q (HTTP %s, gRPC %s); this call is not forwarded, send it there",
				fw.Space, fw.Owner.NodeID, fw.Owner.HTTP, fw.Owner.GRPC)}
	case errors.Is(err, engine.ErrNotOwner):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeNotOwner, Message: err.Error(), RetryAfter: 1,
			Guidance: "The memory space's partition has no owner this node can reach right now (it is moving after a failure or a drain); retry shortly. A remember retried with the same Idempotency-Key is stored once."}
	case errors.Is(err, ErrUnknownNode):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, engine.ErrClosed):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeOverloaded, Message: "the server is shutting down", RetryAfter: 5}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeOverloaded, Message: err.Error(), RetryAfter: 1}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeSystem, Message: err.Error()}
}
