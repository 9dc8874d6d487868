package engine

import (
	"log/slog"
	"time"

	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/engine/wal"
)

// SpaceSettings are the per-space knobs. A zero field means "inherit": per-space values
// from the configuration or the space's metadata override the engine defaults field by field.
type SpaceSettings struct {
	HotCapacity     int     `json:"hot_capacity,omitempty"`
	WarmCapacity    int     `json:"warm_capacity,omitempty"`
	ColdCapacity    int     `json:"cold_capacity,omitempty"`
	Dimension       int     `json:"dimension,omitempty"`
	RateLimit       float64 `json:"rate_limit,omitempty"` // remembers per second; 0 = unlimited
	WALSync         string  `json:"wal_sync,omitempty"`
	WALSegmentBytes int64   `json:"wal_segment_bytes,omitempty"`
	HTTPListen      string  `json:"http_listen,omitempty"`
}

// merge returns s with every zero field taken from base.
func (s SpaceSettings) merge(base SpaceSettings) SpaceSettings {
	if s.HotCapacity == 0 {
		s.HotCapacity = base.HotCapacity
	}
	if s.WarmCapacity == 0 {
		s.WarmCapacity = base.WarmCapacity
	}
	if s.ColdCapacity == 0 {
		s.ColdCapacity = base.ColdCapacity
	}
	if s.Dimension == 0 {
		s.Dimension = base.Dimension
	}
	if s.RateLimit == 0 {
		s.RateLimit = base.RateLimit
	}
	if s.WALSync == "" {
		s.WALSync = base.WALSync
	}
	if s.WALSegmentBytes == 0 {
		s.WALSegmentBytes = base.WALSegmentBytes
	}
	if s.HTTPListen == "" {
		s.HTTPListen = base.HTTPListen
	}
	return s
}

// totalCapacity is the most memories the space may hold across its tiers (0 = unbounded).
func (s SpaceSettings) totalCapacity() int {
	if s.HotCapacity <= 0 || s.WarmCapacity <= 0 || s.ColdCapacity <= 0 {
		return 0
	}
	return s.HotCapacity + s.WarmCapacity + s.ColdCapacity
}

// DefaultSpaceSettings are the built-in defaults of docs/configuration.md, "[persistence]".
func DefaultSpaceSettings() SpaceSettings {
	return SpaceSettings{
		HotCapacity:     100000,
		WarmCapacity:    1000000,
		ColdCapacity:    10000000,
		Dimension:       768,
		WALSync:         wal.SyncAlways.String(),
		WALSegmentBytes: 64 << 20,
	}
}

// Config configures an Engine.
type Config struct {
	DataRoot   string
	Defaults   SpaceSettings            // global [persistence] values; zero fields take DefaultSpaceSettings
	Spaces     map[string]SpaceSettings // [spaces.<id>] overrides
	AutoCreate bool
	// Replicated marks the engine of a cluster node (docs/cluster.md): Open recovers no
	// space, and no space opens until SetReplication is called, so nothing is written to a
	// local log that its partition's stream does not have first.
	Replicated bool
	MaxSpaces  int // default 10000
	// MaxOpenSpaces bounds how many spaces keep their WAL open and tiers in memory; idle
	// ones beyond it are closed and reopened on next use. Default 256.
	MaxOpenSpaces int
	// Embedding provider: "hash" (built in) or "none" (clients must send vectors).
	EmbeddingProvider string
	// Embedding configures the provider of every space (its Provider, when empty, is
	// EmbeddingProvider); SpaceEmbedding replaces it for the spaces it names.
	Embedding      embed.Config
	SpaceEmbedding map[string]embed.Config
	Consolidation  ConsolidationConfig
	// BackgroundMaxShare bounds the part of the CPUs the background lanes (association
	// edges, vector index inserts) of all spaces may use while requests flow, reached when
	// a lane's lag is half its bound (pacing.go). Zero means DefaultBackgroundMaxShare;
	// otherwise it must lie in [BackgroundBaseShare, 1], and BackgroundBaseShare keeps the
	// share fixed whatever the lag.
	BackgroundMaxShare float64
	// MaxBackgroundLag bounds, per space, the work its background lanes may owe, in time
	// of work at their recent cost: past it the space's remembers answer ErrOverloaded
	// until the lanes catch up (linker_admit.go). Zero means DefaultMaxBackgroundLag.
	MaxBackgroundLag time.Duration
	// MaxIndexLagBytes bounds, per space, the int8 codes of the rows its vector index has
	// not taken yet, which recall ranks on every call: past it, while the space has been
	// recalled within the last 10 s, the space's remembers wait for the index lane, then
	// answer ErrOverloaded (linker_admit.go). Zero means
	// DefaultMaxIndexLagBytes.
	MaxIndexLagBytes int64
	Logger           *slog.Logger
	// Now is the clock; nil means time.Now. Tests use it to age memories.
	Now func() time.Time

	// rebuildDerived makes opening a space ignore the derived files of its checkpoint
	// (the row graph) and rebuild what they hold from the memories, as a damaged one is:
	// tests and benchmarks compare both paths with it.
	rebuildDerived bool
	// admitWait is how long a remember past a lag bound waits for room before it is
	// refused; zero means defaultAdmitWait, negative not at all. Tests change it.
	admitWait time.Duration
}

// ConsolidationConfig controls background consolidation of episodes into semantic memories.
type ConsolidationConfig struct {
	Enabled  bool
	Interval time.Duration // default 60s
	MinAge   time.Duration // episodes younger than this are left alone; default 1h
}

func (c *Config) setDefaults() {
	c.Defaults = c.Defaults.merge(DefaultSpaceSettings())
	if c.MaxSpaces <= 0 {
		c.MaxSpaces = 10000
	}
	if c.MaxOpenSpaces <= 0 {
		c.MaxOpenSpaces = 256
	}
	if c.EmbeddingProvider == "" {
		c.EmbeddingProvider = "hash"
	}
	if c.Consolidation.Interval <= 0 {
		c.Consolidation.Interval = time.Minute
	}
	if c.Consolidation.MinAge < 0 {
		c.Consolidation.MinAge = 0
	}
	if c.BackgroundMaxShare == 0 {
		c.BackgroundMaxShare = DefaultBackgroundMaxShare
	}
	if c.MaxBackgroundLag == 0 {
		c.MaxBackgroundLag = DefaultMaxBackgroundLag
	}
	if c.MaxIndexLagBytes == 0 {
		c.MaxIndexLagBytes = DefaultMaxIndexLagBytes
	}
	if c.admitWait == 0 {
		c.admitWait = defaultAdmitWait
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}
