package main

import (
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

	"github.com/engram-go/engram/client"
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

// newClient finds the server (--addr, else the PID file's port on loopback, else the
// configured http_listen) and returns a client of it for space ("" = the server's
// default). Requests time out after timeout (0: no whole-request bound, for streams and
// transfers that their context bounds instead).
func (a *app) newClient(f clientFlags, space string, timeout time.Duration, opts ...client.Option) (*client.Client, error) {
	addr, err := a.serverAddr(f.addr)
	if err != nil {
		return nil, err
	}
	key := f.apiKey
	if key == "" {
		key = os.Getenv(envAPIKey)
	}
	base := []client.Option{client.WithSpace(space), client.WithAPIKey(key), client.WithHTTPClient(&http.Client{Timeout: timeout})}
	return client.New("http://"+addr, append(base, opts...)...)
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

// cliMessage words a client error for the command line: the server's message with its
// code and status, or where no server answers.
func cliMessage(err error) string {
	var apiErr *client.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.Code != "":
		return fmt.Sprintf("%s (%s, HTTP %d)", apiErr.Message, apiErr.Code, apiErr.Status)
	case errors.As(err, &apiErr):
		return fmt.Sprintf("%s (HTTP %d)", apiErr.Message, apiErr.Status)
	case errors.Is(err, client.ErrNoServer):
		msg := err.Error()
		if i := strings.Index(msg, "no Engram server is answering at "); i >= 0 {
			msg = msg[i:]
		}
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[:i]
		}
		return msg + " (start one with `engram start`, or point --addr at it)"
	}
	return err.Error()
}

// printJSON writes an answer indented, for --json.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("engram: encode the answer: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
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
