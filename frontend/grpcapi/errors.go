package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Errors of the server's life cycle.
var (
	ErrStarted = errors.New("grpcapi: server already started")
	ErrStopped = errors.New("grpcapi: server stopped")
)

// errorDomain names this server in google.rpc.ErrorInfo details.
const errorDomain = "engram"

// unimplemented is the public error of a request shape this server does not serve.
func unimplemented(what string) *frontend.Error {
	return &frontend.Error{Status: http.StatusNotImplemented, Code: frontend.CodeUnimplemented,
		Message: what + " is not implemented by this server"}
}

// invalid is a 400 naming the offending field.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{engine.ErrInvalidInput}, args...)...)
}

// codeOf maps a public error to its gRPC code.
func codeOf(err error, fe *frontend.Error) codes.Code {
	switch {
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, engine.ErrClosed), errors.Is(err, engine.ErrEmbeddingUnavailable), errors.Is(err, engine.ErrNotOwner):
		return codes.Unavailable
	}
	switch fe.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType,
		http.StatusUnprocessableEntity:
		return codes.InvalidArgument
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return codes.ResourceExhausted
	case http.StatusConflict:
		return codes.FailedPrecondition
	case http.StatusNotImplemented:
		return codes.Unimplemented
	}
	return codes.Internal
}

// statusOf turns any error into a gRPC status carrying a google.rpc.ErrorInfo with the
// public error code (and its hints), plus a RetryInfo when the client should wait.
func statusOf(err error) *status.Status {
	if st, ok := status.FromError(err); ok {
		return st
	}
	fe := frontend.FromError(err)
	st := status.New(codeOf(err, fe), fe.Message)
	info := &errdetails.ErrorInfo{Reason: fe.Code, Domain: errorDomain}
	if fe.Educational != "" || fe.Guidance != "" {
		info.Metadata = map[string]string{}
		if fe.Educational != "" {
			info.Metadata["educational_context"] = fe.Educational
		}
		if fe.Guidance != "" {
			info.Metadata["cognitive_guidance"] = fe.Guidance
		}
	}
	details := []protoadapt.MessageV1{info}
	if fe.RetryAfter > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(fe.RetryAfter) * time.Second)})
	}
	if withDetails, derr := st.WithDetails(details...); derr == nil {
		return withDetails
	}
	return st
}

// rpcError is statusOf as an error for a handler's return. For a rate-limited or
// overloaded answer it also sets the retry-after trailer, the gRPC spelling of HTTP's
// Retry-After header.
func rpcError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if fw, ok := frontend.AsForward(err); ok {
		// Carried out by unaryForward; a stream answers the status.
		return &forwardError{st: statusOf(err), fw: fw}
	}
	if fe := frontend.FromError(err); fe.RetryAfter > 0 {
		_ = grpc.SetTrailer(ctx, metadata.Pairs("retry-after", strconv.Itoa(fe.RetryAfter)))
	}
	return statusOf(err).Err()
}

// itemError is the in-stream report of one failed item of a bidirectional stream.
func itemError(err error) *pb.ItemError {
	fe := frontend.FromError(err)
	st := statusOf(err)
	return &pb.ItemError{
		Code:              int32(st.Code()),
		ErrorCode:         fe.Code,
		Message:           st.Message(),
		RetryAfterSeconds: int32(fe.RetryAfter),
	}
}

// answer returns a unary handler's result, its error as rpcError makes it:
// return answer[*pb.X](ctx)(s.x(ctx, req)).
func answer[T any](ctx context.Context) func(T, error) (T, error) {
	return func(out T, err error) (T, error) {
		if err != nil {
			var zero T
			return zero, rpcError(ctx, err)
		}
		return out, nil
	}
}
