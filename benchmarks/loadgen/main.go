// Command loadgen measures the HTTP frontend against its ceiling.
//
// It starts (a) an in-process engine and HTTP frontend on a temporary data root, with
// durability on (wal_sync = always), unless -addr names a running server, and (b) a bare
// fasthttp server whose handler only parses the same remember JSON with the server's own
// decoder (the embedding read ahead by vecjson.Cut, the rest by fastjson; -ceiling-decoder
// fastjson lets fastjson read it all) and answers 201: the most any remember handler could
// do on this machine. It drives both
// with -clients concurrent keep-alive clients for -duration each and prints throughput,
// p50/p99 latency and the remember/ceiling ratio (DESIGN: ≥ 50%), then drives recall.
//
// Batch ingestion (POST /api/v1/memories/batch, -batch NDJSON items per request) is driven
// the same way against both servers; the bare one parses every line of the batch and
// answers 200. Before the runs it measures the machine's limits in the same process:
// memory copy bandwidth and the latency of a 4 KiB append made durable with fdatasync in
// the data root (see benchmarks/limits), so every figure can be read against them.
//
//	go run ./benchmarks/loadgen -clients 64 -duration 10s -dim 768 -mode all
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engram-go/engram/benchmarks/limits"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	_ "github.com/engram-go/engram/frontend/httpapi" // registers the "http" frontend
	"github.com/engram-go/engram/internal/procs"
	"github.com/engram-go/engram/internal/vecjson"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

type config struct {
	clients  int
	duration time.Duration
	dim      int
	mode     string
	addr     string
	space    string
	spaces   int
	bodies   int
	walSync  string
	preload  int
	profile  string
	mutex    string
	block    string
	trace    string
	batch    int
	rounds   int
	limits   bool
	limitDir string
	decoder  string
	textOnly bool
	// mixed mode
	writers, readers int
	restDuration     time.Duration
	recallMode       string
	maxShare         float64
	maxLag           time.Duration
	maxIndexBytes    int64
	growTo           int
}

