package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// fileLayout is the shape of the file. [spaces] mixes plain keys with one table per
// space, so it is decoded in a second step from primitives.
type fileLayout struct {
	Server        Server                    `toml:"server"`
	HTTP          HTTP                      `toml:"http"`
	MCP           MCP                       `toml:"mcp"`
	Persistence   Persistence               `toml:"persistence"`
	Spaces        map[string]toml.Primitive `toml:"spaces"`
	Embedding     Embedding                 `toml:"embedding"`
	Consolidation Consolidation             `toml:"consolidation"`
	Security      Security                  `toml:"security"`
	Limits        Limits                    `toml:"limits"`
	Log           Log                       `toml:"log"`
	Cluster       Cluster                   `toml:"cluster"`
}

// spacesKeys are the plain keys of [spaces]; every other key there names a space.
func spacesKeys() []string { return []string{"auto_create", "max_spaces", "max_open_spaces"} }

func (l *loader) decode(cfg *Config) error {
	// A first pass into a generic map reports syntax errors alone, before any type or
	// unknown-key error can hide them.
	var generic map[string]any
	if _, err := toml.Decode(l.text, &generic); err != nil {
		return l.tomlError(err, ErrSyntax)
	}
	layout := fileLayout{
		Server: cfg.Server, HTTP: cfg.HTTP, MCP: cfg.MCP, Persistence: cfg.Persistence, Embedding: cfg.Embedding,
		Consolidation: cfg.Consolidation, Security: cfg.Security, Limits: cfg.Limits, Log: cfg.Log, Cluster: cfg.Cluster,
	}
	md, err := toml.Decode(l.text, &layout)
	if err != nil {
		return l.tomlError(err, ErrInvalidValue)
	}
	l.md = md
	cfg.Server, cfg.HTTP, cfg.MCP = layout.Server, layout.HTTP, layout.MCP
	cfg.Persistence, cfg.Embedding = layout.Persistence, layout.Embedding
	cfg.Consolidation, cfg.Security, cfg.Limits, cfg.Log = layout.Consolidation, layout.Security, layout.Limits, layout.Log
	cfg.Cluster = layout.Cluster

	if err := l.decodeSpaces(cfg, layout.Spaces); err != nil {
		return err
	}
	if err := l.checkUndecoded(cfg); err != nil {
		return err
	}
	if err := l.foldHTTPBind(cfg); err != nil {
		return err
	}
	if md.IsDefined("persistence", "data_root") {
		p, err := resolvePath(cfg.Persistence.DataRoot, filepath.Dir(l.path), l.home)
		if err != nil {
			return l.problem(problem{"persistence.data_root", fmt.Sprintf("persistence.data_root: %v", err)})
		}
		cfg.Persistence.DataRoot = p
	}
	return nil
}

func (l *loader) decodeSpaces(cfg *Config, raw map[string]toml.Primitive) error {
	ids := make([]string, 0, len(raw))
	for k := range raw {
		ids = append(ids, k)
	}
	sort.Strings(ids)
	for _, k := range ids {
		p := raw[k]
		var err error
		switch k {
		case "auto_create":
			err = l.md.PrimitiveDecode(p, &cfg.Spaces.AutoCreate)
		case "max_spaces":
			err = l.md.PrimitiveDecode(p, &cfg.Spaces.MaxSpaces)
		case "max_open_spaces":
			err = l.md.PrimitiveDecode(p, &cfg.Spaces.MaxOpenSpaces)
		default:
			// A table holding only sub-tables ([spaces.<id>.embedding]) is implicit: no type.
			if t := l.md.Type("spaces", k); t != "Hash" && t != "" {
				key := toml.Key{"spaces", k}
				return &Error{File: l.path, Line: locateKey(l.text, key), Key: key.String(), Kind: ErrUnknownKey,
					Detail: unknownKeyDetail(key) + "; a space's settings go in a [spaces." + k + "] table"}
			}
			var o SpaceOverride
			if err = l.md.PrimitiveDecode(p, &o); err == nil {
				cfg.Spaces.PerSpace[k] = o
			}
		}
		if err != nil {
			return l.tomlError(err, ErrInvalidValue)
		}
	}
	return nil
}

// checkUndecoded turns keys the layout does not know into an error, except whole Rust
// Engram sections, which become notices.
func (l *loader) checkUndecoded(cfg *Config) error {
	seen := map[string]bool{}
	for _, k := range l.md.Undecoded() {
		hint, ok := rustSectionHint(k[0])
		if k[0] == "cluster" {
			// [cluster] is this server's, but the Rust server had one too: while the
			// cluster is off its unknown keys are a migrated file's, noticed and ignored.
			ok = !cfg.Cluster.Enabled
		}
		if ok {
			if k[0] == "cluster" && l.ignoredCluster == nil {
				l.ignoredCluster = firstUnknown(k)
			}
			if !seen[k[0]] {
				seen[k[0]] = true
				cfg.Notices = append(cfg.Notices, fmt.Sprintf(
					"%s: ignoring section [%s] of the Rust Engram configuration: %s", l.path, k[0], hint))
			}
			continue
		}
		k = firstUnknown(k)
		return &Error{File: l.path, Line: locateKey(l.text, k), Key: k.String(), Kind: ErrUnknownKey, Detail: unknownKeyDetail(k)}
	}
	return nil
}

