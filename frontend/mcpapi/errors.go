package mcpapi

import (
	"fmt"
	"strings"

	"github.com/engram-go/engram/frontend"
)

// toolError turns an engine or frontend error into the text of an isError tool result:
// the public error code and message, plus what to do about it when there is advice. The
// SDK sends any non-protocol error from a handler as such a result, never as a crash.
func toolError(err error) error {
	fe := frontend.FromError(err)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", fe.Code, fe.Message)
	if fe.Educational != "" {
		b.WriteString(" " + fe.Educational)
	}
	if fe.Guidance != "" {
		b.WriteString(" " + fe.Guidance)
	}
	if fe.RetryAfter > 0 {
		fmt.Fprintf(&b, " Retry after %d s.", fe.RetryAfter)
	}
	return &toolErr{msg: b.String(), cause: err}
}

// toolErr keeps the cause for errors.Is while showing the public message.
type toolErr struct {
	msg   string
	cause error
}

func (e *toolErr) Error() string { return e.msg }
func (e *toolErr) Unwrap() error { return e.cause }

// invalid is a bad argument, named.
func invalid(format string, args ...any) error {
	return frontend.Errorf(400, frontend.CodeInvalidInput, fmt.Sprintf(format, args...))
}
