package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/engram-go/engram/frontend/apikey"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
)

var grpcAddrInLog = regexp.MustCompile(`msg="Engram server started".* grpc=(\S+)`)

// grpcAddr reads the bound gRPC address from the server's start line.
func (s *server) grpcAddr() string {
	s.t.Helper()
	return s.fromLog(grpcAddrInLog, "gRPC address")
}

// fromLog is the first group of re in the server's log so far.
func (s *server) fromLog(re *regexp.Regexp, what string) string {
	s.t.Helper()
	m := re.FindStringSubmatch(s.stderr.String())
	if m == nil {
		s.t.Fatalf("no %s in the log:\n%s", what, s.stderr)
	}
	return m[1]
}

// authCall is one HTTP request of the auth test.
type authCall struct {
	name, method, path, key, space, body string
	status                               int
	code                                 string
}

func (c authCall) do(t *testing.T, base string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if c.body != "" {
		rd = strings.NewReader(c.body)
	}
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, base+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.space != "" {
		req.Header.Set("X-Memory-Space", c.space)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	defer resp.Body.Close()
	// A stream that is allowed never ends by itself: read only its first bytes.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, resp.Header, b
}

func (c authCall) check(t *testing.T, base string) {
	t.Helper()
	st, h, b := c.do(t, base)
	if st != c.status {
		t.Errorf("%s: status %d, want %d: %s", c.name, st, c.status, b)
		return
	}
	if c.code == "" {
		return
	}
	var shape struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(b, &shape); err != nil || shape.Error.Code != c.code {
		t.Errorf("%s: want the JSON error %s, got %s", c.name, c.code, b)
	}
	if st == http.StatusUnauthorized && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("%s: 401 without WWW-Authenticate: Bearer", c.name)
	}
}

// keyCreate runs `engram key create --json` and returns the key and its id.
func keyCreate(t *testing.T, env []string, args ...string) (key, id string) {
	t.Helper()
	out := mustEngram(t, env, append([]string{"key", "create", "--json"}, args...)...)
	var ans struct{ ID, Key string }
	if err := json.Unmarshal([]byte(out), &ans); err != nil || !strings.HasPrefix(ans.Key, apikey.Prefix) || ans.ID == "" {
		t.Fatalf("key create printed %q (%v)", out, err)
	}
	return ans.Key, ans.ID
}

