package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// requestTimeout bounds one client request; recall over a large space stays well below.
const requestTimeout = 60 * time.Second

// clientFlags are the flags of every command that talks to a running server.
type clientFlags struct {
	addr   string
	apiKey string
	json   bool
}

// envAPIKey holds the API key client commands send when --api-key is not given.
const envAPIKey = "ENGRAM_API_KEY"

func (f *clientFlags) register(cmd *cobra.Command, withJSON bool) {
	cmd.Flags().StringVar(&f.addr, "addr", "", "server address host:port (default: the port in the PID file on 127.0.0.1, else [server] http_listen)")
	cmd.Flags().StringVar(&f.apiKey, "api-key", "", "API key for a server with [security] auth = \"api_key\" (default: $"+envAPIKey+")")
	if withJSON {
		cmd.Flags().BoolVar(&f.json, "json", false, "print the server's JSON answer")
	}
}

// client is a thin HTTP client of one server.
type client struct {
	base  string // "http://127.0.0.1:7432"
	addr  string // "127.0.0.1:7432", for messages
	space string // sent as X-Memory-Space when not empty
	key   string // sent as "Authorization: Bearer" when not empty
	http  *http.Client
}

// newClient finds the server: --addr, else the PID file's port on loopback, else the
// configured http_listen.
func (a *app) newClient(f clientFlags) (*client, error) {
	addr, err := a.serverAddr(f.addr)
	if err != nil {
		return nil, err
	}
	key := f.apiKey
	if key == "" {
		key = os.Getenv(envAPIKey)
	}
	return &client{base: "http://" + addr, addr: addr, key: key, http: &http.Client{Timeout: requestTimeout}}, nil
}

func (a *app) serverAddr(flag string) (string, error) {
	if flag != "" {
		return normalizeAddr(flag)
	}
	cfg, err := a.loadConfig("", "")
	if err != nil {
		return "", fmt.Errorf("finding the server (use --addr to skip the configuration): %w", err)
	}
	if p, err := readPIDFile(cfg.PIDPath); err == nil && p.Port > 0 {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)), nil
	}
	return normalizeAddr(cfg.Server.HTTPListen)
}

// normalizeAddr accepts "host:port", ":port" or a URL and returns a dialable host:port;
// a wildcard host becomes loopback.
func normalizeAddr(s string) (string, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("--addr %q is not host:port or a URL", s)
		}
		s = u.Host
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("address %q is not host:port", s)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// errNoServer says nothing answers at the address.
var errNoServer = errors.New("engram: no server")

// apiError is an error answer of the server, in the shared JSON shape.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
	}
	return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
}

// response is a raw answer.
type response struct {
	status int
	body   []byte
}

// do sends one request. body, when not nil, is sent as JSON. Any status is returned as
// is; only transport failures are errors.
func (c *client) do(ctx context.Context, method, path string, query url.Values, body any) (response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{}, fmt.Errorf("engram: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return response{}, fmt.Errorf("engram: build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.space != "" {
		req.Header.Set("X-Memory-Space", c.space)
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return response{}, fmt.Errorf("%w: no Engram server is answering at %s (start one with `engram start`, or point --addr at it)", errNoServer, c.addr)
		}
		return response{}, fmt.Errorf("engram: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("engram: read answer of %s %s: %w", method, path, err)
	}
	return response{status: resp.StatusCode, body: b}, nil
}

// call sends one request and decodes a 2xx answer into out (when not nil). An error
// answer becomes an *apiError carrying the server's message.
func (c *client) call(ctx context.Context, method, path string, query url.Values, body, out any) (response, error) {
	r, err := c.do(ctx, method, path, query, body)
	if err != nil {
		return r, err
	}
	if r.status < 200 || r.status > 299 {
		return r, decodeAPIError(r)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			return r, fmt.Errorf("engram: unexpected answer to %s %s: %w", method, path, err)
		}
	}
	return r, nil
}

func decodeAPIError(r response) error {
	var shape struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &shape); err == nil && shape.Error.Message != "" {
		return &apiError{Status: r.status, Code: shape.Error.Code, Message: shape.Error.Message}
	}
	msg := strings.TrimSpace(string(r.body))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = http.StatusText(r.status)
	}
	return &apiError{Status: r.status, Message: msg}
}

// printJSON writes an answer indented, for --json.
func printJSON(w io.Writer, body []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		_, err = w.Write(body)
		return err
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(w)
	return err
}

// pidFileOf returns the PID file path the configuration points at.
func (a *app) pidFileOf() (string, error) {
	cfg, err := a.loadConfig("", "")
	if err != nil {
		return "", err
	}
	return cfg.PIDPath, nil
}

// isNotExist reports a missing file.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// authorize adds the API key, if any, to a request.
func (c *client) authorize(req *http.Request) {
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
}
