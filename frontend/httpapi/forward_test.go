package httpapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/internal/enginetest"
)

// tcpNode is an engine and HTTP frontend on a loopback TCP port, as a cluster node is:
// forwarding dials the owner's advertised address.
type tcpNode struct {
	*testServer
	addr string
}

func newTCPNode(t *testing.T, id string, router frontend.Router, ln net.Listener, more ...func(*frontend.Options)) *tcpNode {
	t.Helper()
	cfg := enginetest.Config(t, testDim)
	eng := enginetest.Open(t, cfg)
	opts := frontend.Options{Logger: discard, Engine: eng, Router: router, NodeID: id}
	for _, f := range more {
		f(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ServeOn(ln, ""); err != nil {
		t.Fatal(err)
	}
	frontendtest.StopAtCleanup(t, srv, eng)
	return &tcpNode{testServer: &testServer{t: t, eng: eng, srv: srv}, addr: ln.Addr().String()}
}

func listenTCP(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// plain sends r to addr without the OpenAPI check: forwarded answers are the owner's,
// whatever they are.
func plain(t *testing.T, addr string, r req) answer {
	t.Helper()
	c := &http.Client{}
	t.Cleanup(c.CloseIdleConnections)
	return (&testServer{}).sendTo(t, c, "http://"+addr, r)
}

func TestForwardToOwner(t *testing.T) {
	lnA, lnB := listenTCP(t), listenTCP(t)
	ownerB := frontend.Owner{NodeID: "b", HTTP: lnB.Addr().String()}
	ownerA := frontend.Owner{NodeID: "a", HTTP: lnA.Addr().String()}
	a := newTCPNode(t, "a", frontendtest.Router{
		Owners: map[string]frontend.Owner{"remote": ownerB},
		Errs:   map[string]error{"moving": errors.New("partition 2 has no owner")},
	}, lnA)
	b := newTCPNode(t, "b", frontendtest.Router{Owners: map[string]frontend.Owner{"elsewhere": ownerA}}, lnB)

	// A remember for a space B serves, sent to A, is stored by B and answered by B.
	got := plain(t, a.addr, req{method: http.MethodPost, path: "/api/v1/memories/remember?space=remote",
		body: `{"content":"forwarded once","tags":["x"]}`}).expectStatus(t, http.StatusCreated)
	id, _ := got.object(t)["memory_id"].(string)
	if id == "" {
		t.Fatalf("no memory_id: %s", got.body)
	}
	if _, err := b.eng.Space("remote"); err != nil {
		t.Fatalf("owner B has no space remote: %v", err)
	}
	if _, err := a.eng.Space("remote"); err == nil {
		t.Fatal("node A created the forwarded space locally")
	}
	plain(t, a.addr, req{path: "/api/v1/memories/" + id, header: map[string]string{"X-Memory-Space": "remote"}}).expectStatus(t, http.StatusOK)
	// Isolation: the memory is in remote only.
	plain(t, b.addr, req{path: "/api/v1/memories/" + id, header: map[string]string{"X-Memory-Space": "other"}}).expectStatus(t, http.StatusNotFound)
	if n := a.srv.opts.Forwards.HTTP.OK.Load(); n != 2 {
		t.Fatalf("forwards counted %d, want 2", n)
	}

	// A listener of A pinned to remote forwards with the space it stands for.
	pinned := listenTCP(t)
	if err := a.srv.ServeOn(pinned, "remote"); err != nil {
		t.Fatal(err)
	}
	plain(t, pinned.Addr().String(), req{method: http.MethodPost, path: "/api/v1/memories/remember",
		body: `{"content":"through the pinned listener"}`}).expectStatus(t, http.StatusCreated)
	if sp, _ := b.eng.Space("remote"); sp.Stats().Memories != 2 {
		t.Fatalf("owner B's remote holds %d memories, want 2", sp.Stats().Memories)
	}
	if sp, _ := b.eng.Space("default"); sp != nil && sp.Stats().Memories != 0 {
		t.Fatal("the pinned listener's write landed in B's default space")
	}

	// Local spaces and routes about no space are answered by the node asked.
	plain(t, a.addr, req{method: http.MethodPost, path: "/api/v1/memories/remember",
		body: `{"content":"stays here"}`}).expectStatus(t, http.StatusCreated)
	if sp, _ := b.eng.Space("default"); sp != nil && sp.Stats().Memories != 0 {
		t.Fatal("a local write reached B")
	}
	plain(t, a.addr, req{path: "/health"}).expectStatus(t, http.StatusOK)

	cases := []struct {
		name, addr string
		r          req
	}{
		// B is asked for a space it says A serves, by a request A already forwarded.
		{"second hop", b.addr, req{method: http.MethodPost, path: "/api/v1/memories/remember",
			body: `{"content":"x"}`, header: map[string]string{"X-Memory-Space": "elsewhere", frontend.ForwardedByHeader: "a"}}},
		{"no owner", a.addr, req{path: "/api/v1/memories/recall?query=x&space=moving"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ans := plain(t, tc.addr, tc.r)
			ans.expectError(t, http.StatusServiceUnavailable, frontend.CodeNotOwner)
			if ans.header.Get("Retry-After") == "" {
				t.Fatal("no Retry-After")
			}
		})
	}
	if _, err := b.eng.Space("elsewhere"); err == nil {
		t.Fatal("the refused second hop created a space")
	}
}

func TestForwardPreservesRequestAndAnswer(t *testing.T) {
	type seen struct {
		method, uri, body, hop, custom, ctype string
	}
	got := make(chan seen, 1)
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, string(b), r.Header.Get(frontend.ForwardedByHeader), r.Header.Get("X-Custom"), r.Header.Get("Content-Type")}
		w.Header().Set("X-Owner", "b")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"from":"owner"}`)
	}))
	defer owner.Close()
	ownerAddr := strings.TrimPrefix(owner.URL, "http://")
	a := newTCPNode(t, "node-a", frontendtest.Router{Owners: map[string]frontend.Owner{"remote": {NodeID: "b", HTTP: ownerAddr}}}, listenTCP(t))

	body := `{"query":"cats","memory_space":"remote"}`
	ans := plain(t, a.addr, req{method: http.MethodPost, path: "/api/v1/memories/recall?max_results=3", body: body,
		header: map[string]string{"X-Custom": "kept"}})
	if ans.status != http.StatusAccepted || string(ans.body) != `{"from":"owner"}` || ans.header.Get("X-Owner") != "b" ||
		ans.header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %v %s, want the owner's", ans.status, ans.header, ans.body)
	}
	s := <-got
	want := seen{http.MethodPost, "/api/v1/memories/recall?max_results=3", body, "node-a", "kept", "application/json"}
	if s != want {
		t.Fatalf("owner saw %+v, want %+v", s, want)
	}

	// An owner that does not answer is a 503 NOT_OWNER, counted as failed.
	owner.Close()
	plain(t, a.addr, req{path: "/api/v1/memories?space=remote"}).expectError(t, http.StatusServiceUnavailable, frontend.CodeNotOwner)
	if n := a.srv.opts.Forwards.HTTP.Failed.Load(); n != 1 {
		t.Fatalf("failed forwards %d, want 1", n)
	}
}

func TestForwardStreamsEvents(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	owner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "id: 1\nevent: storage\ndata: {\"memory_space_id\":\"remote\"}\n\n")
		w.(http.Flusher).Flush()
		<-release // the first event must reach the client while the stream is still open
		io.WriteString(w, "id: 2\nevent: storage\ndata: {}\n\n")
	}))
	defer owner.Close()
	defer once.Do(func() { close(release) })
	a := newTCPNode(t, "a", frontendtest.Router{Owners: map[string]frontend.Owner{
		"remote": {NodeID: "b", HTTP: strings.TrimPrefix(owner.URL, "http://")}}}, listenTCP(t))

	resp, err := http.Get("http://" + a.addr + "/api/v1/stream/activities?space=remote")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	rd := bufio.NewReader(resp.Body)
	for _, want := range []string{"id: 1", "event: storage"} {
		line, err := rd.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != want {
			t.Fatalf("line %q (%v), want %q", line, err, want)
		}
	}
	once.Do(func() { close(release) })
	rest, _ := io.ReadAll(rd)
	if !strings.Contains(string(rest), "id: 2") {
		t.Fatalf("rest of the stream %q lacks event 2", rest)
	}
}

// TestListSpacesOfTheCluster: GET /api/v1/spaces at any node lists every space of the
// cluster the key may see, those served elsewhere with the details their owner gives.
func TestListSpacesOfTheCluster(t *testing.T) {
	lnA, lnB := listenTCP(t), listenTCP(t)
	ownerA := frontend.Owner{NodeID: "a", HTTP: lnA.Addr().String()}
	ownerB := frontend.Owner{NodeID: "b", HTTP: lnB.Addr().String()}
	keys := frontendtest.Keys{
		"k-all":    {Name: "all", Spaces: []string{"*"}},
		"k-alpha":  {Name: "alpha", Spaces: []string{"alpha"}},
		"k-remote": {Name: "remote", Spaces: []string{"remote"}},
	}
	withAuth := func(o *frontend.Options) { o.Auth = keys }
	a := newTCPNode(t, "a", frontendtest.Router{Owners: map[string]frontend.Owner{"remote": ownerB, "stale": ownerB}}, lnA,
		withAuth, func(o *frontend.Options) { o.Directory = frontendtest.Directory{"alpha", "remote"} })
	b := newTCPNode(t, "b", frontendtest.Router{Owners: map[string]frontend.Owner{"alpha": ownerA}}, lnB, withAuth)
	bearer := func(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }

	for _, space := range []string{"alpha", "remote", "remote"} {
		plain(t, a.addr, req{method: http.MethodPost, path: "/api/v1/memories/remember?space=" + space,
			body: `{"content":"listed"}`, header: bearer("k-all")}).expectStatus(t, http.StatusCreated)
	}
	// B serves a space the cluster's list does not hold; A holds a space it no longer serves.
	plain(t, b.addr, req{method: http.MethodPost, path: "/api/v1/memories/remember?space=unlisted",
		body: `{"content":"only on b"}`, header: bearer("k-all")}).expectStatus(t, http.StatusCreated)
	if _, _, err := a.eng.CreateSpace("stale", engine.SpaceSettings{}); err != nil {
		t.Fatal(err)
	}

	type entry struct {
		id       string
		memories int
		root     string
	}
	list := func(addr string, header map[string]string) []entry {
		t.Helper()
		var out struct {
			Spaces []struct {
				ID              string `json:"id"`
				Memories        int    `json:"memories"`
				PersistenceRoot string `json:"persistence_root"`
				CreatedAt       string `json:"created_at"`
			} `json:"spaces"`
		}
		ans := plain(t, addr, req{path: "/api/v1/spaces", header: header}).expectStatus(t, http.StatusOK)
		if err := json.Unmarshal(ans.body, &out); err != nil {
			t.Fatal(err)
		}
		var got []entry
		for _, e := range out.Spaces {
			if e.CreatedAt == "" {
				t.Fatalf("space %s has no created_at: %s", e.ID, ans.body)
			}
			got = append(got, entry{e.ID, e.Memories, e.PersistenceRoot})
		}
		return got
	}
	rootA, rootB := a.eng.Config().DataRoot, b.eng.Config().DataRoot
	cases := []struct {
		name, addr string
		header     map[string]string
		want       []string
	}{
		// Each node serves its own default space here: A lists its own, not B's.
		{"every space, at the node serving one", a.addr, bearer("k-all"), []string{"alpha", "default", "remote"}},
		{"a key sees its spaces only", a.addr, bearer("k-alpha"), []string{"alpha"}},
		{"a key sees a space served elsewhere", a.addr, bearer("k-remote"), []string{"remote"}},
		{"asked by another node, the spaces served here", b.addr,
			map[string]string{"Authorization": "Bearer k-all", frontend.ForwardedByHeader: "a"}, []string{"default", "remote", "unlisted"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := list(tc.addr, tc.header)
			var ids []string
			for _, e := range got {
				ids = append(ids, e.id)
				want := map[string]entry{"alpha": {"alpha", 1, rootA}, "default": {"default", 0, map[string]string{a.addr: rootA, b.addr: rootB}[tc.addr]},
					"remote": {"remote", 2, rootB}, "unlisted": {"unlisted", 1, rootB}}[e.id]
				if e.memories != want.memories || !strings.HasPrefix(e.root, want.root) {
					t.Errorf("space %s: %d memories in %s, want %d in %s", e.id, e.memories, e.root, want.memories, want.root)
				}
			}
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("listed %v, want %v", ids, tc.want)
			}
		})
	}

	// A listed space without an owner, or whose owner does not answer, fails the listing.
	dead := listenTCP(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	for name, node := range map[string]*tcpNode{
		"no owner": newTCPNode(t, "c", frontendtest.Router{Errs: map[string]error{"moving": errors.New("partition 0 has no owner")}},
			listenTCP(t), func(o *frontend.Options) { o.Directory = frontendtest.Directory{"moving"} }),
		"owner gone": newTCPNode(t, "d", frontendtest.Router{Owners: map[string]frontend.Owner{"remote": {NodeID: "e", HTTP: deadAddr}}},
			listenTCP(t), func(o *frontend.Options) { o.Directory = frontendtest.Directory{"remote"} }),
	} {
		t.Run(name, func(t *testing.T) {
			ans := plain(t, node.addr, req{path: "/api/v1/spaces"})
			ans.expectError(t, http.StatusServiceUnavailable, frontend.CodeNotOwner)
			if ans.header.Get("Retry-After") == "" {
				t.Fatal("no Retry-After")
			}
		})
	}
}
