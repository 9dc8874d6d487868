package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/engine/wal"
)

// Space is the handle of one memory space. It stays valid while the space exists; the
// space's open state (WAL, hot tier, indexes) is loaded on first use and may be closed again
// when idle, transparently to callers.
type Space struct {
	e         *Engine
	id        string
	dir       string
	createdAt time.Time
	settings  SpaceSettings
	syncMode  wal.SyncMode
	embedder  embed.Embedder // the built-in one; nil with provider "none" or a remote one
	emb       spaceEmbedding // remote provider and model check (embedding.go)
	hub       *eventHub
	// life ends, with cause ErrSpaceNotFound, when the space is deleted: transfers bound
	// to it (WithLifetime) stop instead of holding up the delete.
	life    context.Context
	endLife context.CancelCauseFunc

	mu      sync.RWMutex // operations hold it shared; open/close hold it exclusively
	st      *state
	retired bool

	lastUse  atomic.Int64 // unix nanos of the last operation
	memories atomic.Int64 // live memories, kept while closed
	consol   consolidationStats
}

func newSpace(e *Engine, id, dir string, created time.Time, settings SpaceSettings) *Space {
	mode, err := wal.ParseSyncMode(settings.WALSync)
	if err != nil {
		mode = wal.SyncAlways
	}
	s := &Space{e: e, id: id, dir: dir, createdAt: created, settings: settings, syncMode: mode, hub: newEventHub()}
	s.life, s.endLife = context.WithCancelCause(context.Background())
	s.initEmbedding()
	return s
}

// ID is the space id.
func (s *Space) ID() string { return s.id }

// Dir is the space's folder under the data root.
func (s *Space) Dir() string { return s.dir }

// CreatedAt is when the space was created.
func (s *Space) CreatedAt() time.Time { return s.createdAt }

// Settings are the effective per-space settings.
func (s *Space) Settings() SpaceSettings { return s.settings }

// Dimension is the embedding dimension of the space.
func (s *Space) Dimension() int { return s.settings.Dimension }

// acquire returns the open state, opening (recovering) it if needed, with s.mu held shared.
// Callers must call s.mu.RUnlock when done.
func (s *Space) acquire() (*state, error) {
	s.lastUse.Store(time.Now().UnixNano())
	s.mu.RLock()
	if s.st != nil {
		return s.st, nil
	}
	s.mu.RUnlock()
	if _, err := s.open(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	if s.st == nil { // closed again in between; rare, retry once more
		s.mu.RUnlock()
		return s.acquire()
	}
	return s.st, nil
}

// acquireForWrite is acquire for operations that write. When the space's log has failed
// (disk full, I/O error) it first recovers the space from disk, at most every
// reopenBackoff, so the space takes writes again by itself once the cause is gone; reads
// keep using the failed state meanwhile.
func (s *Space) acquireForWrite() (*state, error) {
	for {
		st, err := s.acquire()
		if err != nil || !st.failed.Load() {
			return st, err
		}
		s.mu.RUnlock()
		if err := s.reopenFailed(); err != nil {
			return nil, err
		}
	}
}

// reopenBackoff spaces out attempts to reopen a space whose log failed.
const reopenBackoff = 2 * time.Second

// reopenFailed closes a state whose WAL failed and recovers it from disk. Until the
// recovery succeeds, operations fail with ErrStorage.
func (s *Space) reopenFailed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	if st == nil || !st.failed.Load() {
		return nil
	}
	if cause, _ := st.cause.Load().(error); errors.Is(cause, ErrNotOwner) {
		// Not a storage failure: the partition moved. Closing is all there is to do; the
		// space opens again only where its partition is led.
		_ = st.close()
		s.st = nil
		s.e.openCount.Add(-1)
		return fmt.Errorf("%w: space %q", ErrNotOwner, s.id)
	}
	if since := time.Since(time.Unix(0, st.failedAt.Load())); since < reopenBackoff {
		return fmt.Errorf("%w: space %q: %v (next recovery attempt in %v)", ErrStorage, s.id, st.failCause(), (reopenBackoff - since).Round(time.Millisecond))
	}
	st.failedAt.Store(time.Now().UnixNano())
	_ = st.close() // the failed log refuses to sync; what was acknowledged is on disk
	fresh, rs, err := openState(s)
	if err != nil {
		s.e.cfg.Logger.Error("space recovery after a storage failure failed", "space", s.id, "err", err)
		return fmt.Errorf("%w: space %q: %v", ErrStorage, s.id, st.failCause())
	}
	s.st = fresh
	s.e.cfg.Logger.Info(fmt.Sprintf("Recovered '%s': %d entries, %d corrupted, after a storage failure", s.id, s.memories.Load(), rs.Corrupted))
	return nil
}

// open loads the state if it is not loaded, returning recovery stats when it did load.
func (s *Space) open() (*wal.RecoveryStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retired {
		return nil, fmt.Errorf("%w: %q was deleted", ErrSpaceNotFound, s.id)
	}
	if s.e.closed.Load() {
		return nil, ErrClosed
	}
	if s.st != nil {
		return nil, nil
	}
	st, rs, err := openState(s)
	if err != nil {
		return nil, fmt.Errorf("engine: open space %q: %w", s.id, err)
	}
	s.st = st
	s.e.openCount.Add(1)
	s.e.enforceOpenBound()
	s.e.recovered.Add(rs.Records)
	s.e.corrupted.Add(rs.Corrupted)
	return &rs, nil
}

