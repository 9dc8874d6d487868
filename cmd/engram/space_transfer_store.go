package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend/httpapi"
)

// transferStore is where backup, restore and merge read and write memory spaces: a
// running server through its export and import routes (online), or a data root opened
// directly while no server holds it (offline, --data-root). Both move the same NDJSON.
type transferStore interface {
	// describe reports a space; errNoSuchSpace when it does not exist.
	describe(ctx context.Context, id string) (spaceShape, error)
	// create creates a space with the given embedding dimension (0 = the default).
	create(ctx context.Context, id string, dimension int) error
	// export writes the space's snapshot to w in the transfer format.
	export(ctx context.Context, id string, w io.Writer) error
	// importChunk stores whole NDJSON lines; errChunkTooLarge when the server's body
	// limit refuses them (nothing was stored then).
	importChunk(ctx context.Context, id string, chunk []byte) (httpapi.ImportResult, error)
	// where names the store in messages.
	where() string
	close() error
}

// spaceShape is what a transfer needs to know of a space.
type spaceShape struct {
	Memories  int
	Dimension int
}

var (
	errNoSuchSpace   = errors.New("engram: no such memory space")
	errChunkTooLarge = errors.New("engram: import chunk over the server's body limit")
)

// openStore picks the store: offline when --data-root is given without --addr, else the
// server (at --addr, or found through the PID file like every client command).
func (a *app) openStore(cf clientFlags) (transferStore, error) {
	if a.dataRoot != "" && cf.addr == "" {
		return a.openOfflineStore()
	}
	c, err := a.newClient(cf)
	if err != nil {
		return nil, err
	}
	// An export or a merge may stream for a long time: requests are bounded by their
	// context, not by the client's usual whole-request timeout.
	c.http = &http.Client{}
	return &onlineStore{c: c}, nil
}

// onlineStore talks to a running server.
type onlineStore struct{ c *client }

func (s *onlineStore) where() string { return "the server at " + s.c.addr }
func (s *onlineStore) close() error  { s.c.http.CloseIdleConnections(); return nil }

func (s *onlineStore) describe(ctx context.Context, id string) (spaceShape, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var out struct {
		Memories int `json:"memories"`
		Settings struct {
			Dimension int `json:"dimension"`
		} `json:"settings"`
		Stats struct {
			Dimension int `json:"dimension"`
		} `json:"stats"`
	}
	_, err := s.c.call(ctx, http.MethodGet, "/api/v1/spaces/"+url.PathEscape(id), nil, nil, &out)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return spaceShape{}, fmt.Errorf("%w: %q on %s", errNoSuchSpace, id, s.where())
	}
	if err != nil {
		return spaceShape{}, err
	}
	dim := out.Settings.Dimension
	if dim == 0 {
		dim = out.Stats.Dimension
	}
	return spaceShape{Memories: out.Memories, Dimension: dim}, nil
}

func (s *onlineStore) create(ctx context.Context, id string, dimension int) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	body := map[string]any{"id": id}
	if dimension > 0 {
		body["dimension"] = dimension
	}
	_, err := s.c.call(ctx, http.MethodPost, "/api/v1/spaces", nil, body, nil)
	return err
}

func (s *onlineStore) export(ctx context.Context, id string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.c.base+"/api/v1/spaces/"+url.PathEscape(id)+"/export", nil)
	if err != nil {
		return fmt.Errorf("engram: build export request: %w", err)
	}
	req.Header.Set("Accept", httpapi.NDJSONContentType)
	s.c.authorize(req)
	resp, err := s.c.http.Do(req)
	if err != nil {
		return fmt.Errorf("engram: export %q from %s: %w", id, s.where(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return decodeAPIError(response{status: resp.StatusCode, body: b})
	}
	// A server that fails part way cuts the chunked body, which surfaces here as an
	// unexpected EOF rather than as a short, complete-looking export.
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("engram: export %q from %s was cut: %w", id, s.where(), err)
	}
	return nil
}

// maxImportRetries bounds how often one chunk is sent again after 429/503.
const maxImportRetries = 8

