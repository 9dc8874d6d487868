package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/engram-go/engram/engine/transfer"
)

// Spaces lists the spaces this client may see, sorted by id (GET /api/v1/spaces).
func (c *Client) Spaces(ctx context.Context) ([]SpaceEntry, error) {
	var out struct {
		Spaces []SpaceEntry `json:"spaces"`
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/spaces", noSpace: true}, &out); err != nil {
		return nil, err
	}
	return out.Spaces, nil
}

// CreateSpace creates space id with settings (zero fields: the server's defaults). When it
// existed, its settings are unchanged and Created is false (POST /api/v1/spaces).
func (c *Client) CreateSpace(ctx context.Context, id string, settings SpaceSettings) (*SpaceDetails, error) {
	if settings.HTTPListen != "" {
		return nil, fmt.Errorf("client: create space %q: http_listen belongs in the server's configuration file", id)
	}
	body := struct {
		ID string `json:"id"`
		SpaceSettings
	}{id, settings}
	cl, err := c.jsonCall(http.MethodPost, "/api/v1/spaces", nil, body)
	if err != nil {
		return nil, err
	}
	cl.noSpace = true
	var out SpaceDetails
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetSpace reads one space's details and statistics (GET /api/v1/spaces/{id}).
func (c *Client) GetSpace(ctx context.Context, id string) (*SpaceDetails, error) {
	var out SpaceDetails
	if err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/spaces/" + url.PathEscape(id), noSpace: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteSpace deletes a space and its data (DELETE /api/v1/spaces/{id}); ErrConflict for
// "default".
func (c *Client) DeleteSpace(ctx context.Context, id string) (*DeleteSpaceResponse, error) {
	var out DeleteSpaceResponse
	if err := c.do(ctx, call{method: http.MethodDelete, path: "/api/v1/spaces/" + url.PathEscape(id), noSpace: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ErrIncompleteExport says an export stream ended before its end: the server failed part
// way or the connection dropped. What was written is a prefix of the space.
var ErrIncompleteExport = errors.New("client: export cut short")

// Export writes space id in the transfer format (NDJSON, one memory per line, in id order,
// as of one instant) to w and returns the number of lines (GET /api/v1/spaces/{id}/export).
// A stream cut short returns ErrIncompleteExport.
func (c *Client) Export(ctx context.Context, id string, w io.Writer) (int, error) {
	resp, err := c.send(ctx, call{method: http.MethodGet, path: "/api/v1/spaces/" + url.PathEscape(id) + "/export", noSpace: true})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 || errors.Is(err, bufio.ErrBufferFull) {
			if _, werr := w.Write(line); werr != nil {
				return n, fmt.Errorf("client: export %q: write: %w", id, werr)
			}
		}
		switch {
		case err == nil:
			n++
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			if len(line) > 0 {
				return n, fmt.Errorf("%w: space %q: last line has no newline", ErrIncompleteExport, id)
			}
			return n, nil
		default:
			return n, fmt.Errorf("%w: space %q after %d lines: %v", ErrIncompleteExport, id, n, err)
		}
	}
}

// ExportMemories decodes an export line by line and calls fn with each memory.
func (c *Client) ExportMemories(ctx context.Context, id string, fn func(TransferLine) error) (int, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		dec := json.NewDecoder(pr)
		var err error
		for {
			var m TransferLine
			if err = dec.Decode(&m); err != nil {
				break
			}
			if err = fn(m); err != nil {
				break
			}
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
		pr.CloseWithError(err)
		done <- err
	}()
	n, err := c.Export(ctx, id, pw)
	pw.CloseWithError(err)
	if derr := <-done; err == nil && derr != nil {
		err = fmt.Errorf("client: export %q: %w", id, derr)
	}
	return n, err
}

// Import sends lines of the transfer format (engine/transfer) to space id (POST
// /api/v1/spaces/{id}/import). Memories keep their ids and times, so importing the same
// lines twice leaves the same state. One request holds at most the server's
// max_body_bytes (ErrTooLarge beyond); `engram space restore` splits larger files.
func (c *Client) Import(ctx context.Context, id string, ndjson []byte) (*ImportResponse, error) {
	var out ImportResponse
	cl := call{method: http.MethodPost, path: "/api/v1/spaces/" + url.PathEscape(id) + "/import", body: ndjson, contentType: transfer.ContentType, noSpace: true}
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
