package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Environment variables read by Load.
const (
	EnvConfig     = "ENGRAM_CONFIG"
	EnvDataRoot   = "ENGRAM_DATA_ROOT"
	EnvHTTPListen = "ENGRAM_HTTP_LISTEN"
	EnvGRPCListen = "ENGRAM_GRPC_LISTEN"
	EnvMCPListen  = "ENGRAM_MCP_LISTEN"
	EnvMCPPath    = "ENGRAM_MCP_PATH"
	EnvPIDPath    = "ENGRAM_PID_PATH"
	EnvHTTPDocs   = "ENGRAM_HTTP_DOCS"
)

// Source says where Load finds its inputs. The zero value reads the process environment
// and the user's configuration directory.
type Source struct {
	// Path is the --config flag. Empty means ENGRAM_CONFIG, then
	// os.UserConfigDir()/engram/config.toml. A file named by the flag or the variable must
	// exist; the default one may be absent (the defaults then apply).
	Path string
	// Command-line flags; empty means not given.
	DataRoot   string
	HTTPListen string
	GRPCListen string
	HTTPDocs   string // "true" or "false"
	MCPListen  string
	// Cluster holds the cluster flags of `engram start` by dotted key
	// ("cluster.node_id"); see ClusterKeys and ClusterFlag.
	Cluster map[string]string

	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Home is the directory "~" expands to; empty means os.UserHomeDir.
	Home string
	// ConfigDir replaces os.UserConfigDir when not empty.
	ConfigDir string
	// WorkDir is what relative flag and environment paths are taken from; empty means the
	// current directory.
	WorkDir string
}

// Load builds the effective configuration: defaults, then the file, then the
// environment, then the flags, then validation. Every error is an *Error.
func Load(src Source) (Config, error) {
	l, err := newLoader(src)
	if err != nil {
		return Config{}, err
	}
	cfg := Default(defaultDataRoot(l.getenv, l.home))
	if err := l.readFile(&cfg); err != nil {
		return Config{}, err
	}
	if err := l.applyOverrides(&cfg); err != nil {
		return Config{}, err
	}
	if err := l.finish(&cfg); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// loader carries what Load needs to turn a bad value back into a file line.
type loader struct {
	src    Source
	getenv func(string) string
	home   string
	wd     string

	path     string // file to read ("" = none)
	explicit bool   // path named by the flag or ENGRAM_CONFIG
	text     string
	md       toml.MetaData
	// overridden maps a dotted key to what overrode the file: "flag --http", ...
	overridden map[string]string
	// ignoredCluster is the first key of [cluster] skipped as a Rust setting while the file
	// left the cluster off; a flag or variable that turns it on makes it an error.
	ignoredCluster toml.Key
}

func newLoader(src Source) (*loader, error) {
	l := &loader{src: src, getenv: src.Getenv, home: src.Home, wd: src.WorkDir, overridden: map[string]string{}}
	if l.getenv == nil {
		l.getenv = os.Getenv
	}
	if l.home == "" {
		l.home, _ = os.UserHomeDir() // without a home, "~" paths are refused later
	}
	if l.wd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("config: current directory: %w", err)
		}
		l.wd = wd
	}
	switch {
	case src.Path != "":
		l.path, l.explicit = src.Path, true
	case l.getenv(EnvConfig) != "":
		l.path, l.explicit = l.getenv(EnvConfig), true
	default:
		dir := src.ConfigDir
		if dir == "" {
			d, err := os.UserConfigDir()
			if err != nil {
				return l, nil // no configuration directory: defaults only
			}
			dir = d
		}
		l.path = filepath.Join(dir, "engram", "config.toml")
	}
	p, err := resolvePath(l.path, l.wd, l.home)
	if err != nil {
		return nil, &Error{File: l.path, Kind: ErrInvalidValue, Detail: err.Error()}
	}
	l.path = p
	return l, nil
}

func (l *loader) readFile(cfg *Config) error {
	if l.path == "" {
		return nil
	}
	b, err := os.ReadFile(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !l.explicit:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return &Error{File: l.path, Kind: ErrFileNotFound, Detail: "configuration file does not exist"}
	case err != nil:
		return fmt.Errorf("config: read %s: %w", l.path, err)
	}
	l.text = string(b)
	cfg.File = l.path
	return l.decode(cfg)
}

