package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/engram-go/engram/engine/wal"
)

// Engine is the registry of memory spaces under one data root.
//
// Lookups (Space) read a copy-on-write map through an atomic pointer and take no lock.
// Creating a space takes regMu for its folder's creation and the map's publication;
// deleting one takes it only to unpublish the space: retiring the space and removing its
// folder happen after, so a delete never holds up other spaces' creates and deletes. A
// space's recovery runs under that space's own lock, so it never blocks other spaces.
type Engine struct {
	cfg     Config
	spaces  atomic.Pointer[map[string]*Space]
	regMu   sync.Mutex // serialises map publication and the folder renames of creates
	metrics *metrics.Set
	// deleting maps the id of a space being deleted, unpublished but with its folder not
	// yet gone, to a channel closed when the delete ends; a create of that id waits for
	// it. Guarded by regMu.
	deleting map[string]chan struct{}
	hooks    testHooks
	// replication is the cluster's hook (replication.go); nil on a single node.
	replication atomic.Pointer[Replication]

	registryWait *metrics.Histogram
	walSync      *metrics.Histogram
	walBatch     *metrics.Histogram
	commits      *wal.Committer // shares the durable spaces' flushes (engine/wal/committer.go)
	recovered    *metrics.Counter
	corrupted    *metrics.Counter

	openCount      atomic.Int64      // spaces whose state is open
	lastForeground stamp             // a recent remember or recall (pacing.go)
	background     *backgroundBudget // the background lanes' share of the CPUs (pacing.go)
	lanes          laneWaker         // gathered wake-ups of edge lanes (lanewake.go)
	sweeping       atomic.Bool       // an enforceOpenBound pass is running
	closeMu        sync.Mutex        // one idle sweep at a time
	closed         atomic.Bool
	work           workers // every background goroutine; Close waits for them
	// life ends when Close begins: the periodic loop and a consolidation pass stop.
	life      context.Context
	end       context.CancelFunc
	embedding embeddingShared // provider clients' HTTP client and metrics (embedding.go)
}

// testHooks let tests stop the engine at a chosen point; all nil in production.
type testHooks struct {
	retiring func(id string) // a deleted space is being retired, under its own lock only
}

// Open discovers and recovers every space under cfg.DataRoot (in parallel), creating the
// default space if it does not exist yet.
func Open(cfg Config) (*Engine, error) {
	cfg.setDefaults()
	if cfg.DataRoot == "" {
		return nil, fmt.Errorf("%w: data root is empty", ErrInvalidInput)
	}
	if s := cfg.BackgroundMaxShare; !(s >= BackgroundBaseShare && s <= 1) {
		return nil, fmt.Errorf("%w: background max share must lie in [%g, 1], got %g", ErrInvalidInput, BackgroundBaseShare, s)
	}
	if cfg.MaxBackgroundLag < 0 {
		return nil, fmt.Errorf("%w: max background lag must be positive, got %s", ErrInvalidInput, cfg.MaxBackgroundLag)
	}
	if cfg.MaxIndexLagBytes < 0 {
		return nil, fmt.Errorf("%w: max index lag bytes must be positive, got %d", ErrInvalidInput, cfg.MaxIndexLagBytes)
	}
	if err := os.MkdirAll(cfg.DataRoot, 0o755); err != nil {
		return nil, fmt.Errorf("engine: create data root: %w", err)
	}
	e := &Engine{cfg: cfg, metrics: metrics.NewSet(), background: newBackgroundBudget(budgetCPUs(), cfg.BackgroundMaxShare), deleting: map[string]chan struct{}{},
		commits: wal.NewCommitter()}
	e.registryWait = e.metrics.NewHistogram("engram_registry_lock_wait_seconds")
	e.walSync = e.metrics.NewHistogram("engram_wal_fsync_seconds")
	e.walBatch = e.metrics.NewHistogram("engram_wal_fsync_batch_records")
	e.metrics.NewGauge("engram_wal_flushes_total", func() float64 { return float64(e.commits.Stats().Rounds) })
	e.metrics.NewGauge("engram_wal_flushed_logs_total", func() float64 { return float64(e.commits.Stats().Files) })
	e.metrics.NewGauge("engram_wal_flush_seconds_total", func() float64 { return e.commits.Stats().FlushTime.Seconds() })
	e.recovered = e.metrics.NewCounter("engram_recovered_records_total")
	e.corrupted = e.metrics.NewCounter("engram_recovery_corrupted_records_total")
	e.life, e.end = context.WithCancel(context.Background())
	empty := map[string]*Space{}
	e.spaces.Store(&empty)

	if err := tidyRoot(cfg.DataRoot, cfg.Logger.Info); err != nil {
		return nil, err
	}
	ids, err := discover(cfg.DataRoot)
	if err != nil {
		return nil, err
	}
	hasDefault := false
	for _, id := range ids {
		if id == DefaultSpace {
			hasDefault = true
		}
	}
	if !hasDefault {
		if err := e.createSpaceFolder(DefaultSpace, SpaceSettings{}); err != nil {
			return nil, err
		}
		ids = append(ids, DefaultSpace)
		sort.Strings(ids)
	}
	cfg.Logger.Info(fmt.Sprintf("Discovered %d memory spaces: [%s]", len(ids), strings.Join(ids, ", ")))

	m := make(map[string]*Space, len(ids))
	for _, id := range ids {
		s, err := e.loadSpace(id)
		if err != nil {
			return nil, err
		}
		m[id] = s
	}
	e.spaces.Store(&m)

	// Recover in parallel, bounded so that 10,000 spaces do not open 10,000 WALs at once.
	work := make(chan *Space)
	var wg sync.WaitGroup
	var firstErr error
	var errMu sync.Mutex
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				if err := s.recoverAndLog(); err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
				}
				e.closeIdle(s)
			}
		}()
	}
	for _, id := range ids {
		if cfg.Replicated {
			break // opened only where their partition is led, once SetReplication is called
		}
		work <- m[id]
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		e.Close()
		return nil, firstErr
	}
	e.work.goDo(e.backgroundLoop)
	return e, nil
}

