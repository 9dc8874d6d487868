package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds the retries of 429 and 503 answers.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is sent in all; 1 disables retries.
	MaxAttempts int
	// MaxWait bounds the total time spent waiting between attempts; a Retry-After that
	// would pass it ends the retries with the server's error.
	MaxWait time.Duration
	// MaxDelay bounds one wait: a server asking for longer (a full space asks for 30 s)
	// is not going to clear soon, and its error is returned at once. 0 means MaxWait.
	MaxDelay time.Duration
	// DefaultDelay is the wait when an answer has no Retry-After.
	DefaultDelay time.Duration
}

// DefaultRetry is the policy of a client that sets none: four attempts, no single wait
// over 10 s, at most 30 s of waiting in all.
var DefaultRetry = RetryPolicy{MaxAttempts: 4, MaxWait: 30 * time.Second, MaxDelay: 10 * time.Second, DefaultDelay: time.Second}

// Client talks to one Engram server. It is safe for concurrent use; Space returns views
// that share its connections.
type Client struct {
	base   *url.URL
	space  string
	key    string
	http   *http.Client
	retry  RetryPolicy
	sleep  func(ctx context.Context, d time.Duration) error
	events streamTuning
}

// Option configures a Client.
type Option func(*Client)

// WithSpace sets the memory space of every call (sent as X-Memory-Space). Without it the
// server's default space, "default", is used.
func WithSpace(id string) Option { return func(c *Client) { c.space = id } }

// WithAPIKey sends "Authorization: Bearer key" with every call.
func WithAPIKey(key string) Option { return func(c *Client) { c.key = key } }

// WithHTTPClient replaces the HTTP client (its Timeout must leave room for streams:
// Subscribe uses the same client).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetry replaces DefaultRetry.
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// New returns a client of the server at baseURL ("http://127.0.0.1:7432"; a bare
// "host:port" is taken as http).
func New(baseURL string, opts ...Option) (*Client, error) {
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("client: base URL %q is not http(s)://host:port", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, http: http.DefaultClient, retry: DefaultRetry, sleep: sleepCtx, events: defaultStreamTuning}
	for _, o := range opts {
		o(c)
	}
	if c.retry.MaxAttempts < 1 {
		c.retry.MaxAttempts = 1
	}
	return c, nil
}

// Space returns a view of c bound to another space; c is unchanged.
func (c *Client) Space(id string) *Client {
	v := *c
	v.space = id
	return &v
}

// SpaceID is the space c addresses ("" = the server's default).
func (c *Client) SpaceID() string { return c.space }

// Addr is the server's host:port.
func (c *Client) Addr() string { return c.base.Host }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call describes one request.
type call struct {
	method      string
	path        string
	query       url.Values
	body        []byte // sent as is, with contentType
	contentType string
	noSpace     bool // a route outside any space (spaces by path, system routes)
	header      http.Header
}

func (c *Client) jsonCall(method, path string, query url.Values, body any) (call, error) {
	cl := call{method: method, path: path, query: query}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return cl, fmt.Errorf("client: encode %s %s: %w", method, path, err)
		}
		cl.body, cl.contentType = b, "application/json"
	}
	return cl, nil
}

// send sends cl, retrying 429 and 503 under the retry policy, and returns a 2xx answer
// with its body unread; any other answer becomes an *Error.
func (c *Client) send(ctx context.Context, cl call) (*http.Response, error) {
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, cl)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		apiErr := decodeError(resp, cl)
		if !apiErr.Retryable() || attempt >= c.retry.MaxAttempts {
			return nil, apiErr
		}
		d := apiErr.RetryAfter
		if d <= 0 {
			d = c.retry.DefaultDelay
		}
		if waited+d > c.retry.MaxWait || (c.retry.MaxDelay > 0 && d > c.retry.MaxDelay) {
			return nil, apiErr
		}
		if err := c.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("client: %s %s: waiting to retry: %w (last answer: %v)", cl.method, cl.path, err, apiErr)
		}
		waited += d
	}
}

func (c *Client) once(ctx context.Context, cl call) (*http.Response, error) {
	u := *c.base
	u.Path += cl.path
	if len(cl.query) > 0 {
		u.RawQuery = cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("client: build %s %s: %w", cl.method, cl.path, err)
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	if !cl.noSpace && c.space != "" {
		req.Header.Set("X-Memory-Space", c.space)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w: no Engram server is answering at %s: %v", ErrNoServer, c.base.Host, err)
		}
		return nil, fmt.Errorf("client: %s %s: %w", cl.method, cl.path, err)
	}
	return resp, nil
}

// decodeError reads an error answer and closes its body.
func decodeError(resp *http.Response, cl call) *Error {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &Error{Status: resp.StatusCode, Method: cl.method, Path: cl.path}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(s); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	var shape struct {
		Error struct {
			Code        string `json:"code"`
			Message     string `json:"message"`
			Educational string `json:"educational_context"`
			Guidance    string `json:"cognitive_guidance"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &shape); err == nil && shape.Error.Message != "" {
		e.Code, e.Message = shape.Error.Code, shape.Error.Message
		e.EducationalContext, e.CognitiveGuidance = shape.Error.Educational, shape.Error.Guidance
		return e
	}
	msg := strings.TrimSpace(string(b))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e.Message = msg
	return e
}

// do sends cl and decodes a JSON answer into out (nil: discard it).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	resp, err := c.send(ctx, cl)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: decode the answer of %s %s: %w", cl.method, cl.path, err)
	}
	return nil
}

// doJSON is do for a JSON body (nil: none).
func (c *Client) doJSON(ctx context.Context, method, path string, query url.Values, body, out any) error {
	cl, err := c.jsonCall(method, path, query, body)
	if err != nil {
		return err
	}
	return c.do(ctx, cl, out)
}

// Raw sends one request as the client sends its own (space header, key, retries) and
// returns the 2xx answer with its body unread; the caller closes it. It serves routes
// this package has no method for.
func (c *Client) Raw(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) (*http.Response, error) {
	return c.send(ctx, call{method: method, path: path, query: query, body: body, contentType: contentType})
}
