package apikey

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram-go/engram/frontend"
)

// DefaultReloadInterval is how often, at most, a Store looks at its file for changes.
const DefaultReloadInterval = 2 * time.Second

// Options tune a Store.
type Options struct {
	// ReloadInterval is the least time between two looks at the file; 0 means
	// DefaultReloadInterval, a negative value turns the automatic reload off (Reload
	// still works).
	ReloadInterval time.Duration
	Logger         *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store authenticates keys against a keys file. It implements frontend.Authenticator and
// is safe for concurrent use.
type Store struct {
	path     string
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time

	keys      atomic.Pointer[keySet]
	lastCheck atomic.Int64 // UnixNano of the last look at the file
	reloadMu  sync.Mutex   // one reload at a time; guards stamp
	stamp     fileStamp
}

// keySet is an immutable snapshot of the file.
type keySet struct {
	keys []loadedKey
}

type loadedKey struct {
	digest    [sha256.Size]byte
	id        string
	revoked   bool
	principal *frontend.Principal // shared, never modified
}

// fileStamp identifies one version of the file on disk.
type fileStamp struct {
	exists bool
	info   os.FileInfo
}

func (a fileStamp) same(b fileStamp) bool {
	if a.exists != b.exists {
		return false
	}
	if !a.exists {
		return true
	}
	return os.SameFile(a.info, b.info) && a.info.ModTime().Equal(b.info.ModTime()) && a.info.Size() == b.info.Size()
}

// Open loads the keys file at path. A missing file is an empty store (every key is
// refused until one is created); a file that does not parse is an error.
func Open(path string, opts Options) (*Store, error) {
	s := &Store{path: path, interval: opts.ReloadInterval, log: opts.Logger, now: opts.Now}
	if s.interval == 0 {
		s.interval = DefaultReloadInterval
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	st, set, err := s.load()
	if err != nil {
		return nil, err
	}
	s.install(st, set)
	s.lastCheck.Store(s.now().UnixNano())
	return s, nil
}

// Path is the keys file the store reads.
func (s *Store) Path() string { return s.path }

// Authenticate returns the principal of key, or an error wrapping
// frontend.ErrUnauthenticated for a missing, unknown or revoked key.
func (s *Store) Authenticate(key string) (*frontend.Principal, error) {
	s.maybeReload()
	if !wellFormed(key) {
		return nil, frontend.ErrUnauthenticated
	}
	d := sha256.Sum256([]byte(key))
	var match *loadedKey
	set := s.keys.Load()
	for i := range set.keys {
		if subtle.ConstantTimeCompare(d[:], set.keys[i].digest[:]) == 1 {
			match = &set.keys[i]
		}
	}
	switch {
	case match == nil:
		return nil, frontend.ErrUnauthenticated
	case match.revoked:
		return nil, fmt.Errorf("%w: key %s was revoked", frontend.ErrUnauthenticated, match.id)
	}
	return match.principal, nil
}

// Reload re-reads the file now. On a parse error the keys in force stay and the error is
// returned.
func (s *Store) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	s.lastCheck.Store(s.now().UnixNano())
	st, set, err := s.load()
	if err != nil {
		return err
	}
	s.install(st, set)
	return nil
}

// maybeReload looks at the file when ReloadInterval has passed since the last look and
// reloads it when it changed. Only the caller that wins the compare-and-swap looks.
func (s *Store) maybeReload() {
	if s.interval < 0 {
		return
	}
	now := s.now().UnixNano()
	last := s.lastCheck.Load()
	if now-last < int64(s.interval) || !s.lastCheck.CompareAndSwap(last, now) {
		return
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	st, err := s.statFile()
	if err != nil {
		s.log.Error("API keys file unreadable; the keys in force stay", "path", s.path, "err", err)
		return
	}
	if st.same(s.stamp) {
		return
	}
	st, set, err := s.load()
	if err != nil {
		s.log.Error("API keys file changed but does not load; the keys in force stay", "path", s.path, "err", err)
		return
	}
	s.install(st, set)
}

func (s *Store) statFile() (fileStamp, error) {
	info, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fileStamp{}, nil
	case err != nil:
		return fileStamp{}, fmt.Errorf("apikey: stat %s: %w", s.path, err)
	}
	return fileStamp{exists: true, info: info}, nil
}

// load reads the file with its stamp taken first, so that a change racing the read is
// seen again at the next look. The caller holds reloadMu.
func (s *Store) load() (fileStamp, *keySet, error) {
	st, err := s.statFile()
	if err != nil {
		return fileStamp{}, nil, err
	}
	f, err := ReadFile(s.path)
	if err != nil {
		return fileStamp{}, nil, err
	}
	set := &keySet{keys: make([]loadedKey, 0, len(f.Keys))}
	for _, e := range f.Keys {
		var lk loadedKey
		if _, err := hex.Decode(lk.digest[:], []byte(e.Hash)); err != nil {
			return fileStamp{}, nil, fmt.Errorf("%w %s: key %s: %w", ErrInvalidFile, s.path, e.ID, err)
		}
		name := e.Name
		if name == "" {
			name = e.ID
		}
		lk.id, lk.revoked = e.ID, e.Revoked
		lk.principal = &frontend.Principal{Name: name, Admin: e.Admin, Spaces: append([]string(nil), e.Spaces...)}
		set.keys = append(set.keys, lk)
	}
	return st, set, nil
}

// install swaps in a loaded snapshot and logs what changed hands. The caller holds
// reloadMu.
func (s *Store) install(st fileStamp, set *keySet) {
	prev := s.keys.Load()
	s.keys.Store(set)
	s.stamp = st
	active := 0
	for _, k := range set.keys {
		if !k.revoked {
			active++
		}
	}
	attrs := []any{"path", s.path, "active", active, "revoked", len(set.keys) - active}
	switch {
	case !st.exists:
		s.log.Warn("no API keys file; every request but /health* is refused until a key is created with `engram key create`", attrs...)
	case prev == nil:
		s.log.Info("API keys loaded", attrs...)
	default:
		s.log.Info("API keys reloaded", attrs...)
	}
}
