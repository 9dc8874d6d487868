package config

import (
	"time"

	"github.com/engram-go/engram/engine"
)

// Config is the effective configuration of one server: every section of the TOML file.
// Field tags are the TOML key names.
type Config struct {
	Server        Server        `toml:"server"`
	HTTP          HTTP          `toml:"http"`
	MCP           MCP           `toml:"mcp"`
	Persistence   Persistence   `toml:"persistence"`
	Spaces        Spaces        `toml:"-"` // custom layout, see decode.go and encode.go
	Embedding     Embedding     `toml:"embedding"`
	Consolidation Consolidation `toml:"consolidation"`
	Security      Security      `toml:"security"`
	Limits        Limits        `toml:"limits"`
	Log           Log           `toml:"log"`
	Cluster       Cluster       `toml:"cluster"`

	// File is the configuration file that was read, or "" when none exists and the
	// defaults apply.
	File string `toml:"-"`
	// PIDPath is where the server writes its PID file: ENGRAM_PID_PATH, else
	// <data_root>/engram.pid.
	PIDPath string `toml:"-"`
	// Notices are things the operator should know about the file that did not stop it
	// from loading (ignored Rust Engram sections, legacy keys). Commands log them at WARN.
	Notices []string `toml:"-"`
}

// Server is the [server] section.
type Server struct {
	HTTPListen string   `toml:"http_listen"`
	GRPCListen string   `toml:"grpc_listen"`
	Frontends  []string `toml:"frontends"`
	// HTTPBind is the Rust Engram key (an IP without port). It is accepted so that a
	// migrated file loads, folded into HTTPListen, and then cleared.
	HTTPBind string `toml:"http_bind,omitempty"`
}

// HTTP is the [http] section: options of the HTTP frontend.
type HTTP struct {
	// Docs serves the interactive API documentation at /docs (the OpenAPI document at
	// /openapi.json is always served).
	Docs bool `toml:"docs"`
}

// MCP is the [mcp] section: where the Model Context Protocol endpoint listens. It runs
// when "mcp" is in [server] frontends.
type MCP struct {
	Listen string `toml:"listen"`
	Path   string `toml:"path"`
}

// Persistence is the [persistence] section: the data root and the defaults every space
// inherits unless [spaces.<id>] overrides them.
type Persistence struct {
	DataRoot        string `toml:"data_root"`
	HotCapacity     int    `toml:"hot_capacity"`
	WarmCapacity    int    `toml:"warm_capacity"`
	ColdCapacity    int    `toml:"cold_capacity"`
	WALSync         string `toml:"wal_sync"`
	WALSegmentBytes int64  `toml:"wal_segment_bytes"`
}

// Spaces is the [spaces] section plus its [spaces.<id>] tables.
type Spaces struct {
	AutoCreate    bool `toml:"auto_create"`
	MaxSpaces     int  `toml:"max_spaces"`
	MaxOpenSpaces int  `toml:"max_open_spaces"`
	// PerSpace holds the [spaces.<id>] tables by space id.
	PerSpace map[string]SpaceOverride `toml:"-"`
}

// SpaceOverride is one [spaces.<id>] table. A zero field inherits the global value.
type SpaceOverride struct {
	HotCapacity     int     `toml:"hot_capacity,omitempty"`
	WarmCapacity    int     `toml:"warm_capacity,omitempty"`
	ColdCapacity    int     `toml:"cold_capacity,omitempty"`
	Dimension       int     `toml:"dimension,omitempty"`
	RateLimit       float64 `toml:"rate_limit,omitempty"` // remembers per second; 0 = unlimited
	WALSync         string  `toml:"wal_sync,omitempty"`
	WALSegmentBytes int64   `toml:"wal_segment_bytes,omitempty"`
	HTTPListen      string  `toml:"http_listen,omitempty"` // dedicated listener pinned to this space
	// Embedding is a [spaces.<id>.embedding] table: this space's provider. Keys it leaves
	// out come from [embedding]; dimension is the space's own key above.
	Embedding *Embedding `toml:"embedding,omitempty"`
}

// Embedding is the [embedding] section: the default dimension and the provider that embeds
// text-only memories and cues (docs/embeddings.md). Zero tuning values take the defaults.
type Embedding struct {
	Dimension   int      `toml:"dimension,omitempty"`
	Provider    string   `toml:"provider,omitempty"`    // hash (built in), none (clients send vectors), openai or ollama
	URL         string   `toml:"url,omitempty"`         // the provider's full endpoint
	Model       string   `toml:"model,omitempty"`       // required for openai and ollama
	Dimensions  int      `toml:"dimensions,omitempty"`  // sent to OpenAI as "dimensions"
	APIKeyEnv   string   `toml:"api_key_env,omitempty"` // environment variable holding the API key
	BatchSize   int      `toml:"batch_size,omitempty"`  // texts per request (64)
	Timeout     Duration `toml:"timeout,omitempty"`     // per request, retries included (30s)
	Concurrency int      `toml:"concurrency,omitempty"` // requests in flight per space (4)
}

