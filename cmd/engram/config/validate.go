package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/engram-go/engram/engine"
)

// problem is one invalid value: its dotted key and what is wrong.
type problem struct {
	key    string
	detail string
}

// validate checks every value; problems come back in file order of sections.
func validate(c *Config) []problem {
	var ps []problem
	add := func(key, format string, args ...any) {
		ps = append(ps, problem{key, key + ": " + fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		add(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}

	// [server]
	if err := checkListen(c.Server.HTTPListen); err != nil {
		add("server.http_listen", "%v", err)
	}
	if c.Server.GRPCListen != "" || hasFrontend(c.Server.Frontends, "grpc") {
		if err := checkListen(c.Server.GRPCListen); err != nil {
			add("server.grpc_listen", "%v", err)
		}
	}
	if c.MCP.Listen != "" || hasFrontend(c.Server.Frontends, "mcp") {
		if err := checkListen(c.MCP.Listen); err != nil {
			add("mcp.listen", "%v", err)
		} else if _, port, _ := net.SplitHostPort(c.MCP.Listen); port != "0" &&
			(c.MCP.Listen == c.Server.HTTPListen || c.MCP.Listen == c.Server.GRPCListen) {
			add("mcp.listen", "%s is already used by the HTTP or gRPC listener", c.MCP.Listen)
		}
	}
	if !strings.HasPrefix(c.MCP.Path, "/") || strings.ContainsAny(c.MCP.Path, " ?#") {
		add("mcp.path", "must be a URL path starting with \"/\", got %q", c.MCP.Path)
	}
	if len(c.Server.Frontends) == 0 {
		add("server.frontends", "must name at least one frontend (\"http\", \"grpc\", \"mcp\")")
	}
	seen := map[string]bool{}
	for _, f := range c.Server.Frontends {
		switch {
		case f == "":
			add("server.frontends", "contains an empty name")
		case seen[f]:
			add("server.frontends", "names %q twice", f)
		}
		seen[f] = true
	}

	// [persistence]
	if c.Persistence.DataRoot == "" {
		add("persistence.data_root", "must not be empty")
	} else if fi, err := os.Stat(c.Persistence.DataRoot); err == nil && !fi.IsDir() {
		add("persistence.data_root", "%s exists and is not a directory", c.Persistence.DataRoot)
	}
	positive := func(key string, v int64) {
		if v <= 0 {
			add(key, "must be positive, got %d", v)
		}
	}
	positive("persistence.hot_capacity", int64(c.Persistence.HotCapacity))
	positive("persistence.warm_capacity", int64(c.Persistence.WarmCapacity))
	positive("persistence.cold_capacity", int64(c.Persistence.ColdCapacity))
	oneOf("persistence.wal_sync", c.Persistence.WALSync, walSyncModes()...)
	positive("persistence.wal_segment_bytes", c.Persistence.WALSegmentBytes)

	// [spaces]
	positive("spaces.max_spaces", int64(c.Spaces.MaxSpaces))
	positive("spaces.max_open_spaces", int64(c.Spaces.MaxOpenSpaces))
	listeners := map[string]string{c.Server.HTTPListen: "server.http_listen", c.Server.GRPCListen: "server.grpc_listen", c.MCP.Listen: "mcp.listen"}
	ids := make([]string, 0, len(c.Spaces.PerSpace))
	for id := range c.Spaces.PerSpace {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := c.Spaces.PerSpace[id]
		prefix := "spaces." + id
		if norm, err := engine.NormalizeSpaceID(id); err != nil || norm != id {
			add(prefix, "%q is not a valid memory space id (3-64 characters of a-z, 0-9, '_' and '-', starting with a letter or digit)", id)
			continue
		}
		nonNegative := func(key string, v int64) {
			if v < 0 {
				add(prefix+"."+key, "must not be negative, got %d", v)
			}
		}
		nonNegative("hot_capacity", int64(o.HotCapacity))
		nonNegative("warm_capacity", int64(o.WarmCapacity))
		nonNegative("cold_capacity", int64(o.ColdCapacity))
		nonNegative("wal_segment_bytes", o.WALSegmentBytes)
		if o.Dimension < 0 || o.Dimension > maxDimension {
			add(prefix+".dimension", "must be between 1 and %d, got %d", maxDimension, o.Dimension)
		}
		if o.RateLimit < 0 {
			add(prefix+".rate_limit", "must not be negative, got %g", o.RateLimit)
		}
		if o.WALSync != "" {
			oneOf(prefix+".wal_sync", o.WALSync, walSyncModes()...)
		}
		if o.Embedding != nil {
			dim := o.Dimension
			if dim == 0 {
				dim = c.Embedding.Dimension
			}
			if o.Embedding.Dimension != 0 {
				add(prefix+".embedding.dimension", "is the space's own key: set %s.dimension instead", prefix)
			}
			ps = append(ps, validateEmbedding(prefix+".embedding", c.SpaceEmbedding(id), dim)...)
		}
		if o.HTTPListen != "" {
			if err := checkListen(o.HTTPListen); err != nil {
				add(prefix+".http_listen", "%v", err)
			} else if other, dup := listeners[o.HTTPListen]; dup {
				add(prefix+".http_listen", "%s is already used by %s", o.HTTPListen, other)
			}
			listeners[o.HTTPListen] = prefix + ".http_listen"
		}
	}

	// [embedding]
	if c.Embedding.Dimension < 1 || c.Embedding.Dimension > maxDimension {
		add("embedding.dimension", "must be between 1 and %d, got %d", maxDimension, c.Embedding.Dimension)
	}
	ps = append(ps, validateEmbedding("embedding", c.Embedding, c.Embedding.Dimension)...)

	// [consolidation]
	if c.Consolidation.Interval <= 0 {
		add("consolidation.interval", "must be positive, got %s", c.Consolidation.Interval.Std())
	}
	if c.Consolidation.MinAge < 0 {
		add("consolidation.min_age", "must not be negative, got %s", c.Consolidation.MinAge.Std())
	}

	// [security]
	oneOf("security.auth", c.Security.Auth, "none", "api_key")
	if c.Security.Auth == "api_key" && c.Security.KeysFile == "" {
		add("security.keys_file", "must be set when auth = \"api_key\"")
	}

	// [limits]
	positive("limits.max_body_bytes", int64(c.Limits.MaxBodyBytes))
	positive("limits.max_content_bytes", int64(c.Limits.MaxContentBytes))
	if c.Limits.MaxContentBytes > engine.MaxContentBytes {
		add("limits.max_content_bytes", "must not exceed %d, the engine's limit, got %d", engine.MaxContentBytes, c.Limits.MaxContentBytes)
	}
	positive("limits.max_batch_items", int64(c.Limits.MaxBatchItems))
	if c.Limits.MemoryLimitBytes < -1 {
		add("limits.memory_limit_bytes", "must be a number of bytes, 0 (derived) or -1 (none), got %d", c.Limits.MemoryLimitBytes)
	}
	if s := c.Limits.BackgroundMaxShare; !(s >= engine.BackgroundBaseShare && s <= 1) {
		add("limits.background_max_share", "must lie between %g (the base share) and 1 (every CPU), got %g", engine.BackgroundBaseShare, s)
	}
	if d := c.Limits.MaxBackgroundLag.Std(); d <= 0 {
		add("limits.max_background_lag", "must be positive, got %s", d)
	}
	positive("limits.max_index_lag_bytes", c.Limits.MaxIndexLagBytes)

	// [log]
	oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")

	// [cluster]
	return append(ps, validateCluster(c)...)
}

// validateEmbedding checks a provider configuration used by spaces of dimension dim.
func validateEmbedding(section string, e Embedding, dim int) []problem {
	var ps []problem
	add := func(key, format string, args ...any) {
		ps = append(ps, problem{section + "." + key, section + "." + key + ": " + fmt.Sprintf(format, args...)})
	}
	switch e.Provider {
	case "hash", "none":
		return nil
	case "openai", "ollama":
	default:
		add("provider", "%q is not one of hash, none, openai, ollama", e.Provider)
		return ps
	}
	if strings.TrimSpace(e.Model) == "" {
		// Located at the provider line: the missing key has none.
		ps = append(ps, problem{section + ".provider", fmt.Sprintf("%s.model: is required with provider %q", section, e.Provider)})
	}
	if e.URL != "" {
		if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("url", "must be an http or https URL, got %q", e.URL)
		}
	}
	if e.Dimensions < 0 || (e.Dimensions > 0 && e.Dimensions != dim) {
		add("dimensions", "must equal the dimension of the spaces it embeds for (%d), got %d", dim, e.Dimensions)
	}
	if e.BatchSize < 0 || e.Concurrency < 0 || e.Timeout < 0 {
		add("batch_size", "batch_size, concurrency and timeout must not be negative")
	}
	return ps
}

// maxDimension matches the engine's bound on embedding dimensions.
const maxDimension = 65536

func walSyncModes() []string { return []string{"always", "interval", "never"} }

func hasFrontend(list []string, name string) bool {
	for _, f := range list {
		if f == name {
			return true
		}
	}
	return false
}

// checkListen accepts "host:port" with a numeric port (0 picks a free one).
func checkListen(addr string) error {
	if addr == "" {
		return fmt.Errorf("must be host:port, got an empty value")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port of %q must be a number from 0 to 65535", addr)
	}
	return nil
}
