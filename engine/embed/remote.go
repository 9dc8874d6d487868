package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// remote is the client of an OpenAI-compatible or Ollama endpoint.
type remote struct {
	cfg   Config
	dim   int
	hc    *http.Client
	m     *Metrics
	wire  wire
	slots chan struct{} // one token per request in flight

	mu          sync.Mutex
	queue       []*job // small calls waiting to share a request
	dispatching bool   // a dispatch goroutine is running; it ends when the queue is empty
}

// job is one caller's texts waiting to go to the provider together with other callers'.
type job struct {
	texts []string
	vecs  [][]float32
	err   error
	done  chan struct{} // closed once vecs or err is set
}

// wire is one provider's request and response format.
type wire interface {
	request(c *Config, texts []string) any
	// vectors decodes a 2xx body into one vector per text, in order.
	vectors(body []byte, n int) ([][]float32, error)
	// message extracts the provider's error message from an error body.
	message(body []byte) string
}

func (r *remote) Dim() int       { return r.dim }
func (r *remote) BatchSize() int { return r.cfg.BatchSize }

// EmbedBatch embeds texts and fails as a whole if any part fails: the caller stores nothing
// of a call it cannot complete. A call of BatchSize texts or more is sent in batches of its
// own; smaller calls (a single remember, a recall cue) wait in a queue that the next free
// request slot sends as one request, so that concurrent callers share requests instead of
// queueing one request each behind the Concurrency bound.
func (r *remote) EmbedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	if r.m != nil {
		r.m.pending.Add(int64(len(texts)))
		defer r.m.pending.Add(-int64(len(texts)))
	}
	if len(texts) < r.cfg.BatchSize {
		return r.coalesce(ctx, texts)
	}
	return r.split(ctx, texts)
}

// coalesce queues the texts for the dispatcher and waits for their vectors.
func (r *remote) coalesce(ctx context.Context, texts []string) ([][]float32, error) {
	j := &job{texts: texts, done: make(chan struct{})}
	r.mu.Lock()
	r.queue = append(r.queue, j)
	start := !r.dispatching
	r.dispatching = true
	r.mu.Unlock()
	if start {
		go r.dispatch()
	}
	select {
	case <-j.done:
		return j.vecs, j.err
	case <-ctx.Done():
		if r.withdraw(j) {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
		}
		<-j.done // already in a request: its answer is on the way
		return j.vecs, j.err
	}
}

// dispatch waits for a free request slot, takes the queued jobs, whole and in order, up
// to BatchSize texts (at least one job), and sends them as one request, until the queue is
// empty. While every slot is busy the queue grows, so the busier the provider, the larger
// its requests.
func (r *remote) dispatch() {
	for {
		r.slots <- struct{}{}
		r.mu.Lock()
		k, n := 0, 0
		for k < len(r.queue) && (k == 0 || n+len(r.queue[k].texts) <= r.cfg.BatchSize) {
			n += len(r.queue[k].texts)
			k++
		}
		if k == 0 {
			r.dispatching = false
			r.mu.Unlock()
			<-r.slots
			return
		}
		jobs := r.queue[:k:k]
		r.queue = append([]*job(nil), r.queue[k:]...)
		r.mu.Unlock()
		go func() {
			defer func() { <-r.slots }()
			r.sendJobs(jobs, n)
		}()
	}
}

// sendJobs sends jobs as one request of n texts and hands each its vectors or the error.
// The request carries several callers' texts, so it is bounded by the timeout alone.
func (r *remote) sendJobs(jobs []*job, n int) {
	texts := make([]string, 0, n)
	for _, j := range jobs {
		texts = append(texts, j.texts...)
	}
	vecs, err := r.batch(context.Background(), texts)
	for _, j := range jobs {
		if err != nil {
			j.err = err
		} else {
			j.vecs, vecs = vecs[:len(j.texts):len(j.texts)], vecs[len(j.texts):]
		}
		close(j.done)
	}
}

// withdraw removes a job that no request has taken yet; false means one has.
func (r *remote) withdraw(j *job) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, q := range r.queue {
		if q == j {
			r.queue = append(r.queue[:i], r.queue[i+1:]...)
			return true
		}
	}
	return false
}

// split sends texts in batches of BatchSize, Concurrency at a time.
func (r *remote) split(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for lo := 0; lo < len(texts); lo += r.cfg.BatchSize {
		hi := min(lo+r.cfg.BatchSize, len(texts))
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			if first == nil {
				first = fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
			}
			return nil, first
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-r.slots }()
			vecs, err := r.batch(ctx, texts[lo:hi])
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
				return
			}
			copy(out[lo:hi], vecs)
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return out, nil
}

// batch sends one request, again after a 429, a 5xx or no answer, within the timeout.
func (r *remote) batch(ctx context.Context, texts []string) ([][]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	body, err := json.Marshal(r.wire.request(&r.cfg, texts))
	if err != nil {
		return nil, fmt.Errorf("%w: encode request: %v", ErrProvider, err)
	}
	var last error
	for attempt := 0; ; attempt++ {
		vecs, wait, err := r.send(ctx, body, len(texts))
		if err == nil {
			return vecs, nil
		}
		if r.m != nil {
			r.m.Errors.Inc()
		}
		last = err
		if !errors.Is(err, ErrUnavailable) || attempt >= r.cfg.MaxRetries {
			return nil, last
		}
		if wait <= 0 {
			wait = backoff(attempt)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (gave up after %d attempts: %v)", last, attempt+1, ctx.Err())
		}
	}
}

// backoff is the pause before retry attempt+1 when the provider gave no Retry-After.
func backoff(attempt int) time.Duration {
	return time.Duration(100*math.Pow(2, float64(attempt))) * time.Millisecond
}

// send makes one request. wait is the provider's Retry-After, when it gave one.
func (r *remote) send(ctx context.Context, body []byte, n int) (vecs [][]float32, wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrProvider, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}
	start := time.Now()
	resp, err := r.hc.Do(req)
	if r.m != nil {
		r.m.Latency.UpdateDuration(start)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s %s: %v", ErrUnavailable, r.cfg.Provider, r.cfg.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s %s: reading the answer: %v", ErrUnavailable, r.cfg.Provider, r.cfg.URL, err)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("%w: %s %s answered HTTP %d: %s",
			ErrUnavailable, r.cfg.Provider, r.cfg.URL, resp.StatusCode, r.wire.message(b))
	case resp.StatusCode/100 != 2:
		return nil, 0, fmt.Errorf("%w: %s %s answered HTTP %d: %s", ErrProvider, r.cfg.Provider, r.cfg.URL, resp.StatusCode, r.wire.message(b))
	}
	vecs, err = r.wire.vectors(b, n)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s %s: %v", ErrProvider, r.cfg.Provider, r.cfg.URL, err)
	}
	for i, v := range vecs {
		if len(v) != r.dim {
			return nil, 0, fmt.Errorf("%w: %s model %q returned a %d-dimensional vector for text %d; the space's dimension is %d",
				ErrProvider, r.cfg.Provider, r.cfg.Model, len(v), i, r.dim)
		}
	}
	return vecs, 0, nil
}

// retryAfter reads a Retry-After of whole seconds (the form providers send); 0 otherwise.
func retryAfter(v string) time.Duration {
	s, err := strconv.Atoi(v)
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

// snippet is an error body cut short for a message.
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