// Config returns the engine's effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// Metrics is the engine's metric set (WAL fsync latency and batch size, registry lock wait,
// recovery counts); frontends write it out on /metrics next to their own.
func (e *Engine) Metrics() *metrics.Set { return e.metrics }

// Space returns an existing space. It never creates one: ErrSpaceNotFound otherwise.
func (e *Engine) Space(id string) (*Space, error) {
	id, err := NormalizeSpaceID(id)
	if err != nil {
		return nil, err
	}
	if e.closed.Load() {
		return nil, ErrClosed
	}
	if s, ok := (*e.spaces.Load())[id]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrSpaceNotFound, id)
}

// SpaceForWrite returns the space, creating it when auto-create is on.
func (e *Engine) SpaceForWrite(id string) (*Space, error) {
	s, err := e.Space(id)
	if err == nil || !errors.Is(err, ErrSpaceNotFound) || !e.cfg.AutoCreate {
		return s, err
	}
	s, _, err = e.CreateSpace(id, SpaceSettings{})
	return s, err
}

// CreateSpace creates a space with optional settings. created is false when it existed.
func (e *Engine) CreateSpace(id string, settings SpaceSettings) (s *Space, created bool, err error) {
	id, err = NormalizeSpaceID(id)
	if err != nil {
		return nil, false, err
	}
	if s, ok := (*e.spaces.Load())[id]; ok {
		return s, false, nil
	}
	if err := validateSettings(settings); err != nil {
		return nil, false, err
	}
	for {
		s, created, wait, err := e.createSpace(id, settings, true)
		if wait == nil {
			return s, created, err
		}
		<-wait // the space's delete ends; then its id is free
	}
}

