package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// Mixed load (-mode mixed): -writers clients post batches of -batch memories, each with a
// random -dim vector of its own, while -readers clients recall by random vectors, all for
// -duration on one space. It reports the ingestion rate, recall p50/p99 over the run, the
// background lag sampled every second and at the end, then waits for the lag to drain and
// recalls the same space at rest for -rest-duration, so that the ratio of recall p99 under
// ingestion to recall p99 at rest comes from one run.

// vectorPool holds formatted float values; a vector is dim random picks among them, so
// every memory gets a vector of its own for the cost of copying bytes, not of formatting
// floats, which would take the CPU the server under test needs.
type vectorPool [][]byte

func newVectorPool(rng *rand.Rand) vectorPool {
	p := make(vectorPool, 4096)
	for i := range p {
		p[i] = strconv.AppendFloat(nil, rng.Float64()*2-1, 'f', 6, 32)
	}
	return p
}

// appendVector appends a JSON array of dim random values.
func (p vectorPool) appendVector(b []byte, rng *rand.Rand, dim int) []byte {
	b = append(b, '[')
	for i := range dim {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p[rng.IntN(len(p))]...)
	}
	return append(b, ']')
}

// mixedBatches fills each request with a batch of n fresh memories.
func mixedBatches(space string, pool vectorPool, dim, n int) requestFn {
	var seeds atomic.Uint64
	// A generator per writer in flight: fill runs on the writers' goroutines.
	rngs := sync.Pool{New: func() any { return rand.New(rand.NewPCG(seeds.Add(1), 99)) }}
	var buf sync.Pool
	return func(i int64, req *fasthttp.Request) {
		rng := rngs.Get().(*rand.Rand)
		defer rngs.Put(rng)
		b, _ := buf.Get().(*[]byte)
		if b == nil {
			b = new([]byte)
		}
		body := (*b)[:0]
		for k := range n {
			body = fmt.Appendf(body, `{"content":"mixed load memory %d-%d","confidence":0.8,"tags":["loadgen"],"embedding":`, i, k)
			body = pool.appendVector(body, rng, dim)
			body = append(body, "}\n"...)
		}
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI("/api/v1/memories/batch")
		req.Header.Set("X-Memory-Space", space)
		req.Header.SetContentType("application/x-ndjson")
		req.SetBody(body)
		*b = body
		buf.Put(b)
	}
}

// vectorRecalls recalls by one of 64 random vectors in turn: the nearest max_results,
// whatever their score.
func vectorRecalls(space, mode string, pool vectorPool, rng *rand.Rand, dim int) requestFn {
	bodies := make([][]byte, 64)
	for i := range bodies {
		b := []byte(`{"max_results":10,"threshold":0,"mode":"` + mode + `","embedding":`)
		b = pool.appendVector(b, rng, dim)
		bodies[i] = append(b, '}')
	}
	return func(i int64, req *fasthttp.Request) {
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI("/api/v1/memories/recall")
		req.Header.Set("X-Memory-Space", space)
		req.Header.SetContentType("application/json")
		req.SetBody(bodies[i%int64(len(bodies))])
	}
}

// lagFigures are a space's background figures as GET /api/v1/system/introspect reports
// them.
type lagFigures struct {
	memories, indexRows, indexWorkMS, linkQueue, linkWorkMS, share float64
}

func (l lagFigures) String() string {
	return fmt.Sprintf("%.0f memories; index lag %.0f rows (%.2f s of work); link queue %.0f (%.2f s of work); background share %.3f",
		l.memories, l.indexRows, l.indexWorkMS/1000, l.linkQueue, l.linkWorkMS/1000, l.share)
}

func readLag(addr, space string) (lagFigures, error) {
	status, body, err := fasthttp.Get(nil, "http://"+addr+"/api/v1/system/introspect?space="+space)
	if err != nil {
		return lagFigures{}, fmt.Errorf("introspect: %w", err)
	}
	if status != 200 {
		return lagFigures{}, fmt.Errorf("introspect: status %d: %.200s", status, body)
	}
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		return lagFigures{}, fmt.Errorf("introspect: %w", err)
	}
	m := v.Get("metrics")
	return lagFigures{m.GetFloat64("memories"), m.GetFloat64("index_lag_rows"), m.GetFloat64("index_lag_work_ms"),
		m.GetFloat64("link_queue"), m.GetFloat64("link_lag_work_ms"), m.GetFloat64("background_share")}, nil
}