// applyOverrides applies the environment, then the flags, each over what came before.
func (l *loader) applyOverrides(cfg *Config) error {
	type override struct {
		key, value, from string
		base             string // for paths: what a relative value is taken from
	}
	var list []override
	for _, e := range []struct{ key, env string }{
		{"persistence.data_root", EnvDataRoot},
		{"server.http_listen", EnvHTTPListen},
		{"server.grpc_listen", EnvGRPCListen},
		{"http.docs", EnvHTTPDocs},
		{"mcp.listen", EnvMCPListen},
		{"mcp.path", EnvMCPPath},
	} {
		if v := l.getenv(e.env); v != "" {
			list = append(list, override{e.key, v, "environment variable " + e.env, l.wd})
		}
	}
	for _, key := range ClusterKeys() {
		if v := l.getenv(ClusterEnv(key)); v != "" {
			list = append(list, override{key, v, "environment variable " + ClusterEnv(key), l.wd})
		}
	}
	for _, f := range []struct{ key, value, flag string }{
		{"persistence.data_root", l.src.DataRoot, "--data-root"},
		{"server.http_listen", l.src.HTTPListen, "--http"},
		{"server.grpc_listen", l.src.GRPCListen, "--grpc"},
		{"http.docs", l.src.HTTPDocs, "--http-docs"},
		{"mcp.listen", l.src.MCPListen, "--mcp"},
	} {
		if f.value != "" {
			list = append(list, override{f.key, f.value, "flag " + f.flag, l.wd})
		}
	}
	for _, key := range ClusterKeys() {
		if v, ok := l.src.Cluster[key]; ok && v != "" {
			list = append(list, override{key, v, "flag --" + ClusterFlag(key), l.wd})
		}
	}
	for _, o := range list {
		l.overridden[o.key] = o.from
		switch o.key {
		case "persistence.data_root":
			p, err := resolvePath(o.value, o.base, l.home)
			if err != nil {
				return &Error{Key: o.key, Kind: ErrInvalidValue, Detail: fmt.Sprintf("%s (from %s): %v", o.key, o.from, err)}
			}
			cfg.Persistence.DataRoot = p
		case "server.http_listen":
			cfg.Server.HTTPListen = o.value
		case "server.grpc_listen":
			cfg.Server.GRPCListen = o.value
		case "http.docs":
			on, err := strconv.ParseBool(o.value)
			if err != nil {
				return &Error{Key: o.key, Kind: ErrInvalidValue, Detail: fmt.Sprintf("%s (from %s) must be true or false, got %q", o.key, o.from, o.value)}
			}
			cfg.HTTP.Docs = on
		case "mcp.listen":
			cfg.MCP.Listen = o.value
		case "mcp.path":
			cfg.MCP.Path = o.value
		default:
			if err := cfg.Cluster.set(o.key, o.value); err != nil {
				return &Error{Key: o.key, Kind: ErrInvalidValue, Detail: fmt.Sprintf("%s (from %s) %v", o.key, o.from, err)}
			}
		}
	}
	return nil
}

// finish resolves the paths that depend on the final data root and validates.
func (l *loader) finish(cfg *Config) error {
	if cfg.Persistence.DataRoot == "" || !filepath.IsAbs(cfg.Persistence.DataRoot) {
		p, err := resolvePath(cfg.Persistence.DataRoot, l.wd, l.home)
		if err == nil {
			cfg.Persistence.DataRoot = p
		}
	}
	if kf, err := expandTilde(cfg.Security.KeysFile, l.home); err != nil {
		return l.problem(problem{"security.keys_file", err.Error()})
	} else if kf != "" && !filepath.IsAbs(kf) {
		cfg.Security.KeysFile = filepath.Join(cfg.Persistence.DataRoot, kf)
	} else {
		cfg.Security.KeysFile = kf
	}
	if sd, err := expandTilde(cfg.Cluster.NATS.StoreDir, l.home); err != nil {
		return l.problem(problem{"cluster.nats.store_dir", err.Error()})
	} else {
		cfg.Cluster.NATS.StoreDir = sd
	}
	if p := l.getenv(EnvPIDPath); p != "" {
		rp, err := resolvePath(p, l.wd, l.home)
		if err != nil {
			return &Error{Kind: ErrInvalidValue, Detail: fmt.Sprintf("%s: %v", EnvPIDPath, err)}
		}
		cfg.PIDPath = rp
	} else {
		cfg.PIDPath = filepath.Join(cfg.Persistence.DataRoot, PIDFileName)
	}
	if k := l.ignoredCluster; k != nil && cfg.Cluster.Enabled {
		return &Error{File: l.path, Line: locateKey(l.text, k), Key: k.String(), Kind: ErrUnknownKey,
			Detail: unknownKeyDetail(k) + fmt.Sprintf(" (the cluster is enabled by %s)", l.overridden["cluster.enabled"])}
	}
	if ps := validate(cfg); len(ps) > 0 {
		return l.problem(ps[0])
	}
	return nil
}

// problem turns a validation problem into an *Error pointing at where the value came
// from: the flag or variable that set it, or its line in the file.
func (l *loader) problem(p problem) error {
	e := &Error{Key: p.key, Kind: ErrInvalidValue, Detail: p.detail}
	if from, ok := l.overridden[p.key]; ok {
		e.Detail = fmt.Sprintf("%s (from %s)", p.detail, from)
		return e
	}
	if l.text != "" {
		if line := locateKey(l.text, strings.Split(p.key, ".")); line > 0 {
			e.File, e.Line = l.path, line
		}
	}
	return e
}
