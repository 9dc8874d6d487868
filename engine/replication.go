package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/engram-go/engram/engine/wal"
)

// Replication plugs a cluster into the engine (docs/cluster.md). A single node has none and
// behaves exactly as without this file.
//
// With a Replication, a space's state opens only on the node that leads the space's
// partition: Log hands the space's log a wal.Replicator, and the log acknowledges a batch
// only after the replicator (the partition stream) took it, before writing it to the local
// file. Everywhere else Log fails with ErrNotOwner and the space stays closed, so its local
// log may be filled from the stream by a CatchUp. Creating and deleting a space go through
// the stream first as well.
type Replication interface {
	// Log returns the replicator of space's log, or an error wrapping ErrNotOwner when
	// this node does not lead the space's partition.
	Log(space string) (wal.Replicator, error)
	// Create records the creation of space cluster-wide, before the engine creates its
	// folder here. It fails with ErrNotOwner like Log.
	Create(space string, settings SpaceSettings) error
	// Delete records the deletion of space cluster-wide, before the engine removes it here.
	Delete(space string) error
}

// SetReplication makes the engine a cluster node's: every open space is closed, so that it
// opens again through r, and from then on spaces open, are created and deleted through r.
// It is called before the node serves requests, on an engine opened with
// Config.Replicated (otherwise spaces recovered at Open may have written records to their
// logs that no stream has); a later call replaces r (a node started again in the same
// process), and nil detaches it (then a Replicated engine opens no space).
func (e *Engine) SetReplication(r Replication) error {
	if r == nil {
		e.replication.Store(nil)
	} else {
		e.replication.Store(&r)
	}
	return e.CloseSpaces(func(string) bool { return true })
}

// replicationHook returns the engine's Replication, or nil on a single node.
func (e *Engine) replicationHook() Replication {
	if r := e.replication.Load(); r != nil {
		return *r
	}
	return nil
}

// CloseSpaces closes the open state of every space match accepts, waiting for the
// operations in flight on it: a node that stops leading a partition closes its spaces, so
// they open again only where they are led. Writes still queued in a closed space's log fail
// (with ErrNotOwner once the replicator refuses them).
func (e *Engine) CloseSpaces(match func(space string) bool) error {
	var errs []error
	for _, s := range e.Spaces() {
		if match(s.id) {
			if err := s.evict(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// evict closes the space's open state, if any; the handle stays and reopens on next use.
// It also ends the space's event subscribers: its events come from the partition's new
// owner now, and a subscriber left here would wait for them in silence; ended, it
// reconnects and is forwarded there (docs/cluster.md, "Forwarding").
func (s *Space) evict() error {
	s.hub.endSubscribers()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st == nil {
		return nil
	}
	err := s.st.close()
	s.st = nil
	s.e.openCount.Add(-1)
	if err != nil && !errors.Is(err, ErrNotOwner) {
		return fmt.Errorf("engine: close space %q: %w", s.id, err)
	}
	return nil
}

// CatchUp copies a partition stream's sections into the logs of local spaces that are
// closed here (their partition is not led by this node): the spaces open later, when the
// partition is led, and their ordinary recovery applies what was copied. Its methods are
// safe for concurrent use; Close makes everything copied durable.
type CatchUp struct {
	e    *Engine
	mu   sync.Mutex
	logs map[string]*wal.WAL
}

// BeginCatchUp starts copying stream sections into local spaces.
func (e *Engine) BeginCatchUp() *CatchUp {
	return &CatchUp{e: e, logs: map[string]*wal.WAL{}}
}

// Create creates space here from a create section, unless it exists already. It does not
// go through the Replication: the stream already holds the creation.
func (c *CatchUp) Create(space string, settings SpaceSettings) error {
	if err := validateSettings(settings); err != nil {
		return err
	}
	for {
		_, _, wait, err := c.e.createSpace(space, settings, false)
		if wait == nil {
			return err
		}
		<-wait
	}
}

// Delete deletes space here from a delete section; a space that does not exist here is
// not an error.
func (c *CatchUp) Delete(space string) error {
	c.mu.Lock()
	if w, ok := c.logs[space]; ok {
		delete(c.logs, space)
		_ = w.Close() // the space's files go
	}
	c.mu.Unlock()
	err := c.e.deleteSpace(space, false)
	if errors.Is(err, ErrSpaceNotFound) {
		return nil
	}
	return err
}

// Append copies frames (encoded WAL frames of space, docs/formats/wal.md) into the space's
// log, skipping those whose LSN the log holds already, and returns how many it copied.
func (c *CatchUp) Append(space string, frames []byte) (int, error) {
	w, err := c.log(space)
	if err != nil {
		return 0, err
	}
	n, err := w.AppendFrames(frames)
	if err != nil {
		return n, fmt.Errorf("engine: catch up space %q: %w", space, err)
	}
	return n, nil
}

// log returns the space's log opened for copying, opening it on first use. The space must
// be closed here.
func (c *CatchUp) log(space string) (*wal.WAL, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.logs[space]; ok {
		return w, nil
	}
	s, err := c.e.Space(space)
	if err != nil {
		return nil, err
	}
	if s.isOpen() {
		return nil, fmt.Errorf("engine: catch up space %q: the space is open here (its partition is led by this node)", space)
	}
	w, _, err := wal.Open(wal.Options{
		Dir:          s.walDir(),
		Space:        s.id,
		SegmentBytes: s.settings.WALSegmentBytes,
		// Close fdatasyncs what was copied; nothing is acknowledged before it.
		Sync:   wal.SyncNever,
		Logger: c.e.cfg.Logger.With("space", s.id),
	}, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("engine: catch up space %q: %w", space, err)
	}
	c.logs[space] = w
	return w, nil
}

// Close closes the logs it opened; what they were given is then durable.
func (c *CatchUp) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for id, w := range c.logs {
		if err := w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("engine: catch up space %q: %w", id, err))
		}
		delete(c.logs, id)
	}
	return errors.Join(errs...)
}