// createSpace is one attempt of CreateSpace. It returns a channel to wait on, and nothing
// else, when a delete of the same id is still removing the folder. With replicate set and a
// Replication, the creation is recorded cluster-wide first.
func (e *Engine) createSpace(id string, settings SpaceSettings, replicate bool) (s *Space, created bool, wait <-chan struct{}, err error) {
	start := time.Now()
	e.regMu.Lock()
	e.registryWait.UpdateDuration(start)
	defer e.regMu.Unlock()
	if e.closed.Load() {
		return nil, false, nil, ErrClosed
	}
	cur := *e.spaces.Load()
	if s, ok := cur[id]; ok {
		return s, false, nil, nil
	}
	if done, ok := e.deleting[id]; ok {
		return nil, false, done, nil
	}
	if len(cur) >= e.cfg.MaxSpaces {
		return nil, false, nil, fmt.Errorf("%w: %d spaces exist (max_spaces)", ErrSpaceLimit, len(cur))
	}
	if r := e.replicationHook(); r != nil && replicate {
		if err := r.Create(id, settings); err != nil {
			return nil, false, nil, fmt.Errorf("engine: create space %q: %w", id, err)
		}
	}
	if err := e.createSpaceFolder(id, settings); err != nil {
		return nil, false, nil, err
	}
	s, err = e.loadSpace(id)
	if err != nil {
		return nil, false, nil, err
	}
	e.publish(cur, id, s)
	return s, true, nil, nil
}

// publish stores the map cur with id set to s, or without id when s is nil. Caller holds
// regMu.
func (e *Engine) publish(cur map[string]*Space, id string, s *Space) {
	next := make(map[string]*Space, len(cur)+1)
	for k, v := range cur {
		if k != id {
			next[k] = v
		}
	}
	if s != nil {
		next[id] = s
	}
	e.spaces.Store(&next)
}

func validateSettings(s SpaceSettings) error {
	switch {
	case s.HotCapacity < 0:
		return fmt.Errorf("%w: hot_capacity must not be negative", ErrInvalidInput)
	case s.WarmCapacity < 0:
		return fmt.Errorf("%w: warm_capacity must not be negative", ErrInvalidInput)
	case s.ColdCapacity < 0:
		return fmt.Errorf("%w: cold_capacity must not be negative", ErrInvalidInput)
	case s.Dimension < 0 || s.Dimension > 65536:
		return fmt.Errorf("%w: dimension must be 1-65536", ErrInvalidInput)
	case !(s.RateLimit >= 0) || math.IsInf(s.RateLimit, 0):
		return fmt.Errorf("%w: rate_limit must be a finite number, not negative", ErrInvalidInput)
	case s.WALSegmentBytes < 0:
		return fmt.Errorf("%w: wal_segment_bytes must not be negative", ErrInvalidInput)
	}
	if s.WALSync != "" {
		switch s.WALSync {
		case "always", "interval", "never":
		default:
			return fmt.Errorf("%w: wal_sync must be always, interval or never", ErrInvalidInput)
		}
	}
	return nil
}

// loadSpace builds the (closed) handle of an existing space folder.
func (e *Engine) loadSpace(id string) (*Space, error) {
	dir := filepath.Join(e.cfg.DataRoot, id)
	meta, err := readSpaceMeta(id, dir)
	if err != nil {
		return nil, err
	}
	settings := meta.Settings.merge(e.cfg.Spaces[id]).merge(e.cfg.Defaults)
	// The config file wins over what was stored at create time, except for the dimension,
	// which is fixed once a space holds vectors.
	if o, ok := e.cfg.Spaces[id]; ok {
		dim := settings.Dimension
		if meta.Settings.Dimension != 0 {
			dim = meta.Settings.Dimension
		}
		settings = o.merge(meta.Settings).merge(e.cfg.Defaults)
		settings.Dimension = dim
	}
	return newSpace(e, id, dir, meta.CreatedAt, settings), nil
}

// DeleteSpace removes a space and its folder; the default space cannot be deleted. The
// registry lock is held only to unpublish the space: new requests then miss it at once.
// Retiring it (ending its exports and streams, waiting for the operations in flight,
// closing it without a checkpoint: its files are about to go) and removing the folder
// happen outside that lock, so creates and deletes of other spaces never wait for them.
// A create of the same id waits for the delete to end. Across a crash the delete is all
// or nothing (spacedir.go).
func (e *Engine) DeleteSpace(id string) error { return e.deleteSpace(id, true) }

