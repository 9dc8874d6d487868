package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// env is a fake environment.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// sandbox is a home, a configuration directory and a work directory under one temp dir.
type sandbox struct {
	root, home, configDir, wd string
	env                       env
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	root := t.TempDir()
	s := &sandbox{root: root, home: filepath.Join(root, "home"), configDir: filepath.Join(root, "xdg-config"),
		wd: filepath.Join(root, "work"), env: env{}}
	for _, d := range []string{s.home, s.configDir, s.wd} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *sandbox) source() Source {
	return Source{Getenv: s.env.get, Home: s.home, ConfigDir: s.configDir, WorkDir: s.wd}
}

// write puts text in a file under the sandbox and returns its path.
func (s *sandbox) write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(s.root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadText loads text as the explicitly named configuration file.
func (s *sandbox) loadText(t *testing.T, text string) (Config, error) {
	t.Helper()
	src := s.source()
	src.Path = s.write(t, "config.toml", text)
	return Load(src)
}

func TestDefaultsWithoutFile(t *testing.T) {
	s := newSandbox(t)
	cfg, err := Load(s.source())
	if err != nil {
		t.Fatal(err)
	}
	want := Default(filepath.Join(s.home, ".local", "share", "engram"))
	want.Security.KeysFile = filepath.Join(want.Persistence.DataRoot, "keys.json")
	want.PIDPath = filepath.Join(want.Persistence.DataRoot, "engram.pid")
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
	if cfg.File != "" {
		t.Fatalf("File = %q, want none", cfg.File)
	}
}

func TestDefaultDataRootFollowsXDG(t *testing.T) {
	for _, tc := range []struct {
		name, xdg, want string
	}{
		{"unset", "", "home/.local/share/engram"},
		{"absolute", "/srv/xdg-data", "/srv/xdg-data/engram"},
		{"relative is ignored", "rel/data", "home/.local/share/engram"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			s.env["XDG_DATA_HOME"] = tc.xdg
			cfg, err := Load(s.source())
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if !filepath.IsAbs(want) {
				want = filepath.Join(s.root, want)
			}
			if cfg.Persistence.DataRoot != want {
				t.Fatalf("data_root = %q, want %q", cfg.Persistence.DataRoot, want)
			}
		})
	}
}

const everyKey = `
[server]
http_listen = "127.0.0.1:8001"
grpc_listen = "127.0.0.1:8002"
frontends = ["http"]

[http]
docs = false

[mcp]
listen = "127.0.0.1:8004"
path = "/agents/mcp"

[persistence]
data_root = "/srv/engram"
hot_capacity = 11
warm_capacity = 12
cold_capacity = 13
wal_sync = "interval"
wal_segment_bytes = 1048576

[spaces]
auto_create = false
max_spaces = 14
max_open_spaces = 15

[spaces.production]
hot_capacity = 21
warm_capacity = 22
cold_capacity = 23
dimension = 24
rate_limit = 25.5
wal_sync = "never"
wal_segment_bytes = 2097152
http_listen = "127.0.0.1:8003"

[spaces.production.embedding]
provider = "ollama"
model = "nomic-embed-text"
concurrency = 8

[spaces.staging]
rate_limit = 3.0

[embedding]
dimension = 384
provider = "none"
url = "http://127.0.0.1:8080/v1/embeddings"
model = "text-embedding-3-small"
dimensions = 384
api_key_env = "EMBEDDING_KEY"
batch_size = 16
timeout = "5s"
concurrency = 2

[consolidation]
enabled = false
interval = "90s"
min_age = "2h30m"

[security]
auth = "api_key"
keys_file = "/etc/engram/keys.json"

[limits]
max_body_bytes = 1000
max_content_bytes = 500
max_batch_items = 7
background_max_share = 0.25
max_background_lag = "8s"
max_index_lag_bytes = 3000000

[log]
level = "debug"

[cluster]
enabled = true
node_id = "node-1"
advertise_http = "10.1.1.1:8001"
advertise_grpc = "10.1.1.1:8002"
partitions = 4
replicas = 5
lease_ttl = "20s"

[cluster.nats]
listen = "127.0.0.1:8005"
cluster_listen = "127.0.0.1:8006"
routes = ["nats-route://10.1.1.2:8006"]
store_dir = "/srv/nats"
sync = "interval"
`

