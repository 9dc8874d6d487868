package client

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinel errors matched by errors.Is against an *Error by its code (or, for an answer
// without the JSON error shape, its status).
var (
	ErrBadRequest           = errors.New("client: bad request")            // BAD_REQUEST
	ErrInvalidInput         = errors.New("client: invalid memory input")   // INVALID_MEMORY_INPUT (and MEMORY_VALIDATION_ERROR)
	ErrUnauthorized         = errors.New("client: unauthorized")           // UNAUTHORIZED
	ErrForbidden            = errors.New("client: forbidden")              // FORBIDDEN
	ErrNotFound             = errors.New("client: not found")              // any 404
	ErrMemoryNotFound       = errors.New("client: memory not found")       // MEMORY_NOT_FOUND
	ErrSpaceNotFound        = errors.New("client: space not found")        // SPACE_NOT_FOUND
	ErrMethodNotAllowed     = errors.New("client: method not allowed")     // METHOD_NOT_ALLOWED
	ErrConflict             = errors.New("client: conflict")               // CONFLICT
	ErrTooLarge             = errors.New("client: payload too large")      // PAYLOAD_TOO_LARGE
	ErrUnsupportedMediaType = errors.New("client: unsupported media type") // UNSUPPORTED_MEDIA_TYPE
	ErrRateLimited          = errors.New("client: rate limited")           // RATE_LIMITED
	ErrSpaceLimit           = errors.New("client: space limit reached")    // SPACE_LIMIT
	ErrOverloaded           = errors.New("client: overloaded")             // OVERLOADED (and any 503)
	ErrServer               = errors.New("client: server error")           // MEMORY_SYSTEM_ERROR (and any 5xx)
	ErrNotImplemented       = errors.New("client: not implemented")        // NOT_IMPLEMENTED
	// ErrValidation is MEMORY_VALIDATION_ERROR (422): well-formed input that nothing
	// stored supports (Complete without evidence, CONSOLIDATE with too few episodes). Such
	// an error also matches ErrInvalidInput.
	ErrValidation = errors.New("client: memory validation error")
	// ErrEmbeddingUnavailable is EMBEDDING_PROVIDER_UNAVAILABLE (503): the space's embedding
	// provider did not answer, nothing was stored; retry after Retry-After. It also matches
	// ErrOverloaded, as every 503 does.
	ErrEmbeddingUnavailable = errors.New("client: embedding provider unavailable")
	// ErrNotOwner is NOT_OWNER (503): in a cluster, the memory space's partition has no
	// owner the node asked can reach right now (it is moving after a failure or a drain).
	// Retry after Retry-After; a remember retried with the same IdempotencyKey is stored
	// once. It also matches ErrOverloaded, as every 503 does.
	ErrNotOwner = errors.New("client: memory space not served right now")
	// ErrNoServer wraps a failure to connect: nothing answers at the address.
	ErrNoServer = errors.New("client: no server")
)

var codeErrors = map[string]error{
	"BAD_REQUEST":                    ErrBadRequest,
	"INVALID_MEMORY_INPUT":           ErrInvalidInput,
	"MEMORY_VALIDATION_ERROR":        ErrInvalidInput,
	"UNAUTHORIZED":                   ErrUnauthorized,
	"FORBIDDEN":                      ErrForbidden,
	"MEMORY_NOT_FOUND":               ErrMemoryNotFound,
	"SPACE_NOT_FOUND":                ErrSpaceNotFound,
	"RESOURCE_NOT_FOUND":             ErrNotFound,
	"METHOD_NOT_ALLOWED":             ErrMethodNotAllowed,
	"CONFLICT":                       ErrConflict,
	"PAYLOAD_TOO_LARGE":              ErrTooLarge,
	"UNSUPPORTED_MEDIA_TYPE":         ErrUnsupportedMediaType,
	"RATE_LIMITED":                   ErrRateLimited,
	"SPACE_LIMIT":                    ErrSpaceLimit,
	"OVERLOADED":                     ErrOverloaded,
	"MEMORY_SYSTEM_ERROR":            ErrServer,
	"NOT_IMPLEMENTED":                ErrNotImplemented,
	"EMBEDDING_PROVIDER_UNAVAILABLE": ErrEmbeddingUnavailable,
	"NOT_OWNER":                      ErrNotOwner,
}

// Error is an error answer of the server: {"error": {code, message, educational_context,
// cognitive_guidance}} plus the HTTP status and Retry-After.
type Error struct {
	Status             int
	Code               string // "" when the answer did not have the JSON error shape
	Message            string
	EducationalContext string
	CognitiveGuidance  string
	RetryAfter         time.Duration // from the Retry-After header; 0 if none
	Method, Path       string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("engram: %s %s: %s (HTTP %d)", e.Method, e.Path, e.Message, e.Status)
	}
	return fmt.Sprintf("engram: %s %s: %s (%s, HTTP %d)", e.Method, e.Path, e.Message, e.Code, e.Status)
}

// Is matches the sentinel of the error's code; every 404 also matches ErrNotFound, every
// 503 ErrOverloaded and every other 5xx ErrServer.
func (e *Error) Is(target error) bool {
	if s, ok := codeErrors[e.Code]; ok && s == target {
		return true
	}
	if e.Code == "MEMORY_VALIDATION_ERROR" && target == ErrValidation {
		return true
	}
	switch {
	case e.Status == http.StatusNotFound:
		return target == ErrNotFound
	case e.Status == http.StatusServiceUnavailable:
		return target == ErrOverloaded
	case e.Status == http.StatusTooManyRequests && e.Code == "":
		return target == ErrRateLimited
	case e.Status >= 500 && e.Code == "":
		return target == ErrServer
	}
	return false
}

// Retryable reports an answer worth sending again later: 429 and 503.
func (e *Error) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
}
