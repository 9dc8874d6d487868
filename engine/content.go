package engine

import (
	"strings"
	"unicode/utf8"
)

// MaxContentBytes is the hard bound on a memory's content: every remember meets it, whatever
// frontend it came through. A frontend may enforce a lower bound ([limits] max_content_bytes).
const MaxContentBytes = 100 << 10

// ContentFault is what keeps a memory's content from being stored (CheckContent).
type ContentFault uint8

const (
	ContentOK      ContentFault = iota
	ContentEmpty                // empty or only white space
	ContentTooLong              // more bytes than the bound
	ContentNotUTF8              // not valid UTF-8
)

// CheckContent is the one content rule, applied by the engine to every remember and by the
// frontends beforehand so a client hears of the bound it configured, in its own field names:
// not empty nor only white space, at most limit bytes, valid UTF-8. limit is capped at
// MaxContentBytes, so no frontend setting lets past what the engine refuses.
func CheckContent(content string, limit int) ContentFault {
	switch {
	case strings.TrimSpace(content) == "":
		return ContentEmpty
	case len(content) > min(limit, MaxContentBytes):
		return ContentTooLong
	case !utf8.ValidString(content):
		return ContentNotUTF8
	}
	return ContentOK
}