func everyKeyConfig(file string) Config {
	return Config{
		Server: Server{HTTPListen: "127.0.0.1:8001", GRPCListen: "127.0.0.1:8002", Frontends: []string{"http"}},
		HTTP:   HTTP{Docs: false},
		MCP:    MCP{Listen: "127.0.0.1:8004", Path: "/agents/mcp"},
		Persistence: Persistence{DataRoot: "/srv/engram", HotCapacity: 11, WarmCapacity: 12, ColdCapacity: 13,
			WALSync: "interval", WALSegmentBytes: 1 << 20},
		Spaces: Spaces{AutoCreate: false, MaxSpaces: 14, MaxOpenSpaces: 15, PerSpace: map[string]SpaceOverride{
			"production": {HotCapacity: 21, WarmCapacity: 22, ColdCapacity: 23, Dimension: 24, RateLimit: 25.5,
				WALSync: "never", WALSegmentBytes: 2 << 20, HTTPListen: "127.0.0.1:8003",
				Embedding: &Embedding{Provider: "ollama", Model: "nomic-embed-text", Concurrency: 8}},
			"staging": {RateLimit: 3},
		}},
		Embedding: Embedding{Dimension: 384, Provider: "none", URL: "http://127.0.0.1:8080/v1/embeddings", Model: "text-embedding-3-small",
			Dimensions: 384, APIKeyEnv: "EMBEDDING_KEY", BatchSize: 16, Timeout: Duration(5 * time.Second), Concurrency: 2},
		Consolidation: Consolidation{Enabled: false, Interval: Duration(90 * time.Second), MinAge: Duration(150 * time.Minute)},
		Security:      Security{Auth: "api_key", KeysFile: "/etc/engram/keys.json"},
		Limits:        Limits{MaxBodyBytes: 1000, MaxContentBytes: 500, MaxBatchItems: 7, BackgroundMaxShare: 0.25, MaxBackgroundLag: Duration(8 * time.Second), MaxIndexLagBytes: 3000000},
		Log:           Log{Level: "debug"},
		Cluster: Cluster{Enabled: true, NodeID: "node-1", AdvertiseHTTP: "10.1.1.1:8001", AdvertiseGRPC: "10.1.1.1:8002",
			Partitions: 4, Replicas: 5, LeaseTTL: Duration(20 * time.Second),
			NATS: ClusterNATS{Listen: "127.0.0.1:8005", ClusterListen: "127.0.0.1:8006",
				Routes: []string{"nats-route://10.1.1.2:8006"}, StoreDir: "/srv/nats", Sync: "interval"}},
		File:    file,
		PIDPath: "/srv/engram/engram.pid",
	}
}

