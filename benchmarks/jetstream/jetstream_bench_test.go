package jetstream_test

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"github.com/engram-go/engram/benchmarks/jetstream"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
)

var (
	set    = flag.String("set", "one", "configurations to run: one (R3, 1 stream, sync_interval always, and the WAL), key (the comparison the batching decision rests on) or full (the whole matrix)")
	rounds = flag.Int("rounds", 1, "run every configuration this many times, alternating")
)

const (
	// writers is the number of concurrent publishers (or WAL appenders): as many as the HTTP
	// load generator's clients.
	writers = 64
	// dim is the embedding dimension of the remember records.
	dim = 768
)

// config is one JetStream configuration of the matrix.
type config struct {
	sync     string // "always": sync_interval always; "default": the server's 2-minute sync
	replicas int
	streams  int // partition streams the 64 publishers' subjects are spread over
	// window is the number of unacknowledged messages one publisher keeps in flight: 1 is a
	// synchronous publish that waits for its ack, more is an async publish.
	window int
	batch  int // records per message; with group, the most records one message carries
	// group: the 64 writers submit one record each and wait for it, and each partition's
	// owner gathers the records waiting into one message, as the WAL's group commit does.
	group bool
}

func (c config) String() string {
	if c.group {
		return fmt.Sprintf("js/sync=%s/R%d/streams=%d/pub=group%d/maxbatch=%d", c.sync, c.replicas, c.streams, c.window, c.batch)
	}
	pub := "sync"
	if c.window > 1 {
		pub = fmt.Sprintf("async%d", c.window)
	}
	return fmt.Sprintf("js/sync=%s/R%d/streams=%d/pub=%s/batch=%d", c.sync, c.replicas, c.streams, pub, c.batch)
}

// walLogs returns the numbers of WALs the baseline runs with in a set.
func walLogs(set string) []int {
	if set == "one" || testing.Short() {
		return []int{1}
	}
	return []int{1, 64}
}

// matrix returns the JetStream configurations of a set.
func matrix(b *testing.B, set string) []config {
	if testing.Short() {
		set = "one"
	}
	switch set {
	case "one":
		return []config{{sync: "always", replicas: 3, streams: 1, window: 1, batch: 1}}
	case "key":
		// R1 against R3 with one message per record, then R3 with the records of a
		// partition gathered into one message (one or four messages in flight per partition)
		// over 1, 3, 8 and 64 partitions, and the gathered R3 without sync_interval always.
		return []config{
			{sync: "always", replicas: 1, streams: 1, window: 1, batch: 1},
			{sync: "always", replicas: 3, streams: 1, window: 1, batch: 1},
			{sync: "always", replicas: 3, streams: 1, window: 1, batch: 64, group: true},
			{sync: "always", replicas: 3, streams: 1, window: 4, batch: 64, group: true},
			{sync: "always", replicas: 3, streams: 3, window: 1, batch: 64, group: true},
			{sync: "always", replicas: 3, streams: 8, window: 1, batch: 64, group: true},
			{sync: "always", replicas: 3, streams: 64, window: 1, batch: 64, group: true},
			{sync: "default", replicas: 3, streams: 1, window: 1, batch: 64, group: true},
		}
	case "full":
	default:
		b.Fatalf("-set %q: want one, key or full", set)
	}
	var out []config
	for _, sync := range []string{"always", "default"} {
		for _, r := range []int{1, 3} {
			for _, streams := range []int{1, 64} {
				for _, window := range []int{1, 16} {
					out = append(out, config{sync: sync, replicas: r, streams: streams, window: window, batch: 1})
				}
			}
		}
	}
	// The batching questions, on the durable replicated setting: a smaller window, 16
	// records carried in one message instead of 16 messages, and the records of a partition
	// gathered into one message.
	for _, streams := range []int{1, 64} {
		out = append(out,
			config{sync: "always", replicas: 3, streams: streams, window: 4, batch: 1},
			config{sync: "always", replicas: 3, streams: streams, window: 1, batch: 16})
	}
	for _, streams := range []int{1, 8, 64} {
		out = append(out, config{sync: "always", replicas: 3, streams: streams, window: 1, batch: 64, group: true})
	}
	return out
}