// recoverAndLog opens the space at engine start and logs the recovery line of
// docs/operations.md, "Starting".
func (s *Space) recoverAndLog() error {
	start := time.Now()
	rs, err := s.open()
	if err != nil {
		return err
	}
	if rs == nil {
		return nil
	}
	// Entries are the memories the space holds after replay (what health reports), not
	// the WAL records replayed, which include edges and reinforcement.
	s.e.cfg.Logger.Info(fmt.Sprintf("Recovered '%s': %d entries, %d corrupted, took %dms",
		s.id, s.memories.Load(), rs.Corrupted, time.Since(start).Milliseconds()))
	return nil
}

func (s *Space) isOpen() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st != nil
}

// closeIfIdle closes the state if no operation used the space for idle.
func (s *Space) closeIfIdle(idle time.Duration) {
	if time.Since(time.Unix(0, s.lastUse.Load())) < idle {
		return
	}
	if !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	if s.st == nil || s.st.busy() {
		return
	}
	if err := s.st.close(); err != nil {
		s.e.cfg.Logger.Warn("closing idle space", "space", s.id, "err", err)
	}
	s.st = nil
	s.e.openCount.Add(-1)
}

func (s *Space) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hub.close()
	if s.st == nil {
		return nil
	}
	err := s.st.close()
	s.st = nil
	s.e.openCount.Add(-1)
	return err
}

// retire closes the space for good, as it is being deleted: work bound to its lifetime
// (exports) ends, operations in flight finish, and the state closes without flushing or
// checkpointing anything, since its files are about to be removed.
func (s *Space) retire() {
	s.endLife(fmt.Errorf("%w: %q was deleted", ErrSpaceNotFound, s.id))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retired = true
	if h := s.e.hooks.retiring; h != nil {
		h(s.id)
	}
	s.hub.close()
	if s.st != nil {
		s.st.discard()
		s.st = nil
		s.e.openCount.Add(-1)
	}
}

// WithLifetime returns a context derived from parent that also ends when the space is
// deleted; context.Cause then wraps ErrSpaceNotFound. Call cancel when done.
func (s *Space) WithLifetime(parent context.Context) (ctx context.Context, cancel context.CancelFunc) {
	ctx, end := context.WithCancelCause(parent)
	stop := context.AfterFunc(s.life, func() { end(context.Cause(s.life)) })
	return ctx, func() {
		stop()
		end(context.Canceled)
	}
}

// Subscribe streams this space's events. afterID > 0 resumes after that event id from the
// bounded buffer; Subscription.Missed says how many could not be replayed.
func (s *Space) Subscribe(afterID uint64) *Subscription {
	return s.hub.subscribe(afterID, afterID > 0)
}

// Resume is Subscribe for a client that names the last event it saw, 0 included: it
// first receives every buffered event with a larger id (from the oldest still buffered,
// with Missed counting the ones no longer buffered).
func (s *Space) Resume(afterID uint64) *Subscription { return s.hub.subscribe(afterID, true) }

// LastEventID is the id of the newest event published in this space.
func (s *Space) LastEventID() uint64 { return s.hub.lastID() }

func (s *Space) publish(t EventType, memoryID string, importance float32, data map[string]any) {
	s.hub.publish(Event{Type: t, Space: s.id, MemoryID: memoryID, Time: s.e.cfg.Now().UTC(), Importance: importance, Data: data})
}

// Stats are a space's live figures.
type Stats struct {
	ID                string
	Open              bool
	Failed            bool // the space's log failed and it is waiting to be recovered
	Memories          int
	Hot, Warm, Cold   int
	HotCapacity       int
	Pressure          float64 // hot count / hot capacity
	WALLag            time.Duration
	LastFsync         time.Duration
	LSN, DurableLSN   uint64
	WALBytes          int64
	WALSegments       int
	ConsolidationRate float64 // episodes consolidated per second over the last minute
	LinkQueue         int     // memories waiting for association edges
	LinkLag           time.Duration
	IndexedRows       int // rows in the approximate vector index
	IndexLag          int // rows not yet offered to the index (recall scans their codes)
	// IndexLagWork and LinkLagWork are the lanes' lags in time of work: the rows the index
	// has yet to take and the jobs the edge lane has yet to link, at their recent cost.
	IndexLagWork, LinkLagWork time.Duration
	// BackgroundShare is the part of the CPUs the space's lanes may use while requests
	// flow, as their lags stand (pacing.go).
	BackgroundShare float64
	// RemembersWaiting counts the remembers waiting for the lags to fall under their
	// bounds before they are taken or refused, the one whose turn it is included until
	// its memories are stored (linker_admit.go).
	RemembersWaiting int
	Edges            int
	Dimension        int
	CreatedAt        time.Time
}

// Stats reports the space's figures. A closed space reports what it knew when it closed,
// without being opened.
func (s *Space) Stats() Stats {
	st := Stats{ID: s.id, HotCapacity: s.settings.HotCapacity, Dimension: s.settings.Dimension, CreatedAt: s.createdAt}
	st.ConsolidationRate = s.consol.rate(s.e.cfg.Now())
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st == nil {
		st.Memories = int(s.memories.Load())
		st.Hot = st.Memories
	} else {
		s.st.fillStats(&st)
	}
	if st.HotCapacity > 0 {
		st.Pressure = float64(st.Hot) / float64(st.HotCapacity)
	}
	return st
}

func (s *Space) walDir() string { return filepath.Join(s.dir, "wal") }
