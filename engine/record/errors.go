package record

import "errors"

var (
	// ErrShortPayload means a payload ended before a field it must hold.
	ErrShortPayload = errors.New("record: payload truncated")
	// ErrVersion means a payload starts with a payload version this build does not know.
	ErrVersion = errors.New("record: unknown payload version")
)
