package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/engram-go/engram/engine"
)

// mcpFlags are the flags of `engram mcp`.
type mcpFlags struct {
	url, space, apiKey string
}

func (a *app) mcpCommand() *cobra.Command {
	var f mcpFlags
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Speak MCP over stdin and stdout to a running server (what desktop agent hosts launch)",
		Long: "Serve the Model Context Protocol on stdin and stdout, forwarding every tool call to the MCP\n" +
			"endpoint of a running server with the given API key and memory space. Desktop agent hosts\n" +
			"launch it as a local MCP server; see docs/mcp.md. Nothing but protocol messages is written\n" +
			"to stdout; problems go to stderr.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runMCP(cmd.Context(), f) },
	}
	cmd.Flags().StringVar(&f.url, "url", "", "MCP endpoint of the server (default http://<[mcp] listen><[mcp] path>, with a wildcard host as 127.0.0.1)")
	cmd.Flags().StringVar(&f.space, "space", "", "memory space every tool call uses (sent as X-Memory-Space; default: the tools' memory_space argument, else the default space)")
	cmd.Flags().StringVar(&f.apiKey, "api-key", "", "API key for a server with [security] auth = \"api_key\" (default: $"+envAPIKey+")")
	return cmd
}

// runMCP relays MCP between stdio and the server's streamable HTTP endpoint. The tools
// are the server's own, listed at start, so they behave exactly as over HTTP: the server
// resolves the space and checks the key on every call.
func (a *app) runMCP(ctx context.Context, f mcpFlags) error {
	endpoint, err := a.mcpEndpoint(f.url)
	if err != nil {
		return err
	}
	if f.space != "" {
		if f.space, err = engine.NormalizeSpaceID(f.space); err != nil {
			return fmt.Errorf("--space: %w", err)
		}
	}
	key := f.apiKey
	if key == "" {
		key = a.getenv(envAPIKey)
	}
	r := &mcpRelay{endpoint: endpoint, headers: http.Header{}}
	if key != "" {
		r.headers.Set("Authorization", "Bearer "+key)
	}
	if f.space != "" {
		r.headers.Set("X-Memory-Space", f.space)
	}
	remote, err := r.session(ctx)
	if err != nil {
		return err
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "engram", Version: buildVersion()},
		&mcp.ServerOptions{Instructions: remote.InitializeResult().Instructions})
	for tool, err := range remote.Tools(ctx, nil) {
		if err != nil {
			return fmt.Errorf("listing the tools of %s: %w", endpoint, err)
		}
		srv.AddTool(tool, r.forward)
	}
	defer r.close()
	if err := srv.Run(ctx, &mcp.StdioTransport{}); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("mcp: %w", err)
	}
	return nil
}

// mcpEndpoint is --url, else the configured MCP listener on loopback.
func (a *app) mcpEndpoint(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	cfg, err := a.loadConfig("", "")
	if err != nil {
		return "", fmt.Errorf("finding the MCP endpoint (use --url to skip the configuration): %w", err)
	}
	addr, err := normalizeAddr(cfg.MCP.Listen)
	if err != nil {
		return "", err
	}
	if _, port, _ := net.SplitHostPort(addr); port == "0" {
		return "", errors.New("[mcp] listen has port 0, so the endpoint is not known in advance; pass --url")
	}
	return "http://" + addr + cfg.MCP.Path, nil
}

// mcpRelay holds the session with the server, reopened after it is lost (a server restart
// ends every session).
type mcpRelay struct {
	endpoint string
	headers  http.Header

	mu     sync.Mutex
	remote *mcp.ClientSession
}

func (r *mcpRelay) session(ctx context.Context) (*mcp.ClientSession, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.remote != nil {
		return r.remote, nil
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "engram-mcp", Version: buildVersion()}, nil)
	hc := &http.Client{Transport: headerTransport{headers: r.headers, base: http.DefaultTransport}}
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: r.endpoint, HTTPClient: hc}, nil)
	if err != nil {
		return nil, fmt.Errorf("no MCP endpoint answers at %s (is the server running with \"mcp\" in [server] frontends? is the API key right?): %w",
			r.endpoint, err)
	}
	r.remote = cs
	return cs, nil
}

// forward passes a tool call to the server. A session the server no longer knows (it
// restarted, or closed the session after a long idle time) is reopened and the call sent
// again: the server refused it unprocessed. A call that cannot reach the server otherwise
// is a tool error, and the session is dropped so that the next call reconnects; that call
// is not retried, since a remember may have been stored before the connection broke.
func (r *mcpRelay) forward(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	res, err := r.call(ctx, req)
	if errors.Is(err, mcp.ErrSessionMissing) {
		res, err = r.call(ctx, req)
	}
	if errors.Is(err, mcp.ErrSessionMissing) {
		return unreachable(err), nil
	}
	return res, err
}

// serverAnswered tells the JSON-RPC errors the server sends from those the client's own
// transport makes up when it cannot deliver a call (such as -32005, rejected by transport).
func serverAnswered(code int64) bool {
	switch code {
	case jsonrpc.CodeParseError, jsonrpc.CodeInvalidRequest, jsonrpc.CodeMethodNotFound,
		jsonrpc.CodeInvalidParams, jsonrpc.CodeInternalError:
		return true
	}
	return false
}

// unreachable is the tool error of a call the server did not answer.
func unreachable(err error) *mcp.CallToolResult {
	res := &mcp.CallToolResult{}
	res.SetError(fmt.Errorf("the Engram server did not answer this call (%v); check that it is running, then retry (a remember may already be stored: recall first)", err))
	return res
}

// call makes one attempt of forward.
func (r *mcpRelay) call(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	remote, err := r.session(ctx)
	if err == nil {
		var res *mcp.CallToolResult
		res, err = remote.CallTool(ctx, &mcp.CallToolParams{Name: req.Params.Name, Arguments: req.Params.Arguments})
		var protocol *jsonrpc.Error
		switch {
		case err == nil:
			return res, nil
		case errors.As(err, &protocol) && serverAnswered(protocol.Code):
			return nil, protocol // an unknown tool, malformed parameters: the host's to see
		}
		r.drop(remote)
		if errors.Is(err, mcp.ErrSessionMissing) {
			return nil, err
		}
	}
	return unreachable(err), nil
}

func (r *mcpRelay) drop(cs *mcp.ClientSession) {
	r.mu.Lock()
	if r.remote == cs {
		r.remote = nil
	}
	r.mu.Unlock()
	cs.Close()
}

func (r *mcpRelay) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.remote != nil {
		r.remote.Close()
		r.remote = nil
	}
}

// headerTransport adds the key and the space to every request to the server.
type headerTransport struct {
	headers http.Header
	base    http.RoundTripper
}

func (t headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, v := range t.headers {
		req.Header[k] = v
	}
	return t.base.RoundTrip(req)
}