// deleteSpace is DeleteSpace; with replicate set and a Replication, the deletion is
// recorded cluster-wide first.
func (e *Engine) deleteSpace(id string, replicate bool) error {
	id, err := NormalizeSpaceID(id)
	if err != nil {
		return err
	}
	if id == DefaultSpace {
		return fmt.Errorf("%w: %q always exists", ErrSpaceProtected, id)
	}
	start := time.Now()
	e.regMu.Lock()
	e.registryWait.UpdateDuration(start)
	cur := *e.spaces.Load()
	s, ok := cur[id]
	if !ok {
		e.regMu.Unlock()
		return fmt.Errorf("%w: %q", ErrSpaceNotFound, id)
	}
	if r := e.replicationHook(); r != nil && replicate {
		if err := r.Delete(id); err != nil {
			e.regMu.Unlock()
			return fmt.Errorf("engine: delete space %q: %w", id, err)
		}
	}
	e.publish(cur, id, nil)
	done := make(chan struct{})
	e.deleting[id] = done
	e.regMu.Unlock()

	s.retire()
	err = e.removeSpaceFolder(s)

	e.regMu.Lock()
	delete(e.deleting, id)
	if err != nil && !e.closed.Load() {
		// The folder is whole: the space stays, under a fresh handle.
		if back, lerr := e.loadSpace(id); lerr == nil {
			e.publish(*e.spaces.Load(), id, back)
		}
	}
	e.regMu.Unlock()
	close(done)
	return err
}

// Spaces returns every space, sorted by id.
func (e *Engine) Spaces() []*Space {
	cur := *e.spaces.Load()
	out := make([]*Space, 0, len(cur))
	for _, s := range cur {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// Close flushes and closes every space.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.end()
	e.work.stop()
	var errs []error
	for _, s := range e.Spaces() {
		if err := s.close(); err != nil {
			errs = append(errs, err)
		}
	}
	e.lanes.stop()
	errs = append(errs, e.commits.Close())
	return errors.Join(errs...)
}

// backgroundLoop closes idle spaces beyond MaxOpenSpaces and runs consolidation.
func (e *Engine) backgroundLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastConsolidation := time.Now()
	for {
		select {
		case <-e.life.Done():
			return
		case <-t.C:
			e.closeIdle(nil)
			for _, s := range e.Spaces() {
				s.maybeCheckpoint()
			}
			if e.cfg.Consolidation.Enabled && time.Since(lastConsolidation) >= e.cfg.Consolidation.Interval {
				lastConsolidation = time.Now()
				e.consolidateOpenSpaces()
			}
		}
	}
}

// consolidateOpenSpaces runs one consolidation pass over every open space. Closed spaces
// are idle by definition and are consolidated when next opened and swept.
func (e *Engine) consolidateOpenSpaces() {
	for _, s := range e.Spaces() {
		if !s.isOpen() {
			continue
		}
		if n, err := s.Consolidate(e.life); err != nil {
			e.cfg.Logger.Warn("consolidation failed", "space", s.id, "err", err)
		} else if n > 0 {
			e.cfg.Logger.Info("consolidated episodes", "space", s.id, "semantic_memories", n)
		}
	}
}

// closeIdle closes the least recently used idle spaces while more than MaxOpenSpaces are
// open. just, when non-nil, is a space that was opened only to be recovered.
func (e *Engine) closeIdle(just *Space) {
	e.closeLRU(just, 5*time.Second)
}

// pressureIdle is how long a space must have been unused to be closed when opening
// spaces pushes the open count past max_open_spaces between sweeps.
const pressureIdle = 200 * time.Millisecond

// enforceOpenBound closes least recently used spaces as soon as the open count passes
// the bound, instead of waiting for the next sweep: creating thousands of spaces in a
// burst must not keep thousands open.
func (e *Engine) enforceOpenBound() {
	if e.openCount.Load() <= int64(e.cfg.MaxOpenSpaces) || !e.sweeping.CompareAndSwap(false, true) {
		return
	}
	if !e.work.goDo(func() {
		defer e.sweeping.Store(false)
		e.closeLRU(nil, pressureIdle)
	}) {
		e.sweeping.Store(false)
	}
}

func (e *Engine) closeLRU(just *Space, idle time.Duration) {
	if e.openCount.Load() <= int64(e.cfg.MaxOpenSpaces) {
		return
	}
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if just != nil {
		just.closeIfIdle(0)
		return
	}
	var open []*Space
	for _, s := range e.Spaces() {
		if s.isOpen() {
			open = append(open, s)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].lastUse.Load() < open[j].lastUse.Load() })
	for _, s := range open {
		if e.openCount.Load() <= int64(e.cfg.MaxOpenSpaces) {
			return
		}
		s.closeIfIdle(idle)
	}
}