func TestEveryKeyParsed(t *testing.T) {
	s := newSandbox(t)
	cfg, err := s.loadText(t, everyKey)
	if err != nil {
		t.Fatal(err)
	}
	want := everyKeyConfig(filepath.Join(s.root, "config.toml"))
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("parsed:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestWriteTOMLLoadsBack(t *testing.T) {
	s := newSandbox(t)
	cfg, err := s.loadText(t, everyKey)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := cfg.WriteTOML(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`interval = "1m30s"`, "[spaces.production]", "auto_create = false"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
	src := s.source()
	src.Path = s.write(t, "shown.toml", buf.String())
	again, err := Load(src)
	if err != nil {
		t.Fatalf("reloading the shown configuration: %v\n%s", err, buf.String())
	}
	again.File = cfg.File
	if !reflect.DeepEqual(again, cfg) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", again, cfg)
	}
}

func TestMCPPrecedence(t *testing.T) {
	const file = "[mcp]\nlisten = \"127.0.0.1:1003\"\npath = \"/file\"\n"
	for _, tc := range []struct {
		name                 string
		file, env, flag      bool
		wantListen, wantPath string
	}{
		{"defaults", false, false, false, DefaultMCPListen, DefaultMCPPath},
		{"file over default", true, false, false, "127.0.0.1:1003", "/file"},
		{"env over file", true, true, false, "127.0.0.1:2003", "/env"},
		{"flag over env", true, true, true, "127.0.0.1:3003", "/env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			src := s.source()
			if tc.file {
				src.Path = s.write(t, "config.toml", file)
			}
			if tc.env {
				s.env[EnvMCPListen], s.env[EnvMCPPath] = "127.0.0.1:2003", "/env"
			}
			if tc.flag {
				src.MCPListen = "127.0.0.1:3003"
			}
			cfg, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MCP.Listen != tc.wantListen || cfg.MCP.Path != tc.wantPath {
				t.Fatalf("got %+v, want listen %s path %s", cfg.MCP, tc.wantListen, tc.wantPath)
			}
			if !hasFrontend(cfg.Server.Frontends, "mcp") {
				t.Fatalf("frontends %v: the MCP endpoint is on by default", cfg.Server.Frontends)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	const file = `
[server]
http_listen = "127.0.0.1:1001"
grpc_listen = "127.0.0.1:1002"
[persistence]
data_root = "/from/file"
`
	type layer struct{ file, env, flag bool }
	for _, tc := range []struct {
		name                string
		layer               layer
		wantHTTP, wantGRPC  string
		wantRoot            string
		wantDefaultDataRoot bool
	}{
		{"defaults", layer{}, DefaultHTTPListen, DefaultGRPCListen, "", true},
		{"file over default", layer{file: true}, "127.0.0.1:1001", "127.0.0.1:1002", "/from/file", false},
		{"env over file", layer{file: true, env: true}, "127.0.0.1:2001", "127.0.0.1:2002", "/from/env", false},
		{"flag over env", layer{file: true, env: true, flag: true}, "127.0.0.1:3001", "127.0.0.1:3002", "/from/flag", false},
		{"flag over file", layer{file: true, flag: true}, "127.0.0.1:3001", "127.0.0.1:3002", "/from/flag", false},
		{"env over default", layer{env: true}, "127.0.0.1:2001", "127.0.0.1:2002", "/from/env", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			src := s.source()
			if tc.layer.file {
				src.Path = s.write(t, "config.toml", file)
			}
			if tc.layer.env {
				s.env[EnvHTTPListen] = "127.0.0.1:2001"
				s.env[EnvGRPCListen] = "127.0.0.1:2002"
				s.env[EnvDataRoot] = "/from/env"
			}
			if tc.layer.flag {
				src.HTTPListen, src.GRPCListen, src.DataRoot = "127.0.0.1:3001", "127.0.0.1:3002", "/from/flag"
			}
			cfg, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			wantRoot := tc.wantRoot
			if tc.wantDefaultDataRoot {
				wantRoot = filepath.Join(s.home, ".local/share/engram")
			}
			if cfg.Server.HTTPListen != tc.wantHTTP || cfg.Server.GRPCListen != tc.wantGRPC || cfg.Persistence.DataRoot != wantRoot {
				t.Fatalf("got http=%s grpc=%s root=%s, want %s %s %s", cfg.Server.HTTPListen, cfg.Server.GRPCListen,
					cfg.Persistence.DataRoot, tc.wantHTTP, tc.wantGRPC, wantRoot)
			}
			if cfg.PIDPath != filepath.Join(wantRoot, PIDFileName) {
				t.Fatalf("PIDPath = %s, want it in the data root", cfg.PIDPath)
			}
		})
	}
}

// TestHTTPDocsPrecedence: [http] docs comes from the flag, else ENGRAM_HTTP_DOCS, else the
// file, else true; a value that is not a boolean names its source.
func TestHTTPDocsPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name             string
		file, env, flag  string
		want             bool
		wantErrMentioned string
	}{
		{"default on", "", "", "", true, ""},
		{"file off", "[http]\ndocs = false\n", "", "", false, ""},
		{"env over file", "[http]\ndocs = false\n", "true", "", true, ""},
		{"flag over env", "", "true", "false", false, ""},
		{"bad env", "", "maybe", "", false, EnvHTTPDocs},
		{"bad file", "[http]\ndocs = \"no\"\n", "", "", false, "docs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			src := s.source()
			if tc.file != "" {
				src.Path = s.write(t, "config.toml", tc.file)
			}
			if tc.env != "" {
				s.env[EnvHTTPDocs] = tc.env
			}
			src.HTTPDocs = tc.flag
			cfg, err := Load(src)
			switch {
			case tc.wantErrMentioned != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErrMentioned) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErrMentioned)
				}
			case err != nil:
				t.Fatal(err)
			case cfg.HTTP.Docs != tc.want || cfg.FrontendOptions().HideAPIDocs == tc.want:
				t.Fatalf("docs = %v (HideAPIDocs %v), want %v", cfg.HTTP.Docs, cfg.FrontendOptions().HideAPIDocs, tc.want)
			}
		})
	}
}

