package httpapi

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
)

// syncBuffer is a log destination shared by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMalformedRequestsNeverRepeatAKey sends requests fasthttp itself refuses, each with a
// bearer key, over a real TCP connection, with authentication on and every log level
// kept: the answers are the shared JSON error shape, and neither they nor any log line
// hold the key.
func TestMalformedRequestsNeverRepeatAKey(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys := frontendtest.Keys{wireSecret: {Name: "victim", Spaces: []string{badInputSpace}}}
	ts := newTestServer(t, withFrontend(func(o *frontend.Options) { o.Auth = keys; o.Logger = log }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.ServeOn(ln, ""); err != nil {
		t.Fatal(err)
	}
	auth := "Authorization: Bearer " + wireSecret + "\r\n"
	requests := map[string]string{
		"duplicate Content-Length":   "POST /api/v1/memories/remember HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 15\r\nContent-Length: 15\r\n\r\n{\"content\":\"x\"}",
		"non-numeric Content-Length": "POST /api/v1/memories/remember HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 1x\r\n\r\n{}",
		"NUL in a header":            "GET /api/v1/memories HTTP/1.1\r\nHost: x\r\n" + auth + "X-Memory-Space: a\x00b\r\n\r\n",
		"NUL in the key itself":      "GET /api/v1/memories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + wireSecret + "\x00\r\n\r\n",
		"no Host":                    "GET /api/v1/memories HTTP/1.1\r\n" + auth + "\r\n",
		"garbage request line":       "NOT-HTTP\r\n" + auth + "\r\n",
	}
	for name, raw := range requests {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write([]byte(raw)); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no HTTP answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if !strings.HasPrefix(string(body), `{"error":{"code":`) {
				t.Fatalf("not the shared error shape: %s", body)
			}
			if strings.Contains(string(body), wireSecret) {
				t.Fatalf("the answer holds the key: %s", body)
			}
		})
	}
	if strings.Contains(logs.String(), wireSecret) {
		t.Fatalf("a log line holds the key:\n%s", logs.String())
	}
}