// BenchmarkJetStream publishes b.N remember records of a 768-d memory from 64 publishers to a
// three-server JetStream cluster in each configuration, and appends the same records from 64
// writers to the engine's WAL (wal_sync = always), in rounds. Run the full spike with
// -benchtime=Nx (N records per configuration) -set full -rounds 2; see benchmarks/README.md.
func BenchmarkJetStream(b *testing.B) {
	payload := jetstream.RememberPayload(dim, 1)
	f := newFixture(b)
	defer f.close()
	configs := matrix(b, *set)
	for round := 1; round <= max(1, *rounds); round++ {
		for _, logs := range walLogs(*set) {
			b.Run(fmt.Sprintf("round=%d/wal/sync=always/logs=%d", round, logs), func(b *testing.B) {
				runWAL(b, logs, payload)
			})
		}
		for _, c := range configs {
			b.Run(fmt.Sprintf("round=%d/%s", round, c), func(b *testing.B) {
				f.runJetStream(b, c, payload)
			})
		}
	}
}

// fixture holds what configurations share: one cluster per sync policy, its connections,
// and one set of partition streams per (sync, replicas, streams), created on first use and
// kept, as a cluster's partitions would be. Deleting and re-creating 64 replicated streams
// per configuration made the meta leader answer 503 (JetStream temporarily unavailable) on
// this machine, which is not what is being measured.
type fixture struct {
	dir      string
	clusters map[string]*jetstream.Cluster
	conns    map[string][]js.JetStream
	ncs      []*nats.Conn
	streams  map[string][]string
	runs     int // numbers each run's message ids, so no run is a duplicate of another
}

func newFixture(b *testing.B) *fixture {
	return &fixture{
		dir:      b.TempDir(),
		clusters: map[string]*jetstream.Cluster{},
		conns:    map[string][]js.JetStream{},
		streams:  map[string][]string{},
	}
}

func (f *fixture) close() {
	for _, nc := range f.ncs {
		nc.Close()
	}
	for _, c := range f.clusters {
		c.Shutdown()
	}
}

// connections starts the cluster of a sync policy if needed and returns one JetStream
// context per server: an engram node publishes to the server it embeds, and partition
// owners are spread over the nodes.
func (f *fixture) connections(b *testing.B, syncPolicy string) []js.JetStream {
	if conns, ok := f.conns[syncPolicy]; ok {
		return conns
	}
	c, err := jetstream.StartCluster(fmt.Sprintf("%s/%s", f.dir, syncPolicy), syncPolicy == "always")
	if err != nil {
		b.Fatal(err)
	}
	f.clusters[syncPolicy] = c
	var conns []js.JetStream
	for i, url := range c.URLs() {
		nc, err := nats.Connect(url, nats.Name(fmt.Sprintf("bench-%s-%d", syncPolicy, i)))
		if err != nil {
			b.Fatal(err)
		}
		f.ncs = append(f.ncs, nc)
		j, err := js.New(nc, js.WithPublishAsyncMaxPending(writers*64))
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, j)
	}
	f.conns[syncPolicy] = conns
	return conns
}