func TestPIDPathFromEnvironment(t *testing.T) {
	s := newSandbox(t)
	s.env[EnvPIDPath] = "~/run/engram.pid"
	cfg, err := Load(s.source())
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(s.home, "run", "engram.pid"); cfg.PIDPath != want {
		t.Fatalf("PIDPath = %s, want %s", cfg.PIDPath, want)
	}
}

func TestFileLookup(t *testing.T) {
	const (
		flagFile = "[log]\nlevel = \"error\"\n"
		envFile  = "[log]\nlevel = \"warn\"\n"
		userFile = "[log]\nlevel = \"debug\"\n"
	)
	for _, tc := range []struct {
		name            string
		flag, env, user bool
		wantLevel       string
		wantFile        string
	}{
		{"nothing", false, false, false, "info", ""},
		{"user config dir", false, false, true, "debug", "xdg-config/engram/config.toml"},
		{"ENGRAM_CONFIG over user dir", false, true, true, "warn", "env.toml"},
		{"flag over ENGRAM_CONFIG", true, true, true, "error", "flag.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			src := s.source()
			if tc.flag {
				src.Path = s.write(t, "flag.toml", flagFile)
			}
			if tc.env {
				s.env[EnvConfig] = s.write(t, "env.toml", envFile)
			}
			if tc.user {
				s.write(t, "xdg-config/engram/config.toml", userFile)
			}
			cfg, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			wantFile := ""
			if tc.wantFile != "" {
				wantFile = filepath.Join(s.root, tc.wantFile)
			}
			if cfg.Log.Level != tc.wantLevel || cfg.File != wantFile {
				t.Fatalf("level=%s file=%s, want %s %s", cfg.Log.Level, cfg.File, tc.wantLevel, wantFile)
			}
		})
	}
}

func TestExplicitMissingFileIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(s *sandbox, src *Source)
	}{
		{"flag", func(s *sandbox, src *Source) { src.Path = filepath.Join(s.root, "missing.toml") }},
		{"environment", func(s *sandbox, src *Source) { s.env[EnvConfig] = filepath.Join(s.root, "missing.toml") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			src := s.source()
			tc.set(s, &src)
			_, err := Load(src)
			if !errors.Is(err, ErrFileNotFound) || !strings.Contains(err.Error(), "missing.toml") {
				t.Fatalf("err = %v, want ErrFileNotFound naming the file", err)
			}
		})
	}
}

