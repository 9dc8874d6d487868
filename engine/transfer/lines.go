package transfer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// errLineTooLong marks a line beyond the reader's limit; the reader skips to the next one.
var errLineTooLong = errors.New("transfer: line too long")

// lineReader splits a stream into lines of bounded length, numbering them from 1.
type lineReader struct {
	br   *bufio.Reader
	max  int
	buf  []byte
	line int
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its newline and its number. The line is valid until
// the following call. A last line without a newline is returned as a line.
func (l *lineReader) next() ([]byte, int, error) {
	l.buf = l.buf[:0]
	tooLong := false
	for {
		chunk, err := l.br.ReadSlice('\n')
		if !tooLong {
			if len(l.buf)+len(chunk) > l.max+1 {
				tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(l.buf) == 0 && !tooLong {
				return nil, l.line, io.EOF
			}
		case err != nil:
			return nil, l.line + 1, err
		}
		l.line++
		if tooLong {
			return nil, l.line, errLineTooLong
		}
		return bytes.TrimSuffix(l.buf, []byte("\n")), l.line, nil
	}
}
