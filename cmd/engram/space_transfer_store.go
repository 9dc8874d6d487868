package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/transfer"
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
	importChunk(ctx context.Context, id string, chunk []byte) (transfer.Result, error)
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
	// An export or a merge may stream for a long time: requests are bounded by their
	// context, not by a whole-request timeout. A chunk refused with 429/503 is sent
	// again (nothing, or a prefix of it, was stored, so that is safe), but not after a
	// Retry-After over 10 s: a full space asks for 30 s and will not clear soon.
	hc := &http.Client{}
	c, err := a.newClient(cf, "", 0, client.WithHTTPClient(hc),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 8, MaxWait: 80 * time.Second, MaxDelay: 10 * time.Second, DefaultDelay: time.Second}))
	if err != nil {
		return nil, err
	}
	return &onlineStore{c: c, hc: hc}, nil
}

// onlineStore talks to a running server.
type onlineStore struct {
	c  *client.Client
	hc *http.Client
}

func (s *onlineStore) where() string { return "the server at " + s.c.Addr() }
func (s *onlineStore) close() error  { s.hc.CloseIdleConnections(); return nil }

func (s *onlineStore) describe(ctx context.Context, id string) (spaceShape, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	d, err := s.c.GetSpace(ctx, id)
	if errors.Is(err, client.ErrNotFound) {
		return spaceShape{}, fmt.Errorf("%w: %q on %s", errNoSuchSpace, id, s.where())
	}
	if err != nil {
		return spaceShape{}, err
	}
	dim := d.Settings.Dimension
	if dim == 0 {
		dim = d.Stats.Dimension
	}
	return spaceShape{Memories: d.Memories, Dimension: dim}, nil
}

func (s *onlineStore) create(ctx context.Context, id string, dimension int) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_, err := s.c.CreateSpace(ctx, id, client.SpaceSettings{Dimension: dimension})
	return err
}

func (s *onlineStore) export(ctx context.Context, id string, w io.Writer) error {
	// A server that fails part way cuts the chunked body, which the client reports
	// rather than returning a short, complete-looking export.
	if _, err := s.c.Export(ctx, id, w); err != nil {
		return fmt.Errorf("engram: export %q from %s: %w", id, s.where(), err)
	}
	return nil
}

func (s *onlineStore) importChunk(ctx context.Context, id string, chunk []byte) (transfer.Result, error) {
	out, err := s.c.Import(ctx, id, chunk)
	if errors.Is(err, client.ErrTooLarge) {
		return transfer.Result{}, errChunkTooLarge
	}
	if err != nil {
		return transfer.Result{}, err
	}
	return out.Result, nil
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
	_, err = transfer.Export(ctx, sp, w)
	return err
}

func (s *offlineStore) importChunk(ctx context.Context, id string, chunk []byte) (transfer.Result, error) {
	sp, err := s.space(id)
	if err != nil {
		return transfer.Result{}, err
	}
	return transfer.Import(ctx, sp, bytes.NewReader(chunk), transfer.Options{})
}