func TestBadFiles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		kind     error
		line     int
		contains []string
	}{
		{"syntax error", "[server]\nhttp_listen = \"127.0.0.1:1\"\ngrpc_listen = = 3\n", ErrSyntax, 3, nil},
		{"unterminated table", "\n\n[persistence\n", ErrSyntax, 3, nil},
		{"unknown key", "[persistence]\nhot_capacity = 5\n\n# typo below\nhot_capacty = 7\n", ErrUnknownKey, 5,
			[]string{`"hot_capacty"`, "[persistence]", "hot_capacity"}},
		{"unknown section", "[log]\nlevel = \"info\"\n[persistense]\ndata_root = \"/x\"\n", ErrUnknownKey, 3,
			[]string{`"persistense"`}},
		{"unknown dotted key", "[server]\nfrontends = [\n  \"http\",\n]\ntls.cert = \"x\"\n", ErrUnknownKey, 5,
			[]string{`"tls"`, "[server]"}},
		{"unknown key in a space table", "[spaces.prod]\nhot_capacity = 5\nhot_capcity = 6\n", ErrUnknownKey, 3,
			[]string{`"hot_capcity"`, "[spaces.prod]"}},
		{"scalar under spaces", "[spaces]\nauto_create = true\nbogus = 3\n", ErrUnknownKey, 3, []string{`"bogus"`}},
		{"wrong type", "[persistence]\n\nhot_capacity = \"lots\"\n", ErrInvalidValue, 3,
			[]string{"persistence.hot_capacity", "wrong type"}},
		{"wrong type in spaces", "[spaces]\nauto_create = \"yes\"\n", ErrInvalidValue, 2, []string{"spaces.auto_create"}},
		{"wrong type in a space table", "[spaces.prod]\nrate_limit = \"fast\"\n", ErrInvalidValue, 2,
			[]string{"spaces.prod.rate_limit"}},
		{"duration without unit", "[consolidation]\ninterval = 60\n", ErrInvalidValue, 2,
			[]string{"consolidation.interval", "60s"}},
		{"bad duration", "[consolidation]\nmin_age = \"soon\"\n", ErrInvalidValue, 2, []string{"consolidation.min_age"}},
		{"bad wal_sync", "[persistence]\nwal_sync = \"sometimes\"\n", ErrInvalidValue, 2,
			[]string{"persistence.wal_sync", "sometimes", "always, interval, never"}},
		{"bad per-space wal_sync", "[spaces.prod]\nwal_sync = \"often\"\n", ErrInvalidValue, 2, []string{"spaces.prod.wal_sync"}},
		{"bad provider", "[embedding]\nprovider = \"cohere\"\n", ErrInvalidValue, 2, []string{"embedding.provider", "hash, none, openai, ollama"}},
		{"provider without a model", "[embedding]\nprovider = \"openai\"\n", ErrInvalidValue, 2, []string{"embedding.model", "required"}},
		{"provider URL", "[embedding]\nprovider = \"ollama\"\nmodel = \"m\"\nurl = \"localhost:11434\"\n", ErrInvalidValue, 4, []string{"embedding.url"}},
		{"dimensions unlike the space's", "[embedding]\nprovider = \"openai\"\nmodel = \"m\"\ndimensions = 1536\n", ErrInvalidValue, 4,
			[]string{"embedding.dimensions", "768"}},
		{"per-space provider", "[spaces.alpha.embedding]\nprovider = \"ollama\"\n", ErrInvalidValue, 2, []string{"spaces.alpha.embedding.model"}},
		{"unknown per-space embedding key", "[spaces.alpha.embedding]\nmodle = \"m\"\n", ErrUnknownKey, 2, []string{"modle"}},
		{"bad auth", "[security]\nauth = \"jwt\"\n", ErrInvalidValue, 2, []string{"security.auth", "none, api_key"}},
		{"bad log level", "[log]\nlevel = \"loud\"\n", ErrInvalidValue, 2, []string{"log.level"}},
		{"uppercase space id", "[spaces.Prod]\nhot_capacity = 5\n", ErrInvalidValue, 1, []string{`"Prod"`, "space id"}},
		{"short space id", "[spaces.ab]\nhot_capacity = 5\n", ErrInvalidValue, 1, []string{`"ab"`}},
		{"negative capacity", "[persistence]\nwarm_capacity = -1\n", ErrInvalidValue, 2, []string{"persistence.warm_capacity"}},
		{"zero max_spaces", "[spaces]\nmax_spaces = 0\n", ErrInvalidValue, 2, []string{"spaces.max_spaces"}},
		{"bad listen address", "[server]\nhttp_listen = \"localhost\"\n", ErrInvalidValue, 2, []string{"server.http_listen"}},
		{"bad port", "[server]\ngrpc_listen = \"127.0.0.1:99999\"\n", ErrInvalidValue, 2, []string{"server.grpc_listen"}},
		{"bad MCP path", "[mcp]\npath = \"mcp\"\n", ErrInvalidValue, 2, []string{"mcp.path"}},
		{"MCP on the HTTP port", "[mcp]\nlisten = \"127.0.0.1:7432\"\n", ErrInvalidValue, 2, []string{"mcp.listen"}},
		{"no frontends", "[server]\nfrontends = []\n", ErrInvalidValue, 2, []string{"server.frontends"}},
		{"duplicate listener", "[server]\nhttp_listen = \"127.0.0.1:7000\"\n[spaces.prod]\nhttp_listen = \"127.0.0.1:7000\"\n",
			ErrInvalidValue, 4, []string{"spaces.prod.http_listen", "server.http_listen"}},
		{"content over the engine limit", "[limits]\nmax_content_bytes = 200000\n", ErrInvalidValue, 2,
			[]string{"limits.max_content_bytes", "102400"}},
		{"background share over every CPU", "[limits]\nbackground_max_share = 1.5\n", ErrInvalidValue, 2,
			[]string{"limits.background_max_share", "1.5"}},
		{"background share under the base", "[limits]\nbackground_max_share = 0.01\n", ErrInvalidValue, 2,
			[]string{"limits.background_max_share", "0.05"}},
		{"background lag not positive", "[limits]\nmax_background_lag = \"0s\"\n", ErrInvalidValue, 2,
			[]string{"limits.max_background_lag", "positive"}},
		{"index lag bytes not positive", "[limits]\nmax_index_lag_bytes = 0\n", ErrInvalidValue, 2,
			[]string{"limits.max_index_lag_bytes", "positive"}},
		{"dimension out of range", "[embedding]\ndimension = 0\n", ErrInvalidValue, 2, []string{"embedding.dimension"}},
		{"tilde of another user", "[persistence]\ndata_root = \"~bob/engram\"\n", ErrInvalidValue, 2,
			[]string{"persistence.data_root", "~bob"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			_, err := s.loadText(t, tc.text)
			t.Log(err)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %T, want *Error", err)
			}
			if ce.Line != tc.line || ce.File != filepath.Join(s.root, "config.toml") {
				t.Fatalf("located at %s:%d, want config.toml:%d (%v)", ce.File, ce.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), ":"+strconv.Itoa(tc.line)+":") {
				t.Fatalf("message %q does not show the line", err)
			}
			for _, want := range tc.contains {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestDataRootThatIsAFile(t *testing.T) {
	s := newSandbox(t)
	file := s.write(t, "not-a-dir", "x")
	_, err := s.loadText(t, "[persistence]\ndata_root = \""+file+"\"\n")
	var ce *Error
	if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidValue) || ce.Line != 2 || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("err = %v, want an invalid data_root at line 2", err)
	}
}

func TestBadOverrideNamesItsSource(t *testing.T) {
	s := newSandbox(t)
	s.env[EnvHTTPListen] = "nonsense"
	_, err := Load(s.source())
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), EnvHTTPListen) {
		t.Fatalf("err = %v, want it to name %s", err, EnvHTTPListen)
	}
	src := s.source()
	delete(s.env, EnvHTTPListen)
	src.GRPCListen = "127.0.0.1"
	_, err = Load(src)
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), "--grpc") {
		t.Fatalf("err = %v, want it to name --grpc", err)
	}
}