// Consolidation is the [consolidation] section.
type Consolidation struct {
	Enabled  bool     `toml:"enabled"`
	Interval Duration `toml:"interval"`
	MinAge   Duration `toml:"min_age"`
}

// Security is the [security] section.
type Security struct {
	Auth     string `toml:"auth"`      // "none" or "api_key"
	KeysFile string `toml:"keys_file"` // resolved under data_root unless absolute
}

// Limits is the [limits] section.
type Limits struct {
	MaxBodyBytes    int `toml:"max_body_bytes"`
	MaxContentBytes int `toml:"max_content_bytes"`
	MaxBatchItems   int `toml:"max_batch_items"`
	// MemoryLimitBytes is the Go runtime's soft memory limit: 0 derives it from the memory
	// the process may use, -1 sets none (docs/configuration.md).
	MemoryLimitBytes int64 `toml:"memory_limit_bytes"`
	// BackgroundMaxShare bounds the part of the CPUs the background index and link
	// maintenance may use while requests flow, reached as its lag grows (docs/operations.md).
	BackgroundMaxShare float64 `toml:"background_max_share"`
	// MaxBackgroundLag bounds the index and link work a space may owe; past it its
	// remembers answer 503 OVERLOADED until the work catches up (docs/operations.md).
	MaxBackgroundLag Duration `toml:"max_background_lag"`
	// MaxIndexLagBytes bounds the int8 codes of the rows a space's vector index may lack
	// (recall scans them on every call); past it its remembers wait, then answer 503
	// (docs/operations.md).
	MaxIndexLagBytes int64 `toml:"max_index_lag_bytes"`
}

// Log is the [log] section.
type Log struct {
	Level string `toml:"level"` // debug, info, warn or error
}

// Defaults of docs/configuration.md, "Keys". data_root has no static default: it depends
// on the environment (see defaultDataRoot).
const (
	DefaultHTTPListen      = "127.0.0.1:7432"
	DefaultGRPCListen      = "127.0.0.1:50051"
	DefaultMCPListen       = "127.0.0.1:7433"
	DefaultMCPPath         = "/mcp"
	DefaultHotCapacity     = 100000
	DefaultWarmCapacity    = 1000000
	DefaultColdCapacity    = 10000000
	DefaultWALSync         = "always"
	DefaultWALSegmentBytes = 64 << 20
	DefaultMaxSpaces       = 10000
	DefaultMaxOpenSpaces   = 256
	DefaultDimension       = 768
	DefaultProvider        = "hash"
	DefaultAuth            = "none"
	DefaultKeysFile        = "keys.json"
	DefaultMaxBodyBytes    = 8 << 20
	DefaultMaxContentBytes = 100 << 10
	DefaultMaxBatchItems   = 10000
	DefaultLogLevel        = "info"
	PIDFileName            = "engram.pid"
)

// Default returns the built-in configuration with dataRoot as its data root.
func Default(dataRoot string) Config {
	return Config{
		Server: Server{
			HTTPListen: DefaultHTTPListen,
			GRPCListen: DefaultGRPCListen,
			Frontends:  []string{"http", "grpc", "mcp"},
		},
		HTTP: HTTP{Docs: true},
		MCP:  MCP{Listen: DefaultMCPListen, Path: DefaultMCPPath},
		Persistence: Persistence{
			DataRoot:        dataRoot,
			HotCapacity:     DefaultHotCapacity,
			WarmCapacity:    DefaultWarmCapacity,
			ColdCapacity:    DefaultColdCapacity,
			WALSync:         DefaultWALSync,
			WALSegmentBytes: DefaultWALSegmentBytes,
		},
		Spaces: Spaces{
			AutoCreate:    true,
			MaxSpaces:     DefaultMaxSpaces,
			MaxOpenSpaces: DefaultMaxOpenSpaces,
			PerSpace:      map[string]SpaceOverride{},
		},
		Embedding: Embedding{Dimension: DefaultDimension, Provider: DefaultProvider},
		Consolidation: Consolidation{
			Enabled:  true,
			Interval: Duration(60 * time.Second),
			MinAge:   Duration(time.Hour),
		},
		Security: Security{Auth: DefaultAuth, KeysFile: DefaultKeysFile},
		Limits: Limits{
			MaxBodyBytes:       DefaultMaxBodyBytes,
			MaxContentBytes:    DefaultMaxContentBytes,
			MaxBatchItems:      DefaultMaxBatchItems,
			BackgroundMaxShare: engine.DefaultBackgroundMaxShare,
			MaxBackgroundLag:   Duration(engine.DefaultMaxBackgroundLag),
			MaxIndexLagBytes:   engine.DefaultMaxIndexLagBytes,
		},
		Log:     Log{Level: DefaultLogLevel},
		Cluster: defaultCluster(),
	}
}