func main() {
	var c config
	flag.IntVar(&c.clients, "clients", 64, "concurrent keep-alive clients")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long each measurement runs")
	flag.IntVar(&c.dim, "dim", 768, "embedding dimension")
	flag.BoolVar(&c.textOnly, "text-only", false, "remember and batch bodies carry no embedding: the server's built-in embedder makes each -dim vector from the text")
	flag.StringVar(&c.mode, "mode", "all", "remember | batch | recall | all (remember and batch against their ceilings, then recall) | mixed (writers and readers together on one space, then recall at rest)")
	flag.IntVar(&c.writers, "writers", 8, "mixed: clients posting batches of -batch fresh memories")
	flag.IntVar(&c.readers, "readers", 4, "mixed: clients recalling by vector")
	flag.DurationVar(&c.restDuration, "rest-duration", 10*time.Second, "mixed: how long the readers recall at rest, once the background lag has drained")
	flag.StringVar(&c.recallMode, "recall-mode", "hybrid", "mixed: the readers' recall mode: similarity | spreading | hybrid")
	flag.Float64Var(&c.maxShare, "background-max-share", engine.DefaultBackgroundMaxShare, "in-process server's [limits] background_max_share; 0.05 pins the background budget at its base share")
	flag.IntVar(&c.growTo, "grow-to", 0, "mixed: before the timed run, grow the space to this many memories and let its lag drain")
	flag.Int64Var(&c.maxIndexBytes, "max-index-lag-bytes", engine.DefaultMaxIndexLagBytes, "in-process server's [limits] max_index_lag_bytes: the int8 codes of the rows a space's vector index may lack before its remembers wait and then answer 503")
	flag.DurationVar(&c.maxLag, "max-background-lag", engine.DefaultMaxBackgroundLag, "in-process server's [limits] max_background_lag: the index and link work a space may owe before its remembers answer 503")
	flag.StringVar(&c.addr, "addr", "", "host:port of a running server (default: start one in-process)")
	flag.StringVar(&c.space, "space", "loadgen", "memory space to write and read")
	flag.IntVar(&c.spaces, "spaces", 1, "spread the remember run's requests round-robin over this many spaces (<space>-0000, …; created before the runs)")
	flag.IntVar(&c.bodies, "bodies", 256, "distinct remember bodies to cycle through")
	flag.StringVar(&c.walSync, "wal-sync", "always", "wal_sync of the in-process server: always | interval | never")
	flag.IntVar(&c.preload, "preload", 10000, "memories stored before a recall-only run")
	flag.StringVar(&c.profile, "cpuprofile", "", "write a CPU profile of the last engram remember round (-mode batch: the engram batch run; -mode mixed: the load) to this file")
	flag.StringVar(&c.mutex, "mutexprofile", "", "write a mutex contention profile of the last engram remember round (-mode batch: the engram batch run; -mode mixed: the load) to this file")
	flag.StringVar(&c.trace, "trace", "", "write an execution trace of the last engram remember round (-mode batch: the engram batch run; -mode mixed: the load) to this file (go tool trace)")
	flag.StringVar(&c.block, "blockprofile", "", "write a blocking profile (channels, selects, locks) of the last engram remember round (-mode batch: the engram batch run; -mode mixed: the load) to this file")
	flag.IntVar(&c.rounds, "rounds", 3, "alternating ceiling/engram rounds of the remember run; the ratio is their median")
	flag.IntVar(&c.batch, "batch", 100, "memories per POST /api/v1/memories/batch request of the batch run")
	flag.BoolVar(&c.limits, "limits", true, "measure memory copy bandwidth and fdatasync latency before the runs")
	flag.StringVar(&c.limitDir, "limits-dir", "", "folder for the fdatasync probe (default: the in-process data root, else the temporary folder)")
	flag.StringVar(&c.decoder, "ceiling-decoder", "read-ahead", "how the ceiling reads a body: fastjson (fastjson reads it all) | read-ahead (the embedding read by the server's own one-pass reader, the rest by fastjson)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	// The server sizes its scheduler this way (cmd/engram); the ceiling runs in this
	// process too, so both sides of the ratio get the same scheduler.
	fmt.Printf("GOMAXPROCS %d on %d CPUs\n", procs.Tune(), runtime.NumCPU())
	switch c.mode {
	case "remember", "batch", "recall", "all", "mixed":
	default:
		return fmt.Errorf("-mode must be remember, batch, recall, all or mixed, got %q", c.mode)
	}
	if c.decoder != "fastjson" && c.decoder != "read-ahead" {
		return fmt.Errorf("-ceiling-decoder must be fastjson or read-ahead, got %q", c.decoder)
	}
	if c.clients < 1 || c.dim < 1 || c.bodies < 1 || c.duration <= 0 || c.batch < 1 || c.rounds < 1 {
		return errors.New("-clients, -dim, -bodies, -batch, -rounds and -duration must be positive")
	}
	if c.mode == "mixed" && (c.writers < 1 || c.readers < 1 || c.restDuration <= 0) {
		return errors.New("-writers, -readers and -rest-duration must be positive")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bodies := make([][]byte, c.bodies)
	for i := range bodies {
		dim := c.dim
		if c.textOnly {
			dim = 0
		}
		bodies[i] = rememberBody(rng, dim, i)
	}

	var eng *engine.Engine
	target := c.addr
	if target == "" {
		root, err := os.MkdirTemp("", "engram-loadgen-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(root)
		if c.limitDir == "" {
			c.limitDir = root
		}
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		eng, err = engine.Open(engine.Config{
			DataRoot: root, AutoCreate: true, Logger: quiet,
			MaxSpaces: max(10000, c.spaces+2), MaxOpenSpaces: max(256, c.spaces+2), // every space stays open
			Defaults:           engine.SpaceSettings{Dimension: c.dim, WALSync: c.walSync, HotCapacity: 50_000_000},
			BackgroundMaxShare: c.maxShare,
			MaxBackgroundLag:   c.maxLag,
			MaxIndexLagBytes:   c.maxIndexBytes,
		})
		if err != nil {
			return err
		}
		defer eng.Close()
		for _, name := range rememberSpaces(c) {
			if _, _, err := eng.CreateSpace(name, engine.SpaceSettings{}); err != nil {
				return err
			}
		}
		srv, err := frontend.New("http", frontend.Options{Engine: eng, Logger: quiet, HTTPListen: "127.0.0.1:0"})
		if err != nil {
			return err
		}
		if err := srv.Start(); err != nil {
			return err
		}
		defer srv.Stop(context.Background())
		target = srv.Addr()
		fmt.Printf("in-process engram on %s (data root %s, wal_sync=%s, dim=%d, background_max_share=%g, max_background_lag=%s, max_index_lag_bytes=%d)\n", target, root, c.walSync, c.dim, c.maxShare, c.maxLag, c.maxIndexBytes)
	}
	if c.mode == "mixed" {
		return runMixed(target, c)
	}

	var lim machineLimits
	if c.limits {
		var err error
		if lim, err = measureLimits(c.limitDir); err != nil {
			return err
		}
	}

	ceiling, err := startCeiling(c.decoder == "read-ahead")
	if err != nil {
		return err
	}
	defer ceiling.Close()

	if c.mode == "recall" && c.addr == "" {
		if err := preload(target, c, bodies); err != nil {
			return err
		}
	}
	given := fmt.Sprintf("%d-d embeddings", c.dim)
	if c.textOnly {
		given = fmt.Sprintf("text only (%d-d vectors embedded by the server)", c.dim)
	}
	fmt.Printf("%d clients, %s per run, %s, ceiling decoder %s, remember over %d space(s)\n\n", c.clients, c.duration, given, c.decoder, len(rememberSpaces(c)))
	printHeader()
	remember := "/api/v1/memories/remember"
	var bat, batCeil result
	var ratios []float64
	var wals []func() // WAL figures of each remember run, printed with the summary
	var drains []string
	// settle waits for the in-process engine's background work (association edges, index
	// inserts) left by the previous run, so that it never runs during a ceiling run, and
	// notes how long the catch-up took: the cost the remember run deferred.
	settle := func(after string) {
		if eng == nil {
			return
		}
		var d time.Duration
		var n int
		for _, name := range rememberSpaces(c) {
			dn, nn := waitBackground(eng, name)
			d += dn
			n += nn
		}
		if n > 0 {
			drains = append(drains, fmt.Sprintf("after %s: %d memories waited for edges or the index; caught up in %s", after, n, d.Round(time.Millisecond)))
		}
	}
	if c.mode == "remember" || c.mode == "all" {
		for round := 1; round <= c.rounds; round++ {
			settle(fmt.Sprintf("round %d", round-1))
			ceil := drive(ceiling.Addr().String(), c, postBodies(remember, rememberSpaces(c), bodies), 201, nil)
			ceil.items = 1
			ceil.print(fmt.Sprintf("ceiling remember #%d", round))
			var stop func()
			if round == c.rounds {
				var err error
				if stop, err = startProfile(c.profile, c.mutex, c.block, c.trace); err != nil {
					return err
				}
			}
			var before walFigures
			if eng != nil {
				before = readWAL(eng)
			}
			rem := drive(target, c, postBodies(remember, rememberSpaces(c), bodies), 201, nil)
			if stop != nil {
				stop()
			}
			rem.items = 1
			rem.print(fmt.Sprintf("engram remember #%d", round))
			if eng != nil {
				after, label := readWAL(eng), fmt.Sprintf("remember #%d", round)
				wals = append(wals, func() { printWAL(label, before, after, rem.elapsed) })
			}
			ratios = append(ratios, rem.rate()/ceil.rate())
		}
		settle(fmt.Sprintf("round %d", c.rounds))
	}
	if c.mode == "batch" || c.mode == "all" {
		batches := batchBodies(bodies, c.batch)
		settle("the remember runs")
		batCeil = drive(ceiling.Addr().String(), c, postBatches(c.space, batches), 200, acceptedAll(c.batch))
		batCeil.items = c.batch
		batCeil.print(fmt.Sprintf("ceiling batch ×%d", c.batch))
		var stop func()
		if c.mode == "batch" { // the profiles are of the remember run otherwise
			var err error
			if stop, err = startProfile(c.profile, c.mutex, c.block, c.trace); err != nil {
				return err
			}
		}
		bat = drive(target, c, postBatches(c.space, batches), 200, acceptedAll(c.batch))
		if stop != nil {
			stop()
		}
		bat.items = c.batch
		bat.print(fmt.Sprintf("engram batch ×%d", c.batch))
	}
	if c.mode == "recall" || c.mode == "all" {
		queries := []string{"weather mountains", "storm valley", "memory about the weather", "sunny ridge", "fog"}
		settle("the batch run")
		rec := drive(target, c, getQueries(c.space, queries), 200, nil)
		rec.print("engram recall")
	}
	fmt.Println()
	for _, d := range drains {
		fmt.Println("background", d)
	}
	if len(ratios) > 0 {
		sorted := slices.Clone(ratios)
		slices.Sort(sorted)
		parts := make([]string, len(ratios))
		for i, r := range ratios {
			parts[i] = strconv.FormatFloat(r, 'f', 2, 64)
		}
		fmt.Printf("remember/ceiling ratio: %.2f, median of rounds [%s] (target ≥ 0.50)\n", sorted[len(sorted)/2], strings.Join(parts, " "))
	}
	if batCeil.rate() > 0 {
		fmt.Printf("batch/ceiling ratio: %.2f (memories/s %.0f of %.0f)\n", bat.rate()/batCeil.rate(), bat.itemRate(), batCeil.itemRate())
	}
	for _, w := range wals {
		w()
	}
	if c.limits {
		lim.print()
	}
	return nil
}

// machineLimits are the machine's ceilings, measured in the same run.
type machineLimits struct {
	copy limits.CopyResult
	sync limits.SyncResult
}

// measureLimits times 256 MiB copies and 4 KiB appends made durable with fdatasync in
// dir (the data root's disk) while nothing else of this process runs.
func measureLimits(dir string) (machineLimits, error) {
	var l machineLimits
	var err error
	if l.copy, err = limits.MemCopy(limits.DefaultCopyBytes, 8); err != nil {
		return l, fmt.Errorf("limits: %w", err)
	}
	if dir == "" {
		dir = os.TempDir()
	}
	if l.sync, err = limits.Fdatasync(dir, limits.DefaultSyncBytes, 500); err != nil {
		return l, fmt.Errorf("limits: %w", err)
	}
	return l, nil
}

func (l machineLimits) print() {
	fmt.Printf("limits: %s\n", l.copy)
	fmt.Printf("limits: %s\n", l.sync)
}

// startProfile starts the CPU, mutex and block profiles and the execution trace that
// have a path and returns what stops and writes them.
func startProfile(cpuPath, mutexPath, blockPath, tracePath string) (func(), error) {
	var stops []func()
	stop := func() {
		for _, s := range stops {
			s()
		}
	}
	// streamed writes a profile that streams into its file from start to stop.
	streamed := func(path string, start func(io.Writer) error, end func()) error {
		if path == "" {
			return nil
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := start(f); err != nil {
			f.Close()
			return err
		}
		stops = append(stops, func() { end(); f.Close() })
		return nil
	}
	// sampled turns on a sampled profile and writes it out at stop.
	sampled := func(path, name string, setRate func(int), rate int) {
		if path == "" {
			return
		}
		setRate(rate)
		stops = append(stops, func() {
			setRate(0)
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup(name).WriteTo(f, 0)
				f.Close()
			}
		})
	}
	if err := streamed(tracePath, trace.Start, trace.Stop); err != nil {
		stop()
		return nil, err
	}
	if err := streamed(cpuPath, pprof.StartCPUProfile, pprof.StopCPUProfile); err != nil {
		stop()
		return nil, err
	}
	sampled(mutexPath, "mutex", func(r int) { runtime.SetMutexProfileFraction(r) }, 5)
	sampled(blockPath, "block", runtime.SetBlockProfileRate, 10000) // one sample per 10µs blocked
	return stop, nil
}

// rememberBody is a remember body: a sentence, tags and a dim-float embedding (none when
// dim is 0).
func rememberBody(rng *rand.Rand, dim, n int) []byte {
	words := []string{"weather", "mountains", "storm", "valley", "sunny", "ridge", "fog", "river"}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"content":"loadgen memory %d about the %s and the %s","confidence":0.8,"tags":["loadgen"]`,
		n, words[rng.IntN(len(words))], words[rng.IntN(len(words))])
	if dim == 0 {
		b.WriteByte('}')
		return b.Bytes()
	}
	b.WriteString(`,"embedding":[`)
	for i := 0; i < dim; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(rng.Float64()*2-1, 'f', 6, 32))
	}
	b.WriteString("]}")
	return b.Bytes()
}

// startCeiling serves a handler that only parses the remember JSON and answers 201; on
// the batch path it parses every NDJSON line the same way and answers 200. With
// readAhead it reads the embedding as the server does (vecjson.Cut) and the rest with
// fastjson.
func startCeiling(readAhead bool) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var pool fastjson.ParserPool
	// readItem reads every field as a real handler must, the embedding included.
	// Like the server, a handler reuses one embedding buffer per request in flight.
	var vecs sync.Pool
	readItem := func(p *fastjson.Parser, body []byte) (float64, error) {
		sum := 0.0
		if readAhead {
			buf, _ := vecs.Get().(*[]float32)
			if buf == nil {
				buf = new([]float32)
			}
			defer vecs.Put(buf)
			if rest, vec, ok := vecjson.Cut(body, *buf); ok {
				*buf = vec[:0]
				body = rest
				for _, f := range vec {
					sum += float64(f)
				}
			}
		}
		v, err := p.ParseBytes(body)
		if err != nil {
			return 0, err
		}
		_ = v.GetStringBytes("content")
		_ = v.GetFloat64("confidence")
		for _, x := range v.GetArray("embedding") {
			f, _ := x.Float64()
			sum += f
		}
		return sum, nil
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		p := pool.Get()
		defer pool.Put(p)
		if string(ctx.Path()) == "/api/v1/memories/batch" {
			n, sum := 0, 0.0
			for line := range bytes.SplitSeq(ctx.PostBody(), []byte{'\n'}) {
				if len(bytes.TrimSpace(line)) == 0 {
					continue
				}
				s, err := readItem(p, line)
				if err != nil {
					ctx.SetStatusCode(400)
					return
				}
				n, sum = n+1, sum+s
			}
			ctx.SetStatusCode(200)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"accepted":` + strconv.Itoa(n) + `,"sum":` + strconv.FormatFloat(sum, 'g', 4, 64) + `}`)
			return
		}
		sum, err := readItem(p, ctx.PostBody())
		if err != nil {
			ctx.SetStatusCode(400)
			return
		}
		ctx.SetStatusCode(201)
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"memory_id":"ceiling","sum":` + strconv.FormatFloat(sum, 'g', 4, 64) + `}`)
	}}
	go srv.Serve(ln)
	return ln, nil
}

// request fills req for the i-th call.
type requestFn func(i int64, req *fasthttp.Request)

// rememberSpaces names the spaces the remember run writes to: -space alone, or -spaces of
// them named after it.
func rememberSpaces(c config) []string {
	if c.spaces <= 1 {
		return []string{c.space}
	}
	names := make([]string, c.spaces)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%04d", c.space, i)
	}
	return names
}

// postBodies posts the bodies in turn, the i-th call to spaces[i % len(spaces)].
func postBodies(path string, spaces []string, bodies [][]byte) requestFn {
	return func(i int64, req *fasthttp.Request) {
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI(path)
		req.Header.Set("X-Memory-Space", spaces[i%int64(len(spaces))])
		req.Header.SetContentType("application/json")
		req.SetBody(bodies[i%int64(len(bodies))])
	}
}

// batchBodies groups the remember bodies into NDJSON batches of n lines, enough distinct
// batches to cycle through all bodies.
func batchBodies(bodies [][]byte, n int) [][]byte {
	count := max(1, len(bodies)/n)
	out := make([][]byte, count)
	for b := range out {
		var buf bytes.Buffer
		for i := range n {
			buf.Write(bodies[(b*n+i)%len(bodies)])
			buf.WriteByte('\n')
		}
		out[b] = buf.Bytes()
	}
	return out
}

func postBatches(space string, batches [][]byte) requestFn {
	return func(i int64, req *fasthttp.Request) {
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI("/api/v1/memories/batch")
		req.Header.Set("X-Memory-Space", space)
		req.Header.SetContentType("application/x-ndjson")
		req.SetBody(batches[i%int64(len(batches))])
	}
}

func getQueries(space string, queries []string) requestFn {
	uris := make([]string, len(queries))
	for i, q := range queries {
		uris[i] = "/api/v1/memories/recall?max_results=10&query=" + url.QueryEscape(q)
	}
	return func(i int64, req *fasthttp.Request) {
		req.Header.SetMethod(fasthttp.MethodGet)
		req.SetRequestURI(uris[i%int64(len(uris))])
		req.Header.Set("X-Memory-Space", space)
	}
}

type result struct {
	requests, errors int64
	elapsed          time.Duration
	lat              []time.Duration
	firstError       string
	items            int // memories stored per request; 0 for a run that stores nothing
	// CPU readings around the run: cpu is this process's share of all the machine's
	// CPUs (server and clients when the server runs in-process), idle the machine's idle
	// and iowait share.
	cpuBefore, cpuAfter cpuSample
	// concurrent says another run shared the process meanwhile, so its CPU time is not
	// this run's alone and is not divided by its requests.
	concurrent bool
}

// cpuSample is a reading of this process's CPU time and of the machine's CPU counters
// (readCPU, per platform), so a run can say how busy it kept the machine and how much of it
// sat idle.
type cpuSample struct {
	process    time.Duration // user + system time of this process
	idle, all  uint64        // machine-wide idle + iowait and total ticks (/proc/stat)
	measurable bool
}

// itemRate is memories stored per second: successful requests times their items.
func (r result) itemRate() float64 { return r.rate() * float64(r.items) }

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests-r.errors) / r.elapsed.Seconds()
}

func (r result) quantile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(q*float64(len(r.lat))))]
}

func (r result) print(name string) {
	stored := "-"
	if r.items > 0 {
		stored = strconv.FormatFloat(r.itemRate(), 'f', 0, 64)
	}
	cpu, idle, perReq := "-", "-", "-"
	if r.cpuBefore.measurable && r.cpuAfter.measurable && r.cpuAfter.all > r.cpuBefore.all {
		used := r.cpuAfter.process - r.cpuBefore.process
		cpu = strconv.FormatFloat(100*used.Seconds()/(r.elapsed.Seconds()*float64(runtime.NumCPU())), 'f', 0, 64) + "%"
		idle = strconv.FormatFloat(100*float64(r.cpuAfter.idle-r.cpuBefore.idle)/float64(r.cpuAfter.all-r.cpuBefore.all), 'f', 0, 64) + "%"
		if ok := r.requests - r.errors; ok > 0 && !r.concurrent {
			perReq = strconv.FormatFloat(float64(used.Microseconds())/float64(ok), 'f', 1, 64)
		}
	}
	fmt.Printf("%-22s %10d %8d %11.1f %10s %10s %12s %6s %6s %10s\n", name, r.requests, r.errors, r.rate(),
		r.quantile(0.50).Round(time.Microsecond), r.quantile(0.99).Round(time.Microsecond), stored, cpu, idle, perReq)
	if r.firstError != "" {
		fmt.Printf("  first error: %s\n", r.firstError)
	}
}

// printHeader prints the column names of result.print.
func printHeader() {
	fmt.Printf("%-22s %10s %8s %11s %10s %10s %12s %6s %6s %10s\n", "run", "requests", "errors", "req/s", "p50", "p99", "memories/s", "cpu", "idle", "cpu-µs/req")
}

// acceptedAll checks a batch answer: every one of the n items was accepted.
func acceptedAll(n int) func(body []byte) error {
	return func(body []byte) error {
		v, err := fastjson.ParseBytes(body)
		if err != nil {
			return err
		}
		if got := v.GetInt("accepted"); got != n {
			return fmt.Errorf("%d of %d accepted: %.200s", got, n, body)
		}
		return nil
	}
}

// drive runs c.clients workers against addr for c.duration over keep-alive connections.
// An answer counts as an error unless it has wantStatus and, when check is set, check
// accepts its body.
func drive(addr string, c config, fill requestFn, wantStatus int, check func(body []byte) error) result {
	client := &fasthttp.HostClient{Addr: addr, MaxConns: c.clients, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	var next, errs atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, c.clients)
	deadline := time.Now().Add(c.duration)
	cpuBefore := readCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c.clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			lat := make([]time.Duration, 0, 1<<14)
			for time.Now().Before(deadline) {
				req.Reset()
				fill(next.Add(1), req)
				req.SetHost(addr)
				t0 := time.Now()
				err := client.Do(req, resp)
				lat = append(lat, time.Since(t0))
				if err == nil && resp.StatusCode() == wantStatus && check != nil {
					if cerr := check(resp.Body()); cerr != nil {
						err = cerr
					}
				}
				if err != nil || resp.StatusCode() != wantStatus {
					errs.Add(1)
					msg := ""
					if err != nil {
						msg = err.Error()
					} else {
						msg = fmt.Sprintf("status %d: %.200s", resp.StatusCode(), resp.Body())
					}
					firstErr.CompareAndSwap(nil, msg)
					if err == nil {
						time.Sleep(retryAfter(resp)) // an overloaded server asked for a pause
					}
				}
			}
			lats[w] = lat
		}(w)
	}
	wg.Wait()
	r := result{elapsed: time.Since(start), errors: errs.Load(), cpuBefore: cpuBefore, cpuAfter: readCPU()}
	for _, l := range lats {
		r.lat = append(r.lat, l...)
	}
	r.requests = int64(len(r.lat))
	slices.Sort(r.lat)
	if s, ok := firstErr.Load().(string); ok {
		r.firstError = s
	}
	return r
}

// preload stores c.preload memories through the batch route before a recall-only run.
func preload(addr string, c config, bodies [][]byte) error {
	client := &fasthttp.HostClient{Addr: addr}
	for done := 0; done < c.preload; {
		n := min(500, c.preload-done)
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			b.Write(bodies[(done+i)%len(bodies)])
			b.WriteByte('\n')
		}
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://" + addr + "/api/v1/memories/batch")
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.Set("X-Memory-Space", c.space)
		req.Header.SetContentType("application/x-ndjson")
		req.SetBody(b.Bytes())
		err := client.Do(req, resp)
		status := resp.StatusCode()
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		if err != nil || status != 200 {
			return fmt.Errorf("preload: status %d: %v", status, err)
		}
		done += n
	}
	fmt.Printf("preloaded %d memories\n", c.preload)
	return nil
}

// printWAL reports the engine's group commit figures from its metrics.
// waitBackground waits until the space has no memory waiting for association edges or
// for the vector index, and returns how long that took and how many were waiting.
func waitBackground(eng *engine.Engine, space string) (time.Duration, int) {
	sp, err := eng.Space(space)
	if err != nil {
		return 0, 0
	}
	start := time.Now()
	first := -1
	for {
		st := sp.Stats()
		n := max(st.LinkQueue, st.IndexLag)
		if first < 0 {
			first = n
		}
		if n == 0 {
			return time.Since(start), first
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// walFigures are the engine's WAL metrics at one moment: fsyncs (a flush shared by several
// spaces' logs counts once per log), seconds waited for them, records synced, the fsync
// latency histogram (bucket upper bound in seconds → count), and the node's flushes, the
// logs they covered and the seconds spent in them.
type walFigures struct {
	syncs, seconds, records     float64
	fsyncBuckets                map[float64]float64
	flushes, flushLogs, flushed float64
}

const fsyncBucketPrefix = `engram_wal_fsync_seconds_bucket{vmrange="`

func readWAL(eng *engine.Engine) walFigures {
	var buf bytes.Buffer
	eng.Metrics().WritePrometheus(&buf)
	vals := map[string]float64{}
	buckets := map[float64]float64{}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		vals[name] = f
		// A VictoriaMetrics histogram bucket: engram_wal_fsync_seconds_bucket{vmrange="lo...hi"}.
		if rng, ok := strings.CutPrefix(name, fsyncBucketPrefix); ok {
			_, hi, _ := strings.Cut(strings.TrimSuffix(rng, `"}`), "...")
			if upper, err := strconv.ParseFloat(hi, 64); err == nil {
				buckets[upper] += f
			}
		}
	}
	return walFigures{vals["engram_wal_fsync_seconds_count"], vals["engram_wal_fsync_seconds_sum"], vals["engram_wal_fsync_batch_records_sum"], buckets,
		vals["engram_wal_flushes_total"], vals["engram_wal_flushed_logs_total"], vals["engram_wal_flush_seconds_total"]}
}

// fsyncQuantiles reads the fsyncs made between two readings off the latency histogram:
// for each q, the upper bound of the bucket holding the q-quantile (buckets are 18 per
// decade, so within 14% of the true value).
func fsyncQuantiles(before, after walFigures, qs ...float64) []time.Duration {
	type bucket struct{ upper, n float64 }
	var bs []bucket
	total := 0.0
	for upper, n := range after.fsyncBuckets {
		if d := n - before.fsyncBuckets[upper]; d > 0 {
			bs = append(bs, bucket{upper, d})
			total += d
		}
	}
	if total == 0 {
		return nil
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.upper, b.upper) })
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		cum := 0.0
		for _, b := range bs {
			cum += b.n
			if cum >= q*total {
				out[i] = time.Duration(b.upper * float64(time.Second))
				break
			}
		}
	}
	return out
}