// A configuration migrated from the Rust server: its sections without meaning here are
// ignored with a notice each, its keys that exist here are read.
const rustConfig = `
[feature_flags]
spreading_api_beta = true

[server]
http_bind = "127.0.0.2"

[memory_spaces]
default_space = "default"
bootstrap_spaces = ["default", "tenant-a"]

[persistence]
data_root = "~/engram-data"
hot_capacity = 100_000
warm_capacity = 1_000_000
cold_capacity = 10_000_000

[cluster]
enabled = false

[cluster.swim]
ping_interval = "1s"

[router]
max_retries = 3

[monitoring]
prometheus_port = 9090
`

func TestRustSectionsAreIgnoredWithNotices(t *testing.T) {
	s := newSandbox(t)
	cfg, err := s.loadText(t, rustConfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, section := range []string{"feature_flags", "memory_spaces", "cluster", "router", "monitoring"} {
		n := 0
		for _, notice := range cfg.Notices {
			if strings.Contains(notice, "["+section+"]") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d notices for [%s], want 1: %q", n, section, cfg.Notices)
		}
	}
	if cfg.Server.HTTPListen != "127.0.0.2:7432" || cfg.Server.HTTPBind != "" {
		t.Errorf("http_bind folded to http_listen=%q (bind %q), want 127.0.0.2:7432", cfg.Server.HTTPListen, cfg.Server.HTTPBind)
	}
	if cfg.Persistence.DataRoot != filepath.Join(s.home, "engram-data") || cfg.Persistence.HotCapacity != 100000 {
		t.Errorf("persistence = %+v", cfg.Persistence)
	}
}

func TestRustSectionsHaveHints(t *testing.T) {
	for _, s := range RustSections() {
		if hint, ok := rustSectionHint(s); !ok || hint == "" {
			t.Errorf("no hint for [%s]", s)
		}
	}
	if _, ok := rustSectionHint("persistence"); ok {
		t.Error("[persistence] must not be ignored")
	}
}

func TestPaths(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		env      env
		flag     string
		wantRoot string // relative to the sandbox root
		wantKeys string
	}{
		{"tilde in file", "[persistence]\ndata_root = \"~/d\"\n[security]\nkeys_file = \"~/k.json\"\n", nil, "", "home/d", "home/k.json"},
		{"bare tilde", "[persistence]\ndata_root = \"~\"\n", nil, "", "home", "home/keys.json"},
		{"relative in file is next to the file", "[persistence]\ndata_root = \"data\"\n", nil, "", "data", "data/keys.json"},
		{"relative keys file is under data_root", "[persistence]\ndata_root = \"/abs/root\"\n[security]\nkeys_file = \"sub/k.json\"\n",
			nil, "", "/abs/root", "/abs/root/sub/k.json"},
		{"relative env is from the work dir", "", env{EnvDataRoot: "envdata"}, "", "work/envdata", "work/envdata/keys.json"},
		{"tilde in flag", "", nil, "~/flagdata", "home/flagdata", "home/flagdata/keys.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			for k, v := range tc.env {
				s.env[k] = v
			}
			src := s.source()
			src.Path = s.write(t, "config.toml", tc.text)
			src.DataRoot = tc.flag
			cfg, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			abs := func(p string) string {
				if filepath.IsAbs(p) {
					return p
				}
				return filepath.Join(s.root, p)
			}
			if cfg.Persistence.DataRoot != abs(tc.wantRoot) || cfg.Security.KeysFile != abs(tc.wantKeys) {
				t.Fatalf("data_root=%s keys_file=%s, want %s %s", cfg.Persistence.DataRoot, cfg.Security.KeysFile,
					abs(tc.wantRoot), abs(tc.wantKeys))
			}
		})
	}
}