func (s *onlineStore) importChunk(ctx context.Context, id string, chunk []byte) (httpapi.ImportResult, error) {
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.base+"/api/v1/spaces/"+url.PathEscape(id)+"/import", bytes.NewReader(chunk))
		if err != nil {
			return httpapi.ImportResult{}, fmt.Errorf("engram: build import request: %w", err)
		}
		req.Header.Set("Content-Type", httpapi.NDJSONContentType)
		req.Header.Set("Accept", "application/json")
		s.c.authorize(req)
		resp, err := s.c.http.Do(req)
		if err != nil {
			return httpapi.ImportResult{}, fmt.Errorf("engram: import into %q on %s: %w", id, s.where(), err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return httpapi.ImportResult{}, fmt.Errorf("engram: read import answer: %w", err)
		}
		switch {
		case resp.StatusCode == http.StatusOK:
			var out httpapi.ImportResult
			if err := json.Unmarshal(b, &out); err != nil {
				return out, fmt.Errorf("engram: unexpected import answer: %w", err)
			}
			return out, nil
		case resp.StatusCode == http.StatusRequestEntityTooLarge:
			return httpapi.ImportResult{}, errChunkTooLarge
		case retryable(resp) && attempt < maxImportRetries:
			// Nothing, or a prefix of the chunk, was stored; sending it again is safe.
			wait := time.Second
			if sec, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && sec > 0 {
				wait = time.Duration(sec) * time.Second
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return httpapi.ImportResult{}, ctx.Err()
			case <-t.C:
			}
		default:
			return httpapi.ImportResult{}, decodeAPIError(response{status: resp.StatusCode, body: b})
		}
	}
}

// maxRetryAfter is the longest Retry-After an import waits out; a server asking for more
// (a full space answers 30 s) is not going to clear soon, and its message is reported.
const maxRetryAfter = 10

// retryable reports a 429 or 503 answer worth sending again.
func retryable(resp *http.Response) bool {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return false
	}
	sec, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	return err != nil || sec <= maxRetryAfter
}

// offlineStore opens the data root itself, holding the same lock a server holds.
type offlineStore struct {
	root    string
	eng     *engine.Engine
	release func()
}

func (a *app) openOfflineStore() (*offlineStore, error) {
	cfg, err := a.loadConfig("", "")
	if err != nil {
		return nil, err
	}
	root := cfg.Persistence.DataRoot
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("engram: --data-root %s is not a directory holding memory spaces", root)
	}
	release, err := lockDataRoot(root)
	if err != nil {
		if errors.Is(err, errDataRootLocked) {
			via := "--addr HOST:PORT"
			if p, live, perr := runningServer(cfg.PIDPath); perr == nil && live && p.Port > 0 {
				via = "--addr 127.0.0.1:" + strconv.Itoa(p.Port)
			}
			return nil, fmt.Errorf("%w; to go through that server instead, add %s", err, via)
		}
		return nil, err
	}
	ecfg := cfg.EngineConfig()
	if err := cfg.ResolveEmbeddingKeys(a.getenv, &ecfg); err != nil {
		release()
		return nil, err
	}
	// Only warnings: the discovery and recovery lines belong to the server's log.
	ecfg.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ecfg.Consolidation.Enabled = false // a maintenance run adds nothing of its own
	eng, err := engine.Open(ecfg)
	if err != nil {
		release()
		return nil, fmt.Errorf("engram: open data root %s: %w", root, err)
	}
	return &offlineStore{root: root, eng: eng, release: release}, nil
}

func (s *offlineStore) where() string { return "data root " + s.root }

func (s *offlineStore) close() error {
	err := s.eng.Close()
	s.release()
	if err != nil {
		return fmt.Errorf("engram: close data root %s: %w", s.root, err)
	}
	return nil
}

func (s *offlineStore) space(id string) (*engine.Space, error) {
	sp, err := s.eng.Space(id)
	if errors.Is(err, engine.ErrSpaceNotFound) {
		return nil, fmt.Errorf("%w: %q in %s", errNoSuchSpace, id, s.where())
	}
	return sp, err
}

func (s *offlineStore) describe(_ context.Context, id string) (spaceShape, error) {
	sp, err := s.space(id)
	if err != nil {
		return spaceShape{}, err
	}
	return spaceShape{Memories: sp.Stats().Memories, Dimension: sp.Dimension()}, nil
}

func (s *offlineStore) create(_ context.Context, id string, dimension int) error {
	_, _, err := s.eng.CreateSpace(id, engine.SpaceSettings{Dimension: dimension})
	return err
}

func (s *offlineStore) export(ctx context.Context, id string, w io.Writer) error {
	sp, err := s.space(id)
	if err != nil {
		return err
	}
	_, err = httpapi.ExportNDJSON(ctx, sp, w)
	return err
}

func (s *offlineStore) importChunk(ctx context.Context, id string, chunk []byte) (httpapi.ImportResult, error) {
	sp, err := s.space(id)
	if err != nil {
		return httpapi.ImportResult{}, err
	}
	return httpapi.ImportNDJSON(ctx, sp, bytes.NewReader(chunk), httpapi.ImportOptions{})
}
