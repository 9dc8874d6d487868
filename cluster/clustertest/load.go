package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LoadOptions shape a Load.
type LoadOptions struct {
	Clients int           // concurrent writers; 0 = 32
	Readers int           // concurrent readers of acknowledged memories; 0 = 4
	Spaces  int           // spaces written to; 0 = 300
	Timeout time.Duration // one attempt's limit; 0 = 5s
	// Settle bounds how long Stop lets writes already begun retry until acknowledged;
	// 0 = 60s. Writes still unknown then are reported as unresolved.
	Settle time.Duration
	Run    string // prefix of every idempotency key, unique per run; "" = "r"
	// GRPCEvery sends the writes of every GRPCEvery-th writer, and every GRPCEvery-th
	// read, over the gRPC API instead of HTTP; 0 = 4, -1 = none.
	GRPCEvery int
	// Subscribers follow the storage events of the first Subscribers spaces over SSE at
	// non-owner nodes; 0 = 8, -1 = none.
	Subscribers int
}

func (o *LoadOptions) fill() {
	if o.Clients == 0 {
		o.Clients = 32
	}
	if o.Readers == 0 {
		o.Readers = 4
	}
	if o.Spaces == 0 {
		o.Spaces = 300
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Settle == 0 {
		o.Settle = 60 * time.Second
	}
	if o.Run == "" {
		o.Run = "r"
	}
	if o.GRPCEvery == 0 {
		o.GRPCEvery = 4
	}
	if o.Subscribers == 0 {
		o.Subscribers = 8
	}
}

// Ack is one acknowledged write.
type Ack struct {
	Space, Key, ID string
	Node           string    // the node that acknowledged it
	Proto          string    // "http" or "grpc"
	Start, End     time.Time // first attempt sent, acknowledgement received
	Attempts       int
}

// StaleRead is a read that missed a memory acknowledged before the read began.
type StaleRead struct {
	Space, ID, Node string
	AckedAt, ReadAt time.Time
}

// Result is what a Load did.
type Result struct {
	Spaces     []string
	Acks       []Ack
	Attempted  map[string]string // every key written, to its space
	Unresolved map[string]string // keys never acknowledged nor refused, to their space
	Refused    map[string]string // keys answered 4xx (not stored by that answer), to their space
	Outcomes   map[string]int    // attempts by outcome: "2xx", "503", "timeout", ...
	Reads      int               // reads of acknowledged memories
	Unanswered int               // reads that got no answer (timeout, 5xx): not judged
	Stale      []StaleRead
	GRPCRecall GRPCRecalls
	Events     []EventCount // one per SSE subscriber
	Start      time.Time    // the first write
	Stopped    time.Time    // new writes stopped
}

// Elapsed is the writing time: from the first write to the stop of new writes.
func (r *Result) Elapsed() time.Duration { return r.Stopped.Sub(r.Start) }

// Latencies are the acknowledged writes' times from first attempt to acknowledgement,
// sorted.
func (r *Result) Latencies() []time.Duration {
	out := make([]time.Duration, len(r.Acks))
	for i, a := range r.Acks {
		out[i] = a.End.Sub(a.Start)
	}
	slices.Sort(out)
	return out
}

// Load is a running write and read load against a Cluster.
type Load struct {
	c    *Cluster
	o    LoadOptions
	hc   *http.Client
	grpc *grpcClients
	stop context.CancelFunc // no new writes
	kill context.CancelFunc // no more attempts
	wg   sync.WaitGroup

	subs    []*subscriber
	subStop context.CancelFunc
	subWG   sync.WaitGroup

	mu  sync.Mutex
	res Result
}

// StartLoad starts the clients and readers.
func StartLoad(c *Cluster, o LoadOptions) (*Load, error) {
	o.fill()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = o.Clients + o.Readers
	g, err := dialNodes(c.Nodes())
	if err != nil {
		return nil, err
	}
	l := &Load{c: c, o: o, hc: &http.Client{Transport: tr, Timeout: o.Timeout}, grpc: g}
	l.res = Result{Attempted: map[string]string{}, Unresolved: map[string]string{}, Refused: map[string]string{},
		Outcomes: map[string]int{}, Start: time.Now(), GRPCRecall: GRPCRecalls{Errors: map[string]int{}}}
	for i := range o.Spaces {
		l.res.Spaces = append(l.res.Spaces, fmt.Sprintf("load-%03d", i))
	}
	subCtx, subStop := context.WithCancel(context.Background())
	l.subStop = subStop
	for i := range max(0, min(o.Subscribers, o.Spaces)) {
		sub := newSubscriber(c, l.res.Spaces[i])
		l.subs = append(l.subs, sub)
		l.subWG.Add(1)
		go func() {
			defer l.subWG.Done()
			sub.run(subCtx, rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))))
		}()
	}
	writeCtx, stop := context.WithCancel(context.Background())
	attemptCtx, kill := context.WithCancel(context.Background())
	l.stop, l.kill = stop, kill
	for i := range o.Clients {
		l.wg.Add(1)
		go l.writer(writeCtx, attemptCtx, i)
	}
	for i := range o.Readers {
		l.wg.Add(1)
		go l.reader(writeCtx, i)
	}
	return l, nil
}

