package frontend

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/engram-go/engram/engine"
)

// Frontend is a network listener serving the engine.
type Frontend interface {
	// Start binds the listener and serves in the background. A bind failure is returned.
	Start() error
	// Addr is the bound address (useful when listening on port 0).
	Addr() string
	// Stop stops accepting, lets in-flight requests finish until ctx ends, and closes.
	Stop(ctx context.Context) error
}

// Options are what a frontend needs to serve.
type Options struct {
	Engine          *engine.Engine
	Logger          *slog.Logger
	Version         string
	HTTPListen      string
	GRPCListen      string
	MaxBodyBytes    int    // default 8 MiB
	MaxContentBytes int    // default and upper bound: engine.MaxContentBytes (100 KiB)
	MaxBatchItems   int    // default 10000
	MCPListen       string // address of the MCP streamable HTTP listener
	MCPPath         string // path the MCP endpoint is served at, e.g. "/mcp"
	// SpaceListeners maps a space id to a dedicated HTTP address pinned to that space.
	SpaceListeners map[string]string
	// Shutdown is called by the shutdown route; it must return quickly.
	Shutdown func()
	// Auth checks API keys; nil means authentication is off.
	Auth Authenticator
	// Limits is shared by all frontends so a space's rate limit holds across protocols.
	Limits *Limits
	// Started is when the server started.
	Started time.Time
	// HideAPIDocs turns off the HTTP API's documentation page (/docs); the OpenAPI
	// document stays at /openapi.json.
	HideAPIDocs bool
	// Router, in a cluster, sends requests for spaces led by another node there; nil
	// serves every space here.
	Router Router
	// NodeID is this node's id in a cluster, the hop marker of what it forwards.
	NodeID string
	// Cluster, in a cluster, is the node's status and drain; nil on a single node.
	Cluster ClusterView
	// Directory, in a cluster, lists every space of the cluster for the space listings;
	// nil lists the spaces this node serves.
	Directory SpaceDirectory
	// Forwards counts forwarded requests; shared by every frontend of the server.
	Forwards *ForwardCounters
	// Idempotency serialises remembers carrying the same idempotency key; shared by
	// every frontend of the server.
	Idempotency *Idempotency
}

// SetDefaults fills what o leaves unset; every frontend's constructor calls it, so a
// frontend built directly gets the same defaults as one built by New.
func (o *Options) SetDefaults() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	// The engine refuses content beyond its own limit, so a larger setting could not hold.
	if o.MaxContentBytes <= 0 || o.MaxContentBytes > engine.MaxContentBytes {
		o.MaxContentBytes = engine.MaxContentBytes
	}
	if o.MaxBatchItems <= 0 {
		o.MaxBatchItems = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Limits == nil {
		o.Limits = NewLimits()
	}
	if o.Idempotency == nil {
		o.Idempotency = NewIdempotency()
	}
	if o.Forwards == nil {
		o.Forwards = &ForwardCounters{}
	}
	if o.Started.IsZero() {
		o.Started = time.Now()
	}
}

// Factory builds a frontend from the shared options.
type Factory func(opts Options) (Frontend, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes a frontend available under name. It is called from init functions and
// panics on a duplicate name, which is a programming error.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("frontend: duplicate registration of " + name)
	}
	registry[name] = f
}

// Names lists the registered frontends.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// New builds the named frontend.
func New(name string, opts Options) (Frontend, error) {
	registryMu.RLock()
	f, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("frontend: unknown frontend %q (available: %v)", name, Names())
	}
	opts.SetDefaults()
	return f(opts)
}