// foldHTTPBind reads the Rust Engram [server] http_bind (an IP) as the host of
// http_listen, unless http_listen itself is set.
func (l *loader) foldHTTPBind(cfg *Config) error {
	bind := cfg.Server.HTTPBind
	cfg.Server.HTTPBind = ""
	if bind == "" {
		return nil
	}
	if l.md.IsDefined("server", "http_listen") {
		cfg.Notices = append(cfg.Notices, fmt.Sprintf(
			"%s: ignoring [server] http_bind (Rust Engram) because http_listen is set", l.path))
		return nil
	}
	_, port, err := net.SplitHostPort(cfg.Server.HTTPListen)
	if err != nil {
		port = "7432"
	}
	cfg.Server.HTTPListen = net.JoinHostPort(bind, port)
	cfg.Notices = append(cfg.Notices, fmt.Sprintf(
		"%s: [server] http_bind (Rust Engram) read as http_listen = %q; prefer http_listen", l.path, cfg.Server.HTTPListen))
	return nil
}

// tomlLineKey matches the location prefix of the decoder's non-ParseError errors:
// `toml: line 3 (last key "persistence.hot_capacity"): ...`.
var tomlLineKey = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

// tomlError converts an error of the toml package to *Error.
func (l *loader) tomlError(err error, kind error) error {
	e := &Error{File: l.path, Kind: kind}
	var pe toml.ParseError
	switch {
	case errors.As(err, &pe):
		e.Line, e.Key = pe.Position.Line, pe.LastKey
		if s := pe.Position.Start; e.Line > 1 && s < len(l.text) && l.text[s] == '\n' {
			e.Line-- // the parser counts the newline ending a line as the next line
		}
		e.Detail = pe.Message
		if kind == ErrSyntax {
			e.Detail = "syntax error: " + pe.Message
		}
		if pe.LastKey != "" && kind != ErrSyntax {
			e.Detail = fmt.Sprintf("%s: %s", pe.LastKey, pe.Message)
		}
	case tomlLineKey.MatchString(err.Error()):
		m := tomlLineKey.FindStringSubmatch(err.Error())
		e.Line, _ = strconv.Atoi(m[1])
		e.Key = m[2]
		msg := strings.Replace(m[3], "incompatible types: ", "wrong type: ", 1)
		e.Detail = fmt.Sprintf("%s: %s", e.Key, msg)
		if e.Line == 0 {
			e.Line = locateKey(l.text, strings.Split(e.Key, "."))
		}
	default:
		e.Detail = strings.TrimPrefix(err.Error(), "toml: ")
	}
	return e
}

// firstUnknown shortens an undecoded key to its first part that is not known, so that
// "server.tls.cert" is reported as "tls" in [server].
func firstUnknown(k toml.Key) toml.Key {
	for i := 1; i < len(k); i++ {
		known := false
		for _, n := range knownKeys(k[:i]) {
			known = known || n == k[i]
		}
		if len(k[:i]) == 1 && k[0] == "spaces" {
			known = true // any other name under [spaces] is a space id
		}
		if !known {
			return k[:i+1]
		}
	}
	return k
}

// unknownKeyDetail names the key and what is known at its level.
func unknownKeyDetail(k toml.Key) string {
	if len(k) == 1 {
		return fmt.Sprintf("unknown section or key %q (known sections: %s; ignored Rust Engram sections: %s)",
			k[0], strings.Join(sectionNames(), ", "), strings.Join(RustSections(), ", "))
	}
	table := strings.Join(k[:len(k)-1], ".")
	known := knownKeys(k[:len(k)-1])
	if len(known) == 0 {
		return fmt.Sprintf("unknown key %q", k.String())
	}
	return fmt.Sprintf("unknown key %q in [%s] (known keys: %s)", k[len(k)-1], table, strings.Join(known, ", "))
}

func sectionNames() []string {
	return tomlNames(reflect.TypeOf(fileLayout{}))
}

// knownKeys lists the keys accepted in a table, for error messages.
func knownKeys(table []string) []string {
	if len(table) == 2 && table[0] == "spaces" {
		return tomlNames(reflect.TypeOf(SpaceOverride{}))
	}
	if len(table) == 2 && table[0] == "cluster" && table[1] == "nats" {
		return tomlNames(reflect.TypeOf(ClusterNATS{}))
	}
	if len(table) != 1 {
		return nil
	}
	if table[0] == "spaces" {
		return append(spacesKeys(), "<space id> (a table)")
	}
	t := reflect.TypeOf(fileLayout{})
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); tagName(f) == table[0] && f.Type.Kind() == reflect.Struct {
			return tomlNames(f.Type)
		}
	}
	return nil
}

func tomlNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		n := tagName(t.Field(i))
		if n == "" || n == "-" || n == "http_bind" {
			continue
		}
		out = append(out, n)
	}
	return out
}

func tagName(f reflect.StructField) string {
	n, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return n
}

// RustSections lists the sections of the Rust Engram configuration that are ignored
// (with a notice) instead of being refused as unknown.
func RustSections() []string {
	return []string{"compaction", "decay", "dream", "feature_flags", "gpu", "memory",
		"memory_spaces", "monitoring", "pattern_detection", "performance", "router", "spreading",
		"tracing"}
}

// rustSectionHint says why a Rust Engram section means nothing here.
func rustSectionHint(section string) (string, bool) {
	switch section {
	case "feature_flags":
		return "every API is always enabled", true
	case "memory_spaces":
		return "spaces are created on first write ([spaces] auto_create) or with `engram space create`, and `default` always exists", true
	case "cluster":
		return "its keys are not this server's [cluster] keys (" + strings.Join(ClusterKeys(), ", ") + "), and the cluster is off", true
	case "router":
		return "a cluster forwards requests itself (docs/cluster.md)", true
	case "monitoring", "tracing":
		return "metrics are always served at /metrics", true
	case "memory", "performance", "gpu":
		return "tier capacities are set in [persistence] and [spaces.<id>]; the rest is tuned automatically", true
	case "spreading", "decay", "dream", "pattern_detection", "compaction":
		return "recall and consolidation parameters are built in; see [consolidation]", true
	}
	return "", false
}