// viaGRPC reports whether the i-th writer or reader uses the gRPC API.
func (l *Load) viaGRPC(i int) bool { return l.o.GRPCEvery > 0 && i%l.o.GRPCEvery == l.o.GRPCEvery-1 }

// Stop ends new writes, lets begun ones retry for up to Settle, and returns the record.
func (l *Load) Stop() *Result {
	l.mu.Lock()
	l.res.Stopped = time.Now()
	l.mu.Unlock()
	l.stop()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(l.o.Settle):
		l.kill()
		<-done
	}
	l.kill()
	l.grpc.close()
	// The last acknowledged writes' events are on their way: give them a moment.
	time.Sleep(time.Second)
	l.subStop()
	l.subWG.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	res := l.res
	for _, s := range l.subs {
		res.Events = append(res.Events, s.count(res.Acks))
	}
	return &res
}

// Acked is how many writes have been acknowledged so far.
func (l *Load) Acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.res.Acks)
}

// AcksBetween copies the acknowledgements received in [from, to).
func (l *Load) AcksBetween(from, to time.Time) []Ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Ack
	for _, a := range l.res.Acks {
		if !a.End.Before(from) && a.End.Before(to) {
			out = append(out, a)
		}
	}
	return out
}

// content names the space and key, so that any view of a memory tells where it was
// written and which write it is.
func content(space, key string) string {
	return "space=" + space + " key=" + key + " remembered under load by the cluster harness"
}

// parseContent is content's inverse; ok is false for a memory the load did not write.
func parseContent(s string) (space, key string, ok bool) {
	f := strings.Fields(s)
	if len(f) < 2 || !strings.HasPrefix(f[0], "space=") || !strings.HasPrefix(f[1], "key=") {
		return "", "", false
	}
	return f[0][len("space="):], f[1][len("key="):], true
}

func (l *Load) randomNode(rng *rand.Rand) *Node {
	nodes := l.c.Nodes()
	return nodes[rng.IntN(len(nodes))]
}

func (l *Load) writer(writeCtx, attemptCtx context.Context, client int) {
	defer l.wg.Done()
	rng := rand.New(rand.NewPCG(uint64(client), uint64(time.Now().UnixNano())))
	for seq := 0; writeCtx.Err() == nil; seq++ {
		space := l.res.Spaces[rng.IntN(len(l.res.Spaces))]
		if len(l.subs) > 0 && rng.IntN(8) == 0 {
			// One write in eight goes to a followed space, so that the subscribers see
			// enough events to count in a short run too.
			space = l.subs[rng.IntN(len(l.subs))].space
		}
		key := fmt.Sprintf("%s-c%d-%d", l.o.Run, client, seq)
		l.mu.Lock()
		l.res.Attempted[key] = space
		l.res.Unresolved[key] = space
		l.mu.Unlock()
		l.write(attemptCtx, rng, space, key, l.viaGRPC(client))
	}
}