// partitionStreams returns c's streams, creating them on first use: file storage, limits
// retention with DiscardNew and a two-minute duplicate window, as docs/cluster.md plans.
func (f *fixture) partitionStreams(ctx context.Context, b *testing.B, c config, conns []js.JetStream) []string {
	key := fmt.Sprintf("%s/%d/%d", c.sync, c.replicas, c.streams)
	if s, ok := f.streams[key]; ok {
		return s
	}
	names := make([]string, c.streams)
	for p := range names {
		names[p] = fmt.Sprintf("R%d-S%d-P%02d", c.replicas, c.streams, p)
		subject := fmt.Sprintf("engram.r%d.s%d.>", c.replicas, c.streams)
		if c.streams > 1 {
			subject = fmt.Sprintf("engram.r%d.s%d.%d.>", c.replicas, c.streams, p)
		}
		cfg := js.StreamConfig{
			Name:       names[p],
			Subjects:   []string{subject},
			Storage:    js.FileStorage,
			Replicas:   c.replicas,
			Retention:  js.LimitsPolicy,
			Discard:    js.DiscardNew,
			Duplicates: 2 * time.Minute,
		}
		if err := retryAPI(ctx, func(ctx context.Context) error {
			_, err := conns[p%len(conns)].CreateStream(ctx, cfg)
			return err
		}); err != nil {
			b.Fatalf("create stream %s: %v", names[p], err)
		}
	}
	f.streams[key] = names
	return names
}

// storedMessages sums the messages the streams hold.
func storedMessages(ctx context.Context, b *testing.B, conns []js.JetStream, streams []string) uint64 {
	var n uint64
	for p, s := range streams {
		var info *js.StreamInfo
		if err := retryAPI(ctx, func(ctx context.Context) error {
			st, err := conns[p%len(conns)].Stream(ctx, s)
			if err == nil {
				info, err = st.Info(ctx)
			}
			return err
		}); err != nil {
			b.Fatalf("stream %s: %v", s, err)
		}
		n += info.State.Msgs
	}
	return n
}