// printWAL prints what the log did between two readings over elapsed: fsyncs, their mean
// latency and batch, and the share of the time the log spent in fdatasync (near 100% means
// the disk's sync latency, not the CPU, bounds the run).
func printWAL(label string, before, after walFigures, elapsed time.Duration) {
	syncs := after.syncs - before.syncs
	if syncs <= 0 {
		return
	}
	secs := after.seconds - before.seconds
	fmt.Printf("WAL %s: %.0f fsyncs, mean %.2f ms, mean %.1f records per fsync, in fdatasync %.0f%% of the time",
		label, syncs, 1000*secs/syncs, (after.records-before.records)/syncs, 100*secs/elapsed.Seconds())
	if q := fsyncQuantiles(before, after, 0.5, 0.9, 0.99); q != nil {
		fmt.Printf("; fsync p50 ≤ %s, p90 ≤ %s, p99 ≤ %s", q[0].Round(time.Microsecond), q[1].Round(time.Microsecond), q[2].Round(time.Microsecond))
	}
	fmt.Println()
	if flushes := after.flushes - before.flushes; flushes > 0 && after.flushLogs-before.flushLogs > flushes {
		// Spaces' logs shared flushes: the per-log figures above count each shared flush
		// once per log, so the node's own figures say what the disk did.
		fmt.Printf("WAL %s shared: %.0f flushes, %.1f logs per flush, mean %.2f ms, flushing %.0f%% of the time\n",
			label, flushes, (after.flushLogs-before.flushLogs)/flushes, 1000*(after.flushed-before.flushed)/flushes,
			100*(after.flushed-before.flushed)/elapsed.Seconds())
	}
}