func TestEngineConfigMapping(t *testing.T) {
	c := everyKeyConfig("")
	ec := c.EngineConfig()
	if ec.DataRoot != "/srv/engram" || ec.AutoCreate || ec.MaxSpaces != 14 || ec.MaxOpenSpaces != 15 ||
		ec.EmbeddingProvider != "none" {
		t.Fatalf("engine config = %+v", ec)
	}
	d := ec.Defaults
	if d.HotCapacity != 11 || d.WarmCapacity != 12 || d.ColdCapacity != 13 || d.Dimension != 384 ||
		d.WALSync != "interval" || d.WALSegmentBytes != 1<<20 {
		t.Fatalf("defaults = %+v", d)
	}
	p := ec.Spaces["production"]
	if p.HotCapacity != 21 || p.Dimension != 24 || p.RateLimit != 25.5 || p.WALSync != "never" || p.HTTPListen != "127.0.0.1:8003" {
		t.Fatalf("production = %+v", p)
	}
	if ec.Consolidation.Enabled || ec.Consolidation.Interval != 90*time.Second || ec.Consolidation.MinAge != 150*time.Minute {
		t.Fatalf("consolidation = %+v", ec.Consolidation)
	}
	if ec.BackgroundMaxShare != 0.25 {
		t.Fatalf("background max share = %v", ec.BackgroundMaxShare)
	}
	fo := c.FrontendOptions()
	if fo.HTTPListen != "127.0.0.1:8001" || fo.GRPCListen != "127.0.0.1:8002" || fo.MaxBodyBytes != 1000 ||
		fo.MaxContentBytes != 500 || fo.MaxBatchItems != 7 {
		t.Fatalf("frontend options = %+v", fo)
	}
	if !reflect.DeepEqual(fo.SpaceListeners, map[string]string{"production": "127.0.0.1:8003"}) {
		t.Fatalf("space listeners = %v", fo.SpaceListeners)
	}
}

