package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// Creating or deleting a space takes registryMu only long enough to publish a new map; a
// space's recovery runs under that space's own lock, so it never blocks other spaces.
type Engine struct {
	cfg     Config
	spaces  atomic.Pointer[map[string]*Space]
	regMu   sync.Mutex // serialises map publication only
	metrics *metrics.Set

	registryWait *metrics.Histogram
	walSync      *metrics.Histogram
	walBatch     *metrics.Histogram
	commits      *wal.Committer // shares the durable spaces' flushes (engine/wal/committer.go)
	recovered    *metrics.Counter
	corrupted    *metrics.Counter

	openCount      atomic.Int64      // spaces whose state is open
	lastForeground atomic.Int64      // unix ns of a recent remember or recall (pacing.go)
	background     *backgroundBudget // the background lanes' share of the CPUs (pacing.go)
	sweeping       atomic.Bool       // an enforceOpenBound pass is running
	closeMu        sync.Mutex        // one idle sweep at a time
	closed         atomic.Bool
	bg             sync.WaitGroup
	stop           chan struct{}
}

const metaFile = "space.json"

// spaceMeta is the small metadata file of a space folder.
type spaceMeta struct {
	ID        string        `json:"id"`
	CreatedAt time.Time     `json:"created_at"`
	Settings  SpaceSettings `json:"settings"`
}

// Open discovers and recovers every space under cfg.DataRoot (in parallel), creating the
// default space if it does not exist yet.
func Open(cfg Config) (*Engine, error) {
	cfg.setDefaults()
	if cfg.DataRoot == "" {
		return nil, fmt.Errorf("%w: data root is empty", ErrInvalidInput)
	}
	if err := os.MkdirAll(cfg.DataRoot, 0o755); err != nil {
		return nil, fmt.Errorf("engine: create data root: %w", err)
	}
	e := &Engine{cfg: cfg, metrics: metrics.NewSet(), stop: make(chan struct{}), background: newBackgroundBudget(budgetCPUs()),
		commits: wal.NewCommitter()}
	e.registryWait = e.metrics.NewHistogram("engram_registry_lock_wait_seconds")
	e.walSync = e.metrics.NewHistogram("engram_wal_fsync_seconds")
	e.walBatch = e.metrics.NewHistogram("engram_wal_fsync_batch_records")
	e.metrics.NewGauge("engram_wal_flushes_total", func() float64 { return float64(e.commits.Stats().Rounds) })
	e.metrics.NewGauge("engram_wal_flushed_logs_total", func() float64 { return float64(e.commits.Stats().Files) })
	e.metrics.NewGauge("engram_wal_flush_seconds_total", func() float64 { return e.commits.Stats().FlushTime.Seconds() })
	e.recovered = e.metrics.NewCounter("engram_recovered_records_total")
	e.corrupted = e.metrics.NewCounter("engram_recovery_corrupted_records_total")
	empty := map[string]*Space{}
	e.spaces.Store(&empty)

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
		if _, err := e.createSpaceFolder(DefaultSpace, SpaceSettings{}); err != nil {
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
		work <- m[id]
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		e.Close()
		return nil, firstErr
	}
	e.bg.Add(1)
	go e.backgroundLoop()
	return e, nil
}

// discover lists the space folders of root: valid space ids holding a metadata file or a wal folder.
func discover(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("engine: read data root: %w", err)
	}
	var ids []string
	for _, de := range ents {
		if !de.IsDir() {
			continue
		}
		id, err := NormalizeSpaceID(de.Name())
		if err != nil || id != de.Name() {
			continue
		}
		dir := filepath.Join(root, id)
		if fileExists(filepath.Join(dir, metaFile)) || fileExists(filepath.Join(dir, "wal")) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
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
	start := time.Now()
	e.regMu.Lock()
	e.registryWait.UpdateDuration(start)
	defer e.regMu.Unlock()
	if e.closed.Load() {
		return nil, false, ErrClosed
	}
	cur := *e.spaces.Load()
	if s, ok := cur[id]; ok {
		return s, false, nil
	}
	if len(cur) >= e.cfg.MaxSpaces {
		return nil, false, fmt.Errorf("%w: %d spaces exist (max_spaces)", ErrSpaceLimit, len(cur))
	}
	if _, err := e.createSpaceFolder(id, settings); err != nil {
		return nil, false, err
	}
	s, err = e.loadSpace(id)
	if err != nil {
		return nil, false, err
	}
	next := make(map[string]*Space, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[id] = s
	e.spaces.Store(&next)
	return s, true, nil
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

// createSpaceFolder makes <root>/<id>/{wal,hot,warm,cold} and the metadata file, durably.
func (e *Engine) createSpaceFolder(id string, settings SpaceSettings) (string, error) {
	dir := filepath.Join(e.cfg.DataRoot, id)
	for _, sub := range []string{"wal", "hot", "warm", "cold"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return "", fmt.Errorf("engine: create space %q: %w", id, err)
		}
	}
	if !fileExists(filepath.Join(dir, metaFile)) {
		meta := spaceMeta{ID: id, CreatedAt: e.cfg.Now().UTC(), Settings: settings}
		b, _ := json.MarshalIndent(meta, "", "  ")
		if err := writeFileAtomic(filepath.Join(dir, metaFile), b); err != nil {
			return "", fmt.Errorf("engine: create space %q: %w", id, err)
		}
		if err := syncDir(e.cfg.DataRoot); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// loadSpace builds the (closed) handle of an existing space folder.
func (e *Engine) loadSpace(id string) (*Space, error) {
	dir := filepath.Join(e.cfg.DataRoot, id)
	meta := spaceMeta{ID: id}
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &meta); err != nil {
			return nil, fmt.Errorf("engine: space %q metadata: %w", id, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if st, err := os.Stat(dir); err == nil {
			meta.CreatedAt = st.ModTime().UTC()
		}
	default:
		return nil, fmt.Errorf("engine: space %q metadata: %w", id, err)
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

// DeleteSpace closes a space and removes its folder. The default space cannot be deleted.
func (e *Engine) DeleteSpace(id string) error {
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
	defer e.regMu.Unlock()
	cur := *e.spaces.Load()
	s, ok := cur[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrSpaceNotFound, id)
	}
	next := make(map[string]*Space, len(cur))
	for k, v := range cur {
		if k != id {
			next[k] = v
		}
	}
	e.spaces.Store(&next)
	s.retire()
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("engine: delete space %q: %w", id, err)
	}
	return syncDir(e.cfg.DataRoot)
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
	close(e.stop)
	e.bg.Wait()
	var errs []error
	for _, s := range e.Spaces() {
		if err := s.close(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, e.commits.Close())
	return errors.Join(errs...)
}

// backgroundLoop closes idle spaces beyond MaxOpenSpaces and runs consolidation.
func (e *Engine) backgroundLoop() {
	defer e.bg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	lastConsolidation := time.Now()
	for {
		select {
		case <-e.stop:
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-e.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for _, s := range e.Spaces() {
		if !s.isOpen() {
			continue
		}
		if n, err := s.Consolidate(ctx); err != nil {
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
	go func() {
		defer e.sweeping.Store(false)
		e.closeLRU(nil, pressureIdle)
	}()
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

// writeFileAtomic writes b to path via a temporary file, fsync and rename.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("engine: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("engine: sync dir %s: %w", dir, err)
	}
	return nil
}