// runMixed drives the mixed load against addr and prints its figures.
func runMixed(addr string, c config) error {
	rng := rand.New(rand.NewPCG(3, 4))
	pool := newVectorPool(rng)
	recalls := vectorRecalls(c.space, c.recallMode, pool, rng, c.dim)
	if c.growTo > 0 {
		if err := growTo(addr, c, pool); err != nil {
			return err
		}
	}
	fmt.Printf("mixed load on space %q: %d writers × %d memories of %d-d a batch, %d readers (recall mode %s), %s\n\n",
		c.space, c.writers, c.batch, c.dim, c.readers, c.recallMode, c.duration)

	// The lag, sampled every second while the load runs.
	stop := make(chan struct{})
	var samples []lagFigures
	var sampled sync.WaitGroup
	sampled.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if l, err := readLag(addr, c.space); err == nil {
					samples = append(samples, l)
				}
			}
		}
	})
	var write, read result
	var wg sync.WaitGroup
	wc, rc := c, c
	wc.clients, rc.clients = c.writers, c.readers
	// The profiles cover the load, not the drain or the recalls at rest.
	stopProfile, err := startProfile(c.profile, c.mutex, c.block, c.trace)
	if err != nil {
		return err
	}
	wg.Go(func() {
		write = drive(addr, wc, mixedBatches(c.space, pool, c.dim, c.batch), 200, acceptedAll(c.batch))
	})
	wg.Go(func() { read = drive(addr, rc, recalls, 200, nil) })
	wg.Wait()
	stopProfile()
	end, err := readLag(addr, c.space)
	close(stop)
	sampled.Wait()
	if err != nil {
		return err
	}
	write.items = c.batch
	write.concurrent, read.concurrent = true, true

	printHeader()
	write.print("mixed: writers")
	read.print("mixed: recall")
	var peak lagFigures
	for _, s := range samples {
		if s.indexRows+s.linkQueue > peak.indexRows+peak.linkQueue {
			peak = s
		}
	}
	fmt.Printf("\nlag at the end: %s\n", end)
	fmt.Printf("lag at its peak (of %d samples, by rows waiting): %s\n", len(samples), peak)

	// Drain: no requests, so the lanes run flat out.
	l, took, err := waitDrained(addr, c.space)
	if err != nil {
		return err
	}
	fmt.Printf("lag drained in %s with no requests; %.0f memories\n", took.Round(time.Millisecond), l.memories)
	rest := rc
	rest.duration = c.restDuration
	atRest := drive(addr, rest, recalls, 200, nil)
	atRest.print("at rest: recall")
	if p := atRest.quantile(0.99); p > 0 {
		fmt.Printf("\nrecall p99 under ingestion / at rest: %.2f (target ≤ 2); p50 %.2f\n",
			float64(read.quantile(0.99))/float64(p), float64(read.quantile(0.50))/float64(atRest.quantile(0.50)))
	}
	return nil
}

// retryAfter is how long an overloaded server asked a client to wait (Retry-After, in
// seconds), at most a second so a run ends on time; 0 when it did not ask.
func retryAfter(resp *fasthttp.Response) time.Duration {
	if s := resp.StatusCode(); s != fasthttp.StatusTooManyRequests && s != fasthttp.StatusServiceUnavailable {
		return 0
	}
	secs, err := strconv.Atoi(string(bytes.TrimSpace(resp.Header.Peek("Retry-After"))))
	if err != nil || secs <= 0 {
		return 0
	}
	return min(time.Duration(secs)*time.Second, time.Second)
}

// waitDrained waits until nothing of space waits for edges or for the index, and returns
// its figures then and how long that took.
func waitDrained(addr, space string) (lagFigures, time.Duration, error) {
	began := time.Now()
	for {
		l, err := readLag(addr, space)
		if err != nil {
			return l, 0, err
		}
		if l.indexRows == 0 && l.linkQueue == 0 {
			return l, time.Since(began), nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// growTo posts batches of fresh memories from one client, waiting out refusals, until the
// space holds -grow-to memories, then waits for its lag to drain: the timed run then starts
// on a space of that size with its index caught up, whatever rate the server lets the
// writers ingest at.
func growTo(addr string, c config, pool vectorPool) error {
	client := &fasthttp.HostClient{Addr: addr, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	fill := mixedBatches(c.space, pool, c.dim, c.batch)
	began := time.Now()
	for i := int64(0); ; i++ {
		if i%10 == 0 {
			l, err := readLag(addr, c.space)
			if err != nil {
				return err
			}
			if int(l.memories) >= c.growTo {
				break
			}
		}
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		fill(-1-i, req) // negative: the timed run's contents count from 0
		req.SetHost(addr)
		err := client.Do(req, resp)
		status, wait := resp.StatusCode(), retryAfter(resp)
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		switch {
		case err != nil:
			return fmt.Errorf("grow: %w", err)
		case wait > 0:
			time.Sleep(wait)
		case status != fasthttp.StatusOK:
			return fmt.Errorf("grow: status %d", status)
		}
	}
	l, took, err := waitDrained(addr, c.space)
	if err != nil {
		return err
	}
	fmt.Printf("grew the space to %.0f memories in %s (lag drained in %s of it)\n", l.memories, time.Since(began).Round(time.Second), took.Round(time.Millisecond))
	return nil
}
