package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/apikey"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	// The gRPC frontend serves the same engine in this suite.
	_ "github.com/engram-go/engram/frontend/grpcapi"
)

// Each tenant of the isolation suite writes content carrying its own marker word.
var isoMarkers = []string{"aardvark", "bison", "cheetah", "dingo", "emu", "ferret", "gazelle", "hyena"}

const (
	isoNotes   = 12 // free-text memories per tenant
	isoShared  = 4  // memories per tenant under ids every tenant uses ("same-id-n")
	isoCluster = 4  // old, identical-vector episodes per tenant, for consolidation
)

func isoSpace(i int) string { return fmt.Sprintf("iso-%d", i) }

// tenant is what one space wrote and may see.
type tenant struct {
	space, marker, key string
	written            []string        // ids answered by the remember calls
	own                map[string]bool // every id the space holds at the end
	only               []string        // own ids no other tenant uses
}

// leakCheck fails when body, read from tenant i, shows anything of another tenant: its
// marker word, its space id or one of its ids.
type leakCheck struct {
	t       *testing.T
	tenants []*tenant
}

// clean checks body; echoes are the request's own words (a recall's query, a looked-up
// id), which answers may repeat back to the caller and which are removed first.
func (lc leakCheck) clean(i int, what string, body []byte, echoes ...string) {
	lc.t.Helper()
	s := string(body)
	for _, e := range echoes {
		s = strings.ReplaceAll(s, e, "")
	}
	for j, o := range lc.tenants {
		if j == i {
			continue
		}
		if strings.Contains(s, o.marker) || strings.Contains(s, o.space) {
			lc.t.Errorf("%s of %s shows %s's marker or space id: %.400s", what, lc.tenants[i].space, o.space, s)
			return
		}
		for _, id := range o.only {
			if strings.Contains(s, id) {
				lc.t.Errorf("%s of %s shows %s's memory %s", what, lc.tenants[i].space, o.space, id)
				return
			}
		}
	}
}