// write sends one write until it is acknowledged, refused, or attempts end.
func (l *Load) write(ctx context.Context, rng *rand.Rand, space, key string, viaGRPC bool) {
	body, _ := json.Marshal(map[string]string{"content": content(space, key)})
	start := time.Now()
	proto := "http"
	if viaGRPC {
		proto = "grpc"
	}
	for attempt := 1; ctx.Err() == nil; attempt++ {
		n := l.randomNode(rng)
		var id, outcome string
		var retryAfter time.Duration
		if viaGRPC {
			id, outcome = l.rememberGRPC(ctx, n, space, key)
		} else {
			id, outcome, retryAfter = l.remember(ctx, n, space, key, body)
		}
		l.mu.Lock()
		l.res.Outcomes[outcome]++
		switch {
		case id != "":
			delete(l.res.Unresolved, key)
			l.res.Acks = append(l.res.Acks, Ack{Space: space, Key: key, ID: id, Node: n.ID, Proto: proto, Start: start, End: time.Now(), Attempts: attempt})
		case outcome == "refused":
			delete(l.res.Unresolved, key)
			l.res.Refused[key] = space
		}
		l.mu.Unlock()
		if id != "" || outcome == "refused" {
			return
		}
		wait := min(time.Duration(attempt)*50*time.Millisecond, 500*time.Millisecond)
		if retryAfter > 0 {
			wait = min(retryAfter, time.Second)
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// remember sends one attempt. It answers the memory id when acknowledged; otherwise the
// outcome's name ("refused" for a 4xx that means the write was not stored) and the
// server's Retry-After.
func (l *Load) remember(ctx context.Context, n *Node, space, key string, body []byte) (id, outcome string, retryAfter time.Duration) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+n.HTTP+"/api/v1/memories/remember", bytes.NewReader(body))
	if err != nil {
		return "", "request", 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Memory-Space", space)
	req.Header.Set("Idempotency-Key", key)
	resp, err := l.hc.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "Client.Timeout") || ctx.Err() != nil {
			return "", "timeout", 0
		}
		return "", "connection", 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	code := strconv.Itoa(resp.StatusCode)
	switch {
	case resp.StatusCode/100 == 2:
		var out struct {
			MemoryID string `json:"memory_id"`
		}
		if json.Unmarshal(b, &out) != nil || out.MemoryID == "" {
			return "", "2xx-without-id", 0 // a server bug; retried like an unknown outcome
		}
		return out.MemoryID, "2xx", 0
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			retryAfter = time.Duration(s) * time.Second
		}
		return "", code, retryAfter
	default:
		return "", "refused", 0
	}
}

// reader reads acknowledged memories back at random nodes until ctx ends.
func (l *Load) reader(ctx context.Context, i int) {
	defer l.wg.Done()
	rng := rand.New(rand.NewPCG(rand.Uint64(), uint64(time.Now().UnixNano())))
	for ctx.Err() == nil {
		l.mu.Lock()
		var a Ack
		ok := len(l.res.Acks) > 0
		if ok {
			a = l.res.Acks[rng.IntN(len(l.res.Acks))]
		}
		l.mu.Unlock()
		switch {
		case ok && l.viaGRPC(i):
			l.recallGRPC(ctx, rng, a)
		case ok:
			l.ReadBack(ctx, l.randomNode(rng), a)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ReadBack reads an acknowledged memory at node n, counting the read and recording it as
// stale when n answers that the memory does not exist.
func (l *Load) ReadBack(ctx context.Context, n *Node, a Ack) {
	readAt := time.Now()
	status, got, err := getMemory(ctx, l.hc, n, a.Space, a.ID)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil || status == http.StatusTooManyRequests || status >= 500:
		l.res.Unanswered++
		return
	case status == http.StatusNotFound, status == http.StatusOK && got.Content != content(a.Space, a.Key):
		l.res.Stale = append(l.res.Stale, StaleRead{Space: a.Space, ID: a.ID, Node: n.ID, AckedAt: a.End, ReadAt: readAt})
	}
	l.res.Reads++
}

// memoryJSON is the part of a memory the oracle reads.
type memoryJSON struct {
	ID      string `json:"id"`
	Content string `json:"content"`
}

// getMemory reads GET /api/v1/memories/{id} in space at n.
func getMemory(ctx context.Context, hc *http.Client, n *Node, space, id string) (int, memoryJSON, error) {
	var m memoryJSON
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.HTTP+"/api/v1/memories/"+url.PathEscape(id), nil)
	if err != nil {
		return 0, m, err
	}
	req.Header.Set("X-Memory-Space", space)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			return 0, m, fmt.Errorf("clustertest: memory %s at %s: %w", id, n.ID, err)
		}
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, m, nil
}
