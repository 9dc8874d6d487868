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
	full   = flag.Bool("full", false, "run the whole matrix of configurations, not only R3/1 stream/sync always/async against the WAL")
	rounds = flag.Int("rounds", 1, "run every configuration this many times, alternating")
)

const (
	// writers is the number of concurrent publishers (or WAL appenders): as many as the HTTP
	// load generator's clients.
	writers = 64
	// dim is the embedding dimension of the remember records.
	dim = 768
	// window is the number of unacknowledged messages one async publisher keeps in flight.
	window = 16
)

// config is one JetStream configuration of the matrix.
type config struct {
	sync     string // "always": sync_interval always; "default": the server's 2-minute sync
	replicas int
	streams  int    // partition streams the 64 publishers' subjects are spread over
	publish  string // "sync": wait for each ack; "async": keep window acks in flight
	batch    int    // records per message
}

func (c config) String() string {
	return fmt.Sprintf("js/sync=%s/R%d/streams=%d/pub=%s/batch=%d", c.sync, c.replicas, c.streams, c.publish, c.batch)
}

// matrix returns the configurations to run.
func matrix(full bool) []config {
	if !full || testing.Short() {
		return []config{{sync: "always", replicas: 3, streams: 1, publish: "async", batch: 1}}
	}
	var out []config
	for _, sync := range []string{"always", "default"} {
		for _, r := range []int{1, 3} {
			for _, streams := range []int{1, 64} {
				for _, pub := range []string{"sync", "async"} {
					out = append(out, config{sync: sync, replicas: r, streams: streams, publish: pub, batch: 1})
				}
			}
		}
	}
	for _, streams := range []int{1, 64} {
		out = append(out, config{sync: "always", replicas: 3, streams: streams, publish: "async", batch: 16})
	}
	return out
}

// BenchmarkJetStream publishes b.N remember records of a 768-d memory from 64 publishers to a
// three-server JetStream cluster in each configuration, and appends the same records from 64
// writers to the engine's WAL (wal_sync = always), in rounds. Run the full spike with
// -benchtime=Nx (N records per configuration) -full -rounds 2; see benchmarks/README.md.
func BenchmarkJetStream(b *testing.B) {
	payload := jetstream.RememberPayload(dim, 1)
	clusters := map[string]*jetstream.Cluster{}
	defer func() {
		for _, c := range clusters {
			c.Shutdown()
		}
	}()
	cluster := func(b *testing.B, sync string) *jetstream.Cluster {
		if c, ok := clusters[sync]; ok {
			return c
		}
		c, err := jetstream.StartCluster(b.TempDir(), sync == "always")
		if err != nil {
			b.Fatal(err)
		}
		clusters[sync] = c
		return c
	}
	walLogs := []int{1}
	if *full && !testing.Short() {
		walLogs = []int{1, 64}
	}
	for round := 1; round <= max(1, *rounds); round++ {
		for _, logs := range walLogs {
			b.Run(fmt.Sprintf("round=%d/wal/sync=always/logs=%d", round, logs), func(b *testing.B) {
				runWAL(b, logs, payload)
			})
		}
		for _, c := range matrix(*full) {
			b.Run(fmt.Sprintf("round=%d/%s", round, c), func(b *testing.B) {
				runJetStream(b, cluster(b, c.sync), c, payload)
			})
		}
	}
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
// latency to latencies unless finish collects the latencies instead.
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
		latencies = finish()
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

// runJetStream creates c's streams, publishes b.N records (rounded up to whole messages),
// checks the streams hold exactly the acknowledged messages and deletes them.
func runJetStream(b *testing.B, cl *jetstream.Cluster, c config, payload []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// One connection per server: an engram node publishes to the server it embeds, and the
	// partition owners are spread over the nodes.
	conns := make([]js.JetStream, len(cl.Servers))
	for i, url := range cl.URLs() {
		nc, err := nats.Connect(url, nats.Name(fmt.Sprintf("bench-%d", i)))
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		if conns[i], err = js.New(nc, js.WithPublishAsyncMaxPending(writers*window)); err != nil {
			b.Fatal(err)
		}
	}
	streams := make([]string, c.streams)
	for p := range streams {
		streams[p] = fmt.Sprintf("P%02d", p)
		subject := "engram.wal.>"
		if c.streams > 1 {
			subject = fmt.Sprintf("engram.wal.%d.>", p)
		}
		if _, err := conns[p%len(conns)].CreateStream(ctx, js.StreamConfig{
			Name:       streams[p],
			Subjects:   []string{subject},
			Storage:    js.FileStorage,
			Replicas:   c.replicas,
			Retention:  js.LimitsPolicy,
			Discard:    js.DiscardNew,
			Duplicates: 2 * time.Minute,
		}); err != nil {
			b.Fatalf("create stream %s: %v", streams[p], err)
		}
	}
	defer func() {
		for _, s := range streams {
			if err := conns[0].DeleteStream(ctx, s); err != nil {
				b.Errorf("delete stream %s: %v", s, err)
			}
		}
	}()

	body := payload
	if c.batch > 1 {
		// A batch message is its records one after the other, each preceded by its length.
		body = nil
		for range c.batch {
			body = binary.AppendUvarint(body, uint64(len(payload)))
			body = append(body, payload...)
		}
	}
	messages := (b.N + c.batch - 1) / c.batch
	message := func(w, i int) *nats.Msg {
		m := nats.NewMsg(fmt.Sprintf("engram.wal.%d.space-%02d", w%c.streams, w))
		m.Header.Set(js.MsgIDHeader, fmt.Sprintf("m%d", i))
		m.Data = body
		return m
	}
	var acked atomic.Int64
	var r run
	switch c.publish {
	case "sync":
		r = drive(b, messages, func(w, i int, lat *[]time.Duration) error {
			t := time.Now()
			if _, err := conns[w%len(conns)].PublishMsg(ctx, message(w, i)); err != nil {
				return fmt.Errorf("publish: %w", err)
			}
			*lat = append(*lat, time.Since(t))
			acked.Add(1)
			return nil
		}, nil)
	case "async":
		r = publishAsync(b, conns, messages, message, &acked)
	default:
		b.Fatalf("unknown publish mode %q", c.publish)
	}
	b.StopTimer()
	if b.Failed() {
		return
	}
	var stored uint64
	for p, s := range streams {
		st, err := conns[p%len(conns)].Stream(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			b.Fatal(err)
		}
		stored += info.State.Msgs
	}
	if stored != uint64(acked.Load()) || stored != uint64(messages) {
		b.Fatalf("streams hold %d messages, %d acknowledged, %d published", stored, acked.Load(), messages)
	}
	r.records = messages * c.batch
	r.report(b, len(payload))
	b.ReportMetric(float64(c.batch), "records/msg")
}

// publishAsync publishes messages from 64 publishers, each keeping up to window acks in
// flight; an ack's latency runs from the publish call until its publisher's collector sees
// it (acks of one publisher are awaited in publish order, as an owner answering its clients
// in stream order would).
func publishAsync(b *testing.B, conns []js.JetStream, messages int, message func(w, i int) *nats.Msg, acked *atomic.Int64) run {
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
