package frontend

import (
	"fmt"
	"net/http"

	"github.com/engram-go/engram/engine"
)

// CheckContent applies the engine's content rule (engine.CheckContent) before a memory reaches
// the engine, with the frontend's bound ([limits] max_content_bytes, Options.MaxContentBytes;
// never above engine.MaxContentBytes, the hard limit) and in the client's words: field is the
// name the client knows the content by.
func CheckContent(field, content string, limit int) error {
	limit = min(limit, engine.MaxContentBytes)
	var msg string
	switch engine.CheckContent(content, limit) {
	case engine.ContentOK:
		return nil
	case engine.ContentEmpty:
		msg = field + " must not be empty"
	case engine.ContentTooLong:
		msg = fmt.Sprintf("%s is %d bytes; the limit is %d bytes ([limits] max_content_bytes)", field, len(content), limit)
	case engine.ContentNotUTF8:
		msg = field + " is not valid UTF-8"
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidInput, Message: msg}
}