// TestIsolationSuite has eight tenants write concurrently into their own spaces, over
// HTTP, with API keys scoped to their space, then reads every path (recall in each mode,
// list, get, associations, search, probabilistic query, consolidations, SSE, gRPC Stream and Recall,
// /metrics, health, spaces) as each tenant and looks for any other tenant's data.
func TestIsolationSuite(t *testing.T) {
	keysFile := filepath.Join(t.TempDir(), "keys.json")
	tenants := make([]*tenant, len(isoMarkers))
	for i, m := range isoMarkers {
		key, _, err := apikey.Create(keysFile, apikey.Spec{Name: m, Spaces: []string{isoSpace(i)}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tenants[i] = &tenant{space: isoSpace(i), marker: m, key: key, own: map[string]bool{}}
	}
	store, err := apikey.Open(keysFile, apikey.Options{Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t,
		withFrontend(func(o *frontend.Options) { o.Auth = store }),
		withEngine(func(c *engine.Config) {
			c.Consolidation = engine.ConsolidationConfig{Enabled: false, MinAge: time.Hour}
		}))
	grpcFront, err := frontend.New("grpc", frontend.Options{Engine: ts.eng, Logger: discard, GRPCListen: "127.0.0.1:0", Auth: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := grpcFront.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { grpcFront.Stop(context.Background()) })
	conn, err := grpc.NewClient(grpcFront.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rpc := pb.NewEngramServiceClient(conn)
	grpcCtx := func(ctx context.Context, i int) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tenants[i].key, "x-memory-space", tenants[i].space)
	}
	as := func(i int, kv ...string) []string {
		return append([]string{"Authorization", "Bearer " + tenants[i].key, "X-Memory-Space", tenants[i].space}, kv...)
	}

	// Subscribe every tenant to its space's events before anything is written.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sse := make([]*http.Response, len(tenants))
	grpcStreams := make([]grpc.ServerStreamingClient[pb.StreamResponse], len(tenants))
	for i := range tenants {
		hr, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://engram.test/api/v1/stream/activities", nil)
		for k, v := range pairs(as(i)) {
			hr.Header.Set(k, v)
		}
		resp, err := ts.client.Do(hr)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("SSE of %s: %v %v", tenants[i].space, err, resp)
		}
		defer resp.Body.Close()
		sse[i] = resp
		st, err := rpc.Stream(grpcCtx(ctx, i), &pb.StreamRequest{EventTypes: []string{"storage"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Header(); err != nil { // the subscription is in place
			t.Fatalf("gRPC Stream of %s: %v", tenants[i].space, err)
		}
		grpcStreams[i] = st
	}

	// Write concurrently: free text, ids every tenant also uses, and a cluster of old
	// episodes with the same vector in every space.
	var wg sync.WaitGroup
	writeErrs := make([]error, len(tenants))
	for i, tn := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			writeErrs[i] = isoWrite(ts, i, tn, as(i))
		}()
	}
	wg.Wait()
	for _, err := range writeErrs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Consolidate every space at once.
	formed := make([]int, len(tenants))
	for i, tn := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp, err := ts.eng.Space(tn.space)
			if err == nil {
				formed[i], err = sp.Consolidate(context.Background())
			}
			writeErrs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range writeErrs {
		if err != nil || formed[i] < 1 {
			t.Fatalf("consolidation of %s: %d formed, %v", tenants[i].space, formed[i], err)
		}
	}

	// What each space holds, from the engine: exactly what its tenant wrote plus its own
	// consolidated memories, and none of another tenant's content.
	lc := leakCheck{t: t, tenants: tenants}
	sharedIDs := map[string]bool{}
	for n := 0; n < isoShared; n++ {
		sharedIDs[fmt.Sprint("same-id-", n)] = true
	}
	for i, tn := range tenants {
		sp, err := ts.eng.Space(tn.space)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sp.List(engine.ListOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Memories {
			tn.own[m.ID] = true
			if !strings.Contains(m.Content, tn.marker) {
				t.Errorf("%s holds %s with content %q", tn.space, m.ID, m.Content)
			}
			if !sharedIDs[m.ID] {
				tn.only = append(tn.only, m.ID)
			}
		}
		for _, id := range tn.written {
			if !tn.own[id] {
				t.Errorf("%s lacks its memory %s", tn.space, id)
			}
		}
		if want := len(tn.written) + formed[i]; len(tn.own) != want {
			t.Errorf("%s holds %d memories, want %d", tn.space, len(tn.own), want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Streams: every event is the tenant's own.
	for i, tn := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := isoReadSSE(sse[i], tn, lc, i); err != nil {
				t.Errorf("SSE of %s: %v", tn.space, err)
			}
			if err := isoReadGRPCStream(grpcStreams[i], tn); err != nil {
				t.Errorf("gRPC Stream of %s: %v", tn.space, err)
			}
		}()
	}
	wg.Wait()
	cancel()

	for i, tn := range tenants {
		getEcho := func(what, path string, echoes []string, kv ...string) []byte {
			t.Helper()
			a := ts.get(t, path, as(i, kv...)...)
			a.expectStatus(t, http.StatusOK)
			lc.clean(i, what, a.body, echoes...)
			return a.body
		}
		get := func(what, path string, kv ...string) []byte {
			t.Helper()
			return getEcho(what, path, nil, kv...)
		}
		// Recall by every tenant's marker, in every mode, with traces and metadata.
		for _, o := range tenants {
			query := o.marker + " note shared words"
			q := url.QueryEscape(query)
			for _, mode := range []string{"hybrid", "similarity", "spreading"} {
				b := getEcho("recall "+mode, "/api/v1/memories/recall?query="+q+"&mode="+mode+"&threshold=0&max_results=1000&trace_activation=true&include_metadata=true", []string{query})
				if o == tn && !strings.Contains(strings.ReplaceAll(string(b), query, ""), tn.marker) {
					t.Errorf("%s recall of %s finds none of its own memories: %.300s", mode, tn.space, b)
				}
			}
			b := getEcho("search", "/api/v1/memories/search?query="+url.QueryEscape(o.marker)+"&limit=1000", []string{o.marker})
			if o == tn && !strings.Contains(string(b), tn.written[0]) {
				t.Errorf("search of %s misses its own memory %s", tn.space, tn.written[0])
			}
			getEcho("probabilistic query", "/api/v1/query/probabilistic?query="+q+"&threshold=0&max_results=1000&include_evidence=true&include_uncertainty=true", []string{query})
		}
		// The cluster vector is the same in every space.
		get("recall by vector", "/api/v1/memories/recall?embedding="+url.QueryEscape(vec(3))+"&threshold=0&max_results=1000&mode=spreading&trace_activation=true")
		list := get("list", "/api/v1/memories?limit=1000&include_embeddings=true")
		var l struct {
			Memories []struct{ ID string } `json:"memories"`
		}
		if err := json.Unmarshal(list, &l); err != nil {
			t.Fatal(err)
		}
		if len(l.Memories) != len(tn.own) {
			t.Errorf("list of %s: %d memories, want %d", tn.space, len(l.Memories), len(tn.own))
		}
		for n := 0; n < isoShared; n++ {
			b := get("get of a shared id", fmt.Sprint("/api/v1/memories/same-id-", n))
			if !strings.Contains(string(b), tn.marker) {
				t.Errorf("same-id-%d read from %s is not its own: %s", n, tn.space, b)
			}
			get("associations of a shared id", fmt.Sprint("/api/v1/memories/same-id-", n, "/associations"))
		}
		cons := get("consolidations", "/api/v1/consolidations")
		var c struct {
			Beliefs []struct {
				ID        string
				Citations []struct {
					EpisodeID string `json:"episode_id"`
				}
			}
		}
		if err := json.Unmarshal(cons, &c); err != nil || len(c.Beliefs) != formed[i] {
			t.Fatalf("consolidations of %s: %v %s", tn.space, err, cons)
		}
		for _, b := range c.Beliefs {
			for _, cit := range b.Citations {
				if !tn.own[cit.EpisodeID] {
					t.Errorf("belief %s of %s cites %s, not its own", b.ID, tn.space, cit.EpisodeID)
				}
			}
			get("consolidation", "/api/v1/consolidations/"+b.ID)
		}
		metricsBody := get("metrics", "/metrics")
		for _, line := range strings.Split(string(metricsBody), "\n") {
			if k := strings.Index(line, `space="`); k >= 0 && !strings.HasPrefix(line[k:], `space="`+tn.space+`"`) {
				t.Errorf("/metrics with %s's key shows %s", tn.space, line)
			}
		}
		get("system health", "/api/v1/system/health")
		get("health of all spaces", "/api/v1/system/health", "X-Memory-Space", "")
		get("spaces", "/api/v1/spaces")
		get("space details", "/api/v1/spaces/"+tn.space)

		// Another tenant's ids are unknown here, whatever the route.
		for j, o := range tenants {
			if j == i {
				continue
			}
			a := ts.get(t, "/api/v1/memories/"+o.only[0], as(i)...)
			a.expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND")
			lc.clean(i, "get of another tenant's id", a.body, o.only[0])
			a = ts.do(t, req{method: http.MethodDelete, path: "/api/v1/memories/" + o.only[0], header: pairs(as(i))})
			a.expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND")
			a = ts.get(t, "/api/v1/memories/"+o.only[0]+"/associations", as(i)...)
			a.expectError(t, http.StatusNotFound, "MEMORY_NOT_FOUND")
			lc.clean(i, "associations of another tenant's id", a.body, o.only[0])
		}

		// gRPC reads.
		gctx := grpcCtx(context.Background(), i)
		for _, o := range tenants {
			resp, err := rpc.Recall(gctx, &pb.RecallRequest{
				Cue:             &pb.Cue{CueType: &pb.Cue_Semantic{Semantic: &pb.SemanticCue{Query: o.marker + " note shared words"}}},
				MaxResults:      1000,
				TraceActivation: true,
				IncludeMetadata: true,
			})
			if err != nil {
				t.Fatalf("gRPC Recall in %s: %v", tn.space, err)
			}
			b, _ := json.Marshal(resp)
			lc.clean(i, "gRPC Recall", b, o.marker+" note shared words")
			for _, m := range resp.GetMemories() {
				if !tn.own[m.GetId()] {
					t.Errorf("gRPC Recall in %s returned %s", tn.space, m.GetId())
				}
			}
		}
		spaces, err := rpc.ListSpaces(gctx, &pb.ListSpacesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(spaces.GetSpaces()) != 1 || spaces.GetSpaces()[0].GetId() != tn.space {
			t.Errorf("gRPC ListSpaces with %s's key: %v", tn.space, spaces.GetSpaces())
		}
		health, err := rpc.Health(gctx, &pb.HealthRequest{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(health)
		lc.clean(i, "gRPC Health", b)
	}

	// After all those reads, every space still holds exactly its own memories.
	for _, tn := range tenants {
		sp, _ := ts.eng.Space(tn.space)
		if st := sp.Stats(); st.Memories != len(tn.own) {
			t.Errorf("%s holds %d memories after the reads, want %d", tn.space, st.Memories, len(tn.own))
		}
	}
}

// isoWrite stores one tenant's memories over HTTP: single remembers, a batch, and the
// cluster of old episodes.
func isoWrite(ts *testServer, i int, tn *tenant, auth []string) error {
	post := func(path, body string) (map[string]any, error) {
		hr, _ := http.NewRequest(http.MethodPost, "http://engram.test"+path, strings.NewReader(body))
		hr.Header.Set("Content-Type", "application/json")
		for k, v := range pairs(auth) {
			hr.Header.Set(k, v)
		}
		resp, err := ts.client.Do(hr)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			return nil, err
		}
		if resp.StatusCode/100 != 2 || m["memory_space_id"] != tn.space {
			return nil, fmt.Errorf("POST %s in %s: %d %v", path, tn.space, resp.StatusCode, m)
		}
		return m, nil
	}
	for n := 0; n < isoNotes; n++ {
		m, err := post("/api/v1/memories/remember", fmt.Sprintf(`{"content":"%s note %d with shared words","tags":["%s"]}`, tn.marker, n, tn.marker))
		if err != nil {
			return err
		}
		tn.written = append(tn.written, m["memory_id"].(string))
	}
	var items []string
	for n := 0; n < isoShared; n++ {
		items = append(items, fmt.Sprintf(`{"id":"same-id-%d","content":"%s shared id %d with shared words"}`, n, tn.marker, n))
	}
	m, err := post("/api/v1/memories/batch", "["+strings.Join(items, ",")+"]")
	if err != nil {
		return err
	}
	for _, id := range m["memory_ids"].([]any) {
		tn.written = append(tn.written, id.(string))
	}
	for n := 0; n < isoCluster; n++ {
		m, err := post("/api/v1/memories/remember", fmt.Sprintf(`{"content":"%s cluster episode %d","embedding":%s,"timestamp":"2024-01-0%dT00:00:00Z"}`, tn.marker, n, vec(3), n+1))
		if err != nil {
			return err
		}
		tn.written = append(tn.written, m["memory_id"].(string))
	}
	return nil
}

// isoReadSSE reads a tenant's activity stream until every memory it wrote has had its
// storage event, checking that each event is its own.
func isoReadSSE(resp *http.Response, tn *tenant, lc leakCheck, i int) error {
	want := map[string]bool{}
	for _, id := range tn.written {
		want[id] = true
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	event := ""
	for len(want) > 0 && sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		case strings.HasPrefix(line, "data: "):
			var d map[string]any
			if err := json.Unmarshal([]byte(line[6:]), &d); err != nil {
				return fmt.Errorf("data is not JSON: %s", line)
			}
			if d["memory_space_id"] != tn.space {
				return fmt.Errorf("event of space %v: %s", d["memory_space_id"], line)
			}
			id, _ := d["memory_id"].(string)
			if id != "" && !tn.own[id] {
				return fmt.Errorf("event about memory %s, not the tenant's: %s", id, line)
			}
			if event == "storage" {
				delete(want, id)
			}
			lc.clean(i, "SSE event", []byte(line))
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("stream ended (%v) before the storage events of %d memories", sc.Err(), len(want))
	}
	return nil
}

// isoReadGRPCStream is isoReadSSE for the gRPC event stream.
func isoReadGRPCStream(st grpc.ServerStreamingClient[pb.StreamResponse], tn *tenant) error {
	want := map[string]bool{}
	for _, id := range tn.written {
		want[id] = true
	}
	for len(want) > 0 {
		ev, err := st.Recv()
		if err != nil {
			return fmt.Errorf("stream ended (%v) before the storage events of %d memories", err, len(want))
		}
		if ev.GetMemorySpaceId() != tn.space || !tn.own[ev.GetMemoryId()] || !strings.Contains(ev.GetPayloadJson(), `"`+tn.space+`"`) {
			return fmt.Errorf("event %v is not the tenant's", ev)
		}
		delete(want, ev.GetMemoryId())
	}
	return nil
}
