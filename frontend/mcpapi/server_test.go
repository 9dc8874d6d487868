package mcpapi

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/enginetest"
)

func newTestServer(t *testing.T) (*Server, string) {
	t.Helper()
	eng := enginetest.Open(t, enginetest.Config(t, 16))
	s, err := New(frontend.Options{Engine: eng, Logger: enginetest.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ServeOn(ln); err != nil {
		t.Fatal(err)
	}
	return s, "http://" + s.Addr() + DefaultPath
}

// TestStopEndsOpenSessions: Stop returns although a connected client holds its standing
// event stream open, the client's session ends, and the server cannot be started again.
func TestStopEndsOpenSessions(t *testing.T) {
	s, url := newTestServer(t)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(context.Background(),
		&mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: ToolRemember,
		Arguments: map[string]any{"content": "stored before the stop", "memory_space": "alpha"}})
	if err != nil || res.IsError {
		t.Fatalf("remember: %v %+v", err, res)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: ToolListSpaces}); err == nil {
		t.Fatal("a call after stop was answered")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := s.ServeOn(ln); err != frontend.ErrStopped {
		t.Fatalf("serve after stop: %v", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("second stop: %v", err)
	}
}

// TestToolErrorsNameTheCause maps engine errors to tool error text with the public code.
func TestToolErrorsNameTheCause(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{engine.ErrEmbeddingUnavailable, "EMBEDDING_PROVIDER_UNAVAILABLE"},
		{engine.ErrModelChanged, "CONFLICT"},
		{frontend.ErrForbidden, "FORBIDDEN"},
		{engine.ErrOverloaded, "Retry after 1 s"},
	} {
		if got := toolError(tc.err).Error(); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q lacks %q", tc.err, got, tc.want)
		}
	}
}
