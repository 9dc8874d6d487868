package frontend

import (
	"fmt"
	"net/http"
	"strings"
)

// CheckContent applies the content rules every frontend enforces before a memory reaches the
// engine: not empty (nor only white space) and at most limit bytes ([limits]
// max_content_bytes, Options.MaxContentBytes). field is the name the client knows the
// content by. The engine checks its own bound again.
func CheckContent(field, content string, limit int) error {
	if strings.TrimSpace(content) == "" {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidInput, Message: field + " must not be empty"}
	}
	if len(content) > limit {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidInput,
			Message: fmt.Sprintf("%s is %d bytes; the limit is %d bytes ([limits] max_content_bytes)", field, len(content), limit)}
	}
	return nil
}