// authSetup makes a data root and a configuration file with auth = "api_key"; common are
// the flags that point `engram key` at them.
func authSetup(t *testing.T) (data, cfg string, common []string) {
	t.Helper()
	dir := t.TempDir()
	data, cfg = filepath.Join(dir, "data"), filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("[security]\nauth = \"api_key\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return data, cfg, []string{"--config", cfg, "--data-root", data}
}

// TestE2EAuth runs the real binary with auth = "api_key" and keys made by `engram key
// create`, then checks HTTP and gRPC: no key and wrong keys are refused, a key of space
// alpha is refused on beta whichever way beta is named, streams are checked, /shutdown
// needs an admin key, and a key revoked offline stops working without a restart.
func TestE2EAuth(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data, cfg, common := authSetup(t)
	alpha, _ := keyCreate(t, env, append(common, "--space", "alpha", "--name", "alpha-app")...)
	admin, _ := keyCreate(t, env, append(common, "--space", "*", "--admin", "--name", "ops")...)
	doomed, doomedID := keyCreate(t, env, append(common, "--space", "alpha", "--name", "doomed")...)
	wrong, _, err := apikey.NewKey()
	if err != nil {
		t.Fatal(err)
	}

	// Only hashes are on disk, readable by the owner only, and list never shows a key.
	raw, err := os.ReadFile(filepath.Join(data, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	list := mustEngram(t, env, append([]string{"key", "list"}, common...)...)
	listJSON := mustEngram(t, env, append([]string{"key", "list", "--json"}, common...)...)
	for _, k := range []string{alpha, admin, doomed} {
		secret := strings.TrimPrefix(k, apikey.Prefix)
		for what, s := range map[string]string{"keys file": string(raw), "key list": list, "key list --json": listJSON} {
			if strings.Contains(s, secret) {
				t.Fatalf("the %s holds a key", what)
			}
		}
	}
	if !strings.Contains(list, doomedID) || !strings.Contains(list, "alpha-app") || strings.Contains(listJSON, `"hash"`) {
		t.Fatalf("key list:\n%s\n%s", list, listJSON)
	}
	if info, err := os.Stat(filepath.Join(data, "keys.json")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("keys file mode: %v %v", info.Mode(), err)
	}

	srv := startServer(t, env, data, "--config", cfg)
	base := "http://" + srv.http
	rem := "/api/v1/memories/remember"
	for _, c := range []authCall{
		{name: "health is open", path: "/health", status: 200},
		{name: "liveness is open", path: "/health/alive", status: 200},
		{name: "no key", path: "/api/v1/memories", status: 401, code: "UNAUTHORIZED"},
		{name: "no key on system health", path: "/api/v1/system/health", status: 401, code: "UNAUTHORIZED"},
		{name: "no key on metrics", path: "/metrics", status: 401, code: "UNAUTHORIZED"},
		{name: "wrong key", path: "/api/v1/memories", key: wrong, space: "alpha", status: 401, code: "UNAUTHORIZED"},
		{name: "malformed key", path: "/api/v1/memories", key: "hunter2", space: "alpha", status: 401, code: "UNAUTHORIZED"},
		{name: "stored hash as key", path: "/api/v1/memories", key: apikey.HashKey(alpha), space: "alpha", status: 401, code: "UNAUTHORIZED"},
		{name: "no key on a stream", path: "/api/v1/stream/activities?space=alpha", status: 401, code: "UNAUTHORIZED"},

		{name: "alpha writes alpha", method: "POST", path: rem, key: alpha, space: "alpha", body: `{"content":"alpha secret"}`, status: 201},
		{name: "alpha reads alpha", path: "/api/v1/memories", key: alpha, space: "alpha", status: 200},
		{name: "alpha on beta by header", method: "POST", path: rem, key: alpha, space: "beta", body: `{"content":"x"}`, status: 403, code: "FORBIDDEN"},
		{name: "alpha on beta by query", method: "POST", path: rem + "?space=beta", key: alpha, body: `{"content":"x"}`, status: 403, code: "FORBIDDEN"},
		{name: "alpha on beta by body", method: "POST", path: rem, key: alpha, body: `{"content":"x","memory_space":"beta"}`, status: 403, code: "FORBIDDEN"},
		{name: "alpha on beta by body alias", method: "POST", path: rem, key: alpha, body: `{"content":"x","memory_space_id":"beta"}`, status: 403, code: "FORBIDDEN"},
		{name: "alpha on beta by batch items", method: "POST", path: "/api/v1/memories/batch", key: alpha, body: `[{"content":"x","memory_space":"beta"}]`, status: 403, code: "FORBIDDEN"},
		{name: "alpha recalls beta by query", path: "/api/v1/memories/recall?query=secret&space=beta", key: alpha, status: 403, code: "FORBIDDEN"},
		{name: "alpha recalls beta by POST body", method: "POST", path: "/api/v1/memories/recall", key: alpha, body: `{"query":"secret","memory_space":"beta"}`, status: 403, code: "FORBIDDEN"},
		{name: "alpha on the default space", path: "/api/v1/memories", key: alpha, status: 403, code: "FORBIDDEN"},
		{name: "alpha creates beta", method: "POST", path: "/api/v1/spaces", key: alpha, body: `{"id":"beta"}`, status: 403, code: "FORBIDDEN"},
		{name: "alpha reads beta's details", path: "/api/v1/spaces/beta", key: alpha, status: 403, code: "FORBIDDEN"},
		{name: "alpha deletes beta", method: "DELETE", path: "/api/v1/spaces/beta", key: alpha, status: 403, code: "FORBIDDEN"},
		{name: "alpha exports beta", path: "/api/v1/spaces/beta/export", key: alpha, status: 403, code: "FORBIDDEN"},
		{name: "alpha imports into beta", method: "POST", path: "/api/v1/spaces/beta/import", key: alpha, body: `{"content":"x"}`, status: 403, code: "FORBIDDEN"},
		{name: "alpha reads beta's health", path: "/api/v1/system/health?space=beta", key: alpha, status: 403, code: "FORBIDDEN"},
		{name: "SSE of beta by header", path: "/api/v1/stream/activities", key: alpha, space: "beta", status: 403, code: "FORBIDDEN"},
		{name: "SSE of beta by query", path: "/api/v1/stream/memories?space=beta", key: alpha, status: 403, code: "FORBIDDEN"},
		{name: "SSE of alpha", path: "/api/v1/stream/activities", key: alpha, space: "alpha", status: 200},
		{name: "admin writes beta", method: "POST", path: rem, key: admin, space: "beta", body: `{"content":"beta secret"}`, status: 201},
		{name: "alpha on metrics", path: "/metrics", key: alpha, status: 200},

		{name: "shutdown without key", method: "POST", path: "/shutdown", status: 401, code: "UNAUTHORIZED"},
		{name: "shutdown with a non-admin key", method: "POST", path: "/shutdown", key: alpha, status: 403, code: "FORBIDDEN"},
	} {
		c.check(t, base)
	}
	// With alpha's key the spaces list shows alpha only, though beta exists.
	if _, _, b := (authCall{name: "spaces", path: "/api/v1/spaces", key: alpha}).do(t, base); !strings.Contains(string(b), `"alpha"`) || strings.Contains(string(b), "beta") {
		t.Errorf("alpha's spaces list: %s", b)
	}

	// gRPC.
	conn, err := grpc.NewClient(srv.grpcAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rpc := pb.NewEngramServiceClient(conn)
	ctx := context.Background()
	withKey := func(key string, kv ...string) context.Context {
		if key != "" {
			kv = append(kv, "authorization", "Bearer "+key)
		}
		return metadata.AppendToOutgoingContext(ctx, kv...)
	}
	remember := func(space, content string) *pb.RememberRequest {
		return &pb.RememberRequest{MemorySpaceId: space, MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{Content: content}}}
	}
	wantCode := func(what string, err error, want codes.Code) {
		t.Helper()
		if status.Code(err) != want {
			t.Errorf("gRPC %s: %v, want %s", what, err, want)
		}
	}
	if hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc.health.v1 without a key: %v %v", hc, err)
	}
	_, err = rpc.Remember(withKey("", "x-memory-space", "alpha"), remember("", "x"))
	wantCode("Remember without key", err, codes.Unauthenticated)
	_, err = rpc.Remember(withKey(wrong, "x-memory-space", "alpha"), remember("", "x"))
	wantCode("Remember with a wrong key", err, codes.Unauthenticated)
	_, err = rpc.Remember(withKey(alpha, "x-memory-space", "alpha"), remember("", "alpha over gRPC"))
	wantCode("Remember in alpha", err, codes.OK)
	_, err = rpc.Remember(withKey(alpha, "x-memory-space", "beta"), remember("", "x"))
	wantCode("Remember in beta by metadata", err, codes.PermissionDenied)
	_, err = rpc.Remember(withKey(alpha), remember("beta", "x"))
	wantCode("Remember in beta by field", err, codes.PermissionDenied)
	_, err = rpc.Store(withKey(alpha), &pb.Episode{What: "x", MemorySpaceId: "beta"})
	wantCode("Store in beta", err, codes.PermissionDenied)
	_, err = rpc.Recall(withKey(alpha, "x-memory-space", "beta"), &pb.RecallRequest{Cue: &pb.Cue{CueType: &pb.Cue_Semantic{Semantic: &pb.SemanticCue{Query: "secret"}}}})
	wantCode("Recall in beta", err, codes.PermissionDenied)
	_, err = rpc.Forget(withKey(alpha), &pb.ForgetRequest{MemorySpaceId: "beta", Target: &pb.ForgetRequest_MemoryId{MemoryId: "x"}})
	wantCode("Forget in beta", err, codes.PermissionDenied)
	// A bidirectional stream reports a refused item in its response, item by item.
	sr, err := rpc.StreamingRemember(withKey(alpha, "x-memory-space", "beta"))
	var item *pb.RememberResponse
	if err == nil {
		if err = sr.Send(remember("", "x")); err == nil {
			item, err = sr.Recv()
		}
	}
	if err != nil || codes.Code(item.GetError().GetCode()) != codes.PermissionDenied || item.GetMemoryId() != "" {
		t.Errorf("gRPC StreamingRemember in beta: %v %v, want an item error PERMISSION_DENIED", item, err)
	}
	if sr != nil {
		sr.CloseSend()
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
		req  *pb.StreamRequest
		want codes.Code
	}{
		{"Stream without key", withKey("", "x-memory-space", "alpha"), &pb.StreamRequest{}, codes.Unauthenticated},
		{"Stream of beta by metadata", withKey(alpha, "x-memory-space", "beta"), &pb.StreamRequest{}, codes.PermissionDenied},
		{"Stream of beta by field", withKey(alpha), &pb.StreamRequest{MemorySpaceId: "beta"}, codes.PermissionDenied},
	} {
		st, err := rpc.Stream(c.ctx, c.req)
		if err == nil {
			_, err = st.Recv()
		}
		wantCode(c.name, err, c.want)
	}
	streamCtx, cancel := context.WithCancel(withKey(alpha, "x-memory-space", "alpha"))
	st, err := rpc.Stream(streamCtx, &pb.StreamRequest{})
	if err == nil {
		_, err = st.Header()
	}
	wantCode("Stream of alpha", err, codes.OK)
	cancel()
	spaces, err := rpc.ListSpaces(withKey(alpha), &pb.ListSpacesRequest{})
	if err != nil || len(spaces.GetSpaces()) != 1 || spaces.GetSpaces()[0].GetId() != "alpha" {
		t.Errorf("gRPC ListSpaces with alpha's key: %v %v", spaces, err)
	}

	// Revocation offline: the server refuses the key within its reload interval.
	(authCall{name: "doomed key before revocation", path: "/api/v1/memories", key: doomed, space: "alpha", status: 200}).check(t, base)
	if out := mustEngram(t, env, append([]string{"key", "revoke", doomedID}, common...)...); !strings.HasPrefix(out, "Revoked API key "+doomedID) {
		t.Fatalf("key revoke printed %q", out)
	}
	// The server looks at the file every 2 s; the deadline only guards against a hang.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatal("a revoked key is still accepted 30 s after the revocation")
		}
		st, _, b := (authCall{path: "/api/v1/memories", key: doomed, space: "alpha"}).do(t, base)
		if st == http.StatusUnauthorized {
			if !strings.Contains(string(b), "revoked") {
				t.Errorf("401 of a revoked key does not say so: %s", b)
			}
			break
		}
		if st != http.StatusOK {
			t.Fatalf("doomed key: status %d: %s", st, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, err = rpc.Remember(withKey(doomed, "x-memory-space", "alpha"), remember("", "x"))
	wantCode("Remember with a revoked key", err, codes.Unauthenticated)
	(authCall{name: "other keys still work", path: "/api/v1/memories", key: alpha, space: "alpha", status: 200}).check(t, base)

	// The admin key shuts the server down, and it exits cleanly.
	(authCall{name: "shutdown with the admin key", method: "POST", path: "/shutdown", key: admin, status: 200}).check(t, base)
	if code := srv.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit code %d after shutdown:\n%s", code, srv.stderr)
	}
	if logs := srv.stderr.String(); !strings.Contains(logs, "API keys loaded") || !strings.Contains(logs, "API keys reloaded") {
		t.Errorf("no key loading lines in the log:\n%s", logs)
	}
}

// TestE2EAuthRefusesBrokenKeysFile: a keys file that does not parse stops the start with
// a message naming it, rather than serving with no keys or old ones.
func TestE2EAuthRefusesBrokenKeysFile(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	keys := filepath.Join(dir, "keys.json")
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("[security]\nauth = \"api_key\"\nkeys_file = \""+keys+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, []byte(`{"version":1,"keys":[{"id":"k1","hash":"nothex"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := launch(t, env, data, "127.0.0.1:0", "127.0.0.1:0", "--config", cfg)
	if code := srv.wait(30 * time.Second); code == 0 || !strings.Contains(srv.stderr.String(), keys) || !strings.Contains(srv.stderr.String(), "hash") {
		t.Fatalf("start with a broken keys file: exit %d:\n%s", code, srv.stderr)
	}
}