func TestLocateKey(t *testing.T) {
	const text = `# comment
title = "x"
[server]
frontends = [
  "a = b",
  "[fake]",
]
note = """
hot_capacity = 1
"""
http_listen = "x" # hot_capacity = 2
[ spaces . "prod" ]
hot_capacity = 3
[[list]]
dotted.key = 4
`
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"title", 2},
		{"server", 3},
		{"server.frontends", 4},
		{"server.http_listen", 11},
		{"server.hot_capacity", 0},
		{"fake", 0},
		{"spaces", 12},
		{"spaces.prod", 12},
		{"spaces.prod.hot_capacity", 13},
		{"list.dotted", 15},
		{"list.dotted.key", 15},
		{"absent", 0},
	} {
		if got := locateKey(text, strings.Split(tc.key, ".")); got != tc.want {
			t.Errorf("locateKey(%s) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

func TestSpaceEmbeddingAndKeys(t *testing.T) {
	const file = `
[embedding]
provider = "openai"
model = "m1"
url = "https://models.example/v1/embeddings"
api_key_env = "EMB_KEY"
batch_size = 8

[spaces.alpha.embedding]
model = "m2"

[spaces.beta.embedding]
provider = "ollama"
model = "m3"
`
	s := newSandbox(t)
	cfg, err := s.loadText(t, file)
	if err != nil {
		t.Fatal(err)
	}
	ec := cfg.EngineConfig()
	if err := cfg.ResolveEmbeddingKeys(func(k string) string { return map[string]string{"EMB_KEY": "sk-1"}[k] }, &ec); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id                   string
		provider, model, url string
		key                  string
		batch                int
	}{
		{"default", "openai", "m1", "https://models.example/v1/embeddings", "sk-1", 8},
		{"alpha", "openai", "m2", "https://models.example/v1/embeddings", "sk-1", 8},
		{"beta", "ollama", "m3", "", "", 0},
	} {
		got := ec.EmbeddingFor(tc.id)
		if got.Provider != tc.provider || got.Model != tc.model || got.URL != tc.url || got.APIKey != tc.key || got.BatchSize != tc.batch {
			t.Errorf("space %s: %+v", tc.id, got)
		}
	}
	err = cfg.ResolveEmbeddingKeys(func(string) string { return "" }, &ec)
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), "EMB_KEY") {
		t.Fatalf("empty key variable: %v", err)
	}
}
