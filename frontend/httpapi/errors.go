package httpapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/valyala/fasthttp"
)

// badRequest builds a 400 BAD_REQUEST answer for a malformed request or parameter.
func badRequest(format string, args ...any) *frontend.Error {
	return frontend.Errorf(http.StatusBadRequest, frontend.CodeBadRequest, fmt.Sprintf(format, args...))
}

// invalidInput builds a 400 INVALID_MEMORY_INPUT answer for a bad memory field.
func invalidInput(format string, args ...any) *frontend.Error {
	return frontend.Errorf(http.StatusBadRequest, frontend.CodeInvalidInput, fmt.Sprintf(format, args...))
}

// writeError sends err in the shared JSON error shape, with Retry-After on 429/503 and
// WWW-Authenticate on 401.
func writeError(ctx *fasthttp.RequestCtx, err error) *frontend.Error {
	fe := frontend.FromError(err)
	if fe.Status == 0 {
		c := *fe
		c.Status = http.StatusInternalServerError
		fe = &c
	}
	if fe.RetryAfter > 0 || fe.Status == http.StatusTooManyRequests || fe.Status == http.StatusServiceUnavailable {
		ra := fe.RetryAfter
		if ra < 1 {
			ra = 1
		}
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(ra))
	}
	if fe.Status == http.StatusUnauthorized {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="engram"`)
	}
	b := getBuf()
	*b = appendError(*b, fe)
	writeRaw(ctx, fe.Status, *b)
	putBuf(b)
	return fe
}

func appendError(dst []byte, fe *frontend.Error) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = appendString(dst, fe.Code)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, fe.Message)
	if fe.Educational != "" {
		dst = append(dst, `,"educational_context":`...)
		dst = appendString(dst, fe.Educational)
	}
	if fe.Guidance != "" {
		dst = append(dst, `,"cognitive_guidance":`...)
		dst = appendString(dst, fe.Guidance)
	}
	return append(dst, "}}"...)
}

// maxDrain bounds how much of an oversized body is read and discarded so that the client,
// still sending it, receives the 413 instead of a connection reset.
const maxDrain = 64 << 20

// transportError answers errors fasthttp raises before a handler runs: an oversized
// body, a malformed request line or header, a read timeout. fasthttp closes the
// connection afterwards.
func (s *Server) transportError(ctx *fasthttp.RequestCtx, err error) {
	start := time.Now()
	var fe *frontend.Error
	var nerr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		drainBody(ctx)
		fe = frontend.Errorf(http.StatusRequestEntityTooLarge, frontend.CodeTooLarge,
			fmt.Sprintf("request body exceeds the limit of %d bytes ([limits] max_body_bytes)", s.opts.MaxBodyBytes))
		fe.Guidance = "Split large imports into several POST /api/v1/memories/batch requests."
	case errors.As(err, new(*fasthttp.ErrSmallBuffer)):
		fe = frontend.Errorf(http.StatusRequestHeaderFieldsTooLarge, frontend.CodeBadRequest,
			"the request line and headers are too large")
	case errors.As(err, &nerr) && nerr.Timeout():
		fe = frontend.Errorf(http.StatusRequestTimeout, frontend.CodeBadRequest, "timed out reading the request")
	default:
		fe = badRequest("malformed HTTP request: %s", transportReason(err))
	}
	writeError(ctx, fe)
	s.metrics.observe("transport", ctx.Response.StatusCode(), start)
}

// quoted matches a Go-quoted span of a transport error: fasthttp quotes what it read of
// the request there (a header value, the request line).
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// transportReason is what an answer says of a transport error: fasthttp's reason without
// the request it read, whose headers may hold a key. fasthttp is told not to append the
// request (SecureErrorLogMessage); quoted values inside the reason are withheld too, and
// whatever remains passes through frontend.RedactCredentials.
func transportReason(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error when reading request headers: ")
	if i := strings.Index(msg, ": buffer size="); i >= 0 {
		msg = msg[:i]
	}
	msg = quoted.ReplaceAllString(msg, "(value withheld)")
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return frontend.RedactCredentials(msg)
}

// drainBody reads and discards what the client is still sending of a rejected body. If
// the server closed the connection with unread data, the kernel would answer with a
// reset that can destroy the 413 answer before the client reads it.
func drainBody(ctx *fasthttp.RequestCtx) {
	c := ctx.Conn()
	if c == nil {
		return
	}
	budget := int64(ctx.Request.Header.ContentLength())
	if budget <= 0 || budget > maxDrain {
		budget = maxDrain
	}
	buf := make([]byte, 32<<10)
	var read int64
	for read < budget {
		// A short rolling deadline: the client sends the body right away or not at all.
		if err := c.SetReadDeadline(time.Now().Add(250 * time.Millisecond)); err != nil {
			return
		}
		n, err := c.Read(buf)
		read += int64(n)
		if err != nil {
			return
		}
	}
}