// retryAPI calls a JetStream API request with a 20-second timeout, up to five times: under
// load the meta leader can drop a request without answering, and the client would otherwise
// wait for its context to end. Creating a stream that exists with the same configuration
// succeeds, so a retry after a lost answer is harmless.
func retryAPI(ctx context.Context, call func(context.Context) error) error {
	var err error
	for range 5 {
		callCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = call(callCtx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// run is what one configuration measured.
type run struct {
	records   int
	elapsed   time.Duration
	latencies []time.Duration // one per acknowledgement (per message)
	cpu       jetstream.CPUUse
}

// report turns a run into the benchmark's metrics.
func (r run) report(b *testing.B, bytesPerRecord int) {
	slices.Sort(r.latencies)
	pct := func(p float64) float64 {
		if len(r.latencies) == 0 {
			return 0
		}
		return float64(r.latencies[int(p*float64(len(r.latencies)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(r.records)/r.elapsed.Seconds(), "records/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(r.cpu.Process.Microseconds())/float64(r.records), "cpu-us/record")
	if r.cpu.OthersBusy >= 0 {
		b.ReportMetric(100*r.cpu.OthersBusy, "others-busy-%")
	}
	b.ReportMetric(float64(bytesPerRecord), "bytes/record")
}

// drive runs work(writer, item, latencies) for items 0..n-1 from 64 goroutines, then
// finish (if not nil), and measures the whole. work appends its item's acknowledgement
// latency to latencies, unless finish returns the latencies it collected instead.
func drive(b *testing.B, n int, work func(w, item int, lat *[]time.Duration) error, finish func() []time.Duration) run {
	var next atomic.Int64
	var wg sync.WaitGroup
	lats := make([][]time.Duration, writers)
	b.ResetTimer()
	before := jetstream.ReadCPU()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			lats[w] = make([]time.Duration, 0, n/writers+1)
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := work(w, i, &lats[w]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	latencies := slices.Concat(lats...)
	if finish != nil {
		if collected := finish(); collected != nil {
			latencies = collected
		}
	}
	return run{elapsed: time.Since(start), latencies: latencies, cpu: before.Since(jetstream.ReadCPU())}
}

// runWAL appends b.N records to logs WALs with SyncAlways, writer w appending to log w%logs.
func runWAL(b *testing.B, logs int, payload []byte) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ws := make([]*wal.WAL, logs)
	for i := range ws {
		w, _, err := wal.Open(wal.Options{Dir: b.TempDir(), Space: fmt.Sprintf("space-%02d", i), Sync: wal.SyncAlways, Logger: quiet}, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		ws[i] = w
		defer w.Close()
	}
	r := drive(b, b.N, func(w, _ int, lat *[]time.Duration) error {
		t := time.Now()
		if _, err := ws[w%logs].Append(wal.Entry{Type: record.TypeRemember, Payload: payload}); err != nil {
			return err
		}
		*lat = append(*lat, time.Since(t))
		return nil
	}, nil)
	b.StopTimer()
	r.records = b.N
	var synced uint64
	for _, w := range ws {
		synced += w.Stats().SyncedRecords
	}
	if synced != uint64(b.N) {
		b.Fatalf("WALs made %d records durable, want %d", synced, b.N)
	}
	r.report(b, len(payload))
}

// runJetStream publishes b.N records (rounded up to whole messages) to c's streams and checks
// that the streams gained exactly the acknowledged messages.
func (f *fixture) runJetStream(b *testing.B, c config, payload []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conns := f.connections(b, c.sync)
	streams := f.partitionStreams(ctx, b, c, conns)
	before := storedMessages(ctx, b, conns, streams)
	f.runs++
	runID := f.runs

	subject := func(w int) string {
		if c.streams > 1 {
			return fmt.Sprintf("engram.r%d.s%d.%d.space-%02d", c.replicas, c.streams, w%c.streams, w)
		}
		return fmt.Sprintf("engram.r%d.s%d.space-%02d", c.replicas, c.streams, w)
	}
	var acked atomic.Int64
	var r run
	messages := (b.N + c.batch - 1) / c.batch
	switch {
	case c.group:
		r = publishGroup(b, conns, c, payload, runID, subject, &acked)
		messages = int(acked.Load())
	case c.window == 1:
		body := frame(payload, c.batch)
		r = drive(b, messages, func(w, i int, lat *[]time.Duration) error {
			t := time.Now()
			if _, err := conns[w%len(conns)].PublishMsg(ctx, message(subject(w), fmt.Sprintf("r%d-m%d", runID, i), body)); err != nil {
				return fmt.Errorf("publish: %w", err)
			}
			*lat = append(*lat, time.Since(t))
			acked.Add(1)
			return nil
		}, nil)
	default:
		body := frame(payload, c.batch)
		r = publishAsync(b, conns, c.window, messages, func(w, i int) *nats.Msg {
			return message(subject(w), fmt.Sprintf("r%d-m%d", runID, i), body)
		}, &acked)
	}
	b.StopTimer()
	if b.Failed() {
		return
	}
	stored := storedMessages(ctx, b, conns, streams) - before
	if stored != uint64(acked.Load()) || stored != uint64(messages) {
		b.Fatalf("streams gained %d messages, %d acknowledged, %d published", stored, acked.Load(), messages)
	}
	if !c.group {
		r.records = messages * c.batch
	}
	r.report(b, len(payload))
	b.ReportMetric(float64(r.records)/float64(messages), "records/msg")
}

// frame returns the body of a message carrying n records: the payload itself when n is 1,
// else the records one after the other, each preceded by its length.
func frame(payload []byte, n int) []byte {
	if n == 1 {
		return payload
	}
	var body []byte
	for range n {
		body = binary.AppendUvarint(body, uint64(len(payload)))
		body = append(body, payload...)
	}
	return body
}

// message returns a message with a Nats-Msg-Id, as every publish of the cluster will carry.
func message(subject, id string, body []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(js.MsgIDHeader, id)
	m.Data = body
	return m
}

// publishGroup has 64 writers submit b.N records one at a time, each waiting for its own
// acknowledgement as an HTTP client does; writer w's records belong to partition w%streams.
// Each partition's owner takes the first record waiting, waits for a free slot of c.window
// messages in flight, gathers the records that arrived meanwhile (at most c.batch) into one
// message and publishes it; every record of the message is acknowledged by its PubAck. It
// is the WAL's group commit with the PubAck in place of the fdatasync. Latency is per record.
func publishGroup(b *testing.B, conns []js.JetStream, c config, payload []byte, runID int, subject func(w int) string, acked *atomic.Int64) run {
	type flight struct {
		f    js.PubAckFuture
		reqs []chan error
	}
	queues := make([]chan chan error, c.streams)
	var owners sync.WaitGroup
	records := 0
	var mu sync.Mutex
	for p := range queues {
		queues[p] = make(chan chan error, writers)
		slots := make(chan struct{}, c.window)
		flights := make(chan flight, c.window)
		owners.Go(func() {
			for fl := range flights {
				var err error
				select {
				case <-fl.f.Ok():
					acked.Add(1)
					mu.Lock()
					records += len(fl.reqs)
					mu.Unlock()
				case err = <-fl.f.Err():
				}
				<-slots
				for _, done := range fl.reqs {
					done <- err
				}
			}
		})
		owners.Go(func() {
			defer close(flights)
			for seq := 0; ; seq++ {
				first, ok := <-queues[p]
				if !ok {
					return
				}
				slots <- struct{}{}
				reqs := []chan error{first}
			gather:
				for len(reqs) < c.batch {
					select {
					case done, ok := <-queues[p]:
						if !ok {
							break gather
						}
						reqs = append(reqs, done)
					default:
						break gather
					}
				}
				m := message(subject(p), fmt.Sprintf("r%d-p%d-m%d", runID, p, seq), frame(payload, len(reqs)))
				f, err := conns[p%len(conns)].PublishMsgAsync(m)
				if err != nil {
					<-slots
					for _, done := range reqs {
						done <- fmt.Errorf("publish: %w", err)
					}
					continue
				}
				flights <- flight{f: f, reqs: reqs}
			}
		})
	}
	r := drive(b, b.N, func(w, _ int, lat *[]time.Duration) error {
		t := time.Now()
		done := make(chan error, 1)
		queues[w%c.streams] <- done
		if err := <-done; err != nil {
			return err
		}
		*lat = append(*lat, time.Since(t))
		return nil
	}, func() []time.Duration {
		for _, q := range queues {
			close(q)
		}
		owners.Wait()
		return nil
	})
	r.records = records
	return r
}

// publishAsync publishes messages from 64 publishers, each keeping up to window acks in
// flight; an ack's latency runs from the publish call until its publisher's collector sees
// it (acks of one publisher are awaited in publish order, as an owner answering its clients
// in stream order would).
func publishAsync(b *testing.B, conns []js.JetStream, window, messages int, message func(w, i int) *nats.Msg, acked *atomic.Int64) run {
	type pending struct {
		f  js.PubAckFuture
		at time.Time
	}
	var mu sync.Mutex
	lats := make([]time.Duration, 0, messages)
	var collectors sync.WaitGroup
	flights := make([]chan pending, writers)
	for w := range flights {
		flights[w] = make(chan pending, window)
		collectors.Go(func() {
			mine := make([]time.Duration, 0, messages/writers+1)
			for p := range flights[w] {
				select {
				case <-p.f.Ok():
					mine = append(mine, time.Since(p.at))
					acked.Add(1)
				case err := <-p.f.Err():
					b.Errorf("async publish: %v", err)
				}
			}
			mu.Lock()
			lats = append(lats, mine...)
			mu.Unlock()
		})
	}
	// The run ends when the last ack is in.
	return drive(b, messages, func(w, i int, _ *[]time.Duration) error {
		t := time.Now()
		f, err := conns[w%len(conns)].PublishMsgAsync(message(w, i))
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		flights[w] <- pending{f: f, at: t} // blocks while the window is full
		return nil
	}, func() []time.Duration {
		for _, f := range flights {
			close(f)
		}
		collectors.Wait()
		return lats
	})
}
