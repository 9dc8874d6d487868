package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/frontendtest"
	"github.com/engram-go/engram/internal/enginetest"
)

// tcpServer is the HTTP frontend on a real loopback socket, for limits that involve the
// transport (body size, connection handling).
type tcpServer struct {
	eng  *engine.Engine
	srv  *Server
	base string
	http *http.Client
}

func newTCPServer(t *testing.T, ecfg engine.Config, fo frontend.Options) *tcpServer {
	t.Helper()
	ecfg.DataRoot = t.TempDir()
	ecfg.Logger = discard
	if ecfg.Defaults.Dimension == 0 {
		ecfg.Defaults.Dimension = testDim
	}
	eng := enginetest.Open(t, ecfg)
	fo.Engine, fo.Logger, fo.HTTPListen = eng, discard, "127.0.0.1:0"
	srv, err := New(fo)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	frontendtest.StopAtCleanup(t, srv, eng)
	return &tcpServer{eng: eng, srv: srv, base: "http://" + srv.Addr(), http: &http.Client{Timeout: 30 * time.Second}}
}

func (s *tcpServer) send(t *testing.T, method, path, space, contentType, body string) answer {
	t.Helper()
	hr, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType == "" {
		contentType = "application/json"
	}
	hr.Header.Set("Content-Type", contentType)
	if space != "" {
		hr.Header.Set("X-Memory-Space", space)
	}
	resp, err := s.http.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *tcpServer) remember(t *testing.T, space, content string) answer {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"content": content})
	return s.send(t, http.MethodPost, "/api/v1/memories/remember", space, "", string(b))
}

func (s *tcpServer) count(t *testing.T, space string) int {
	t.Helper()
	sp, err := s.eng.Space(space)
	if err != nil {
		return 0
	}
	return sp.Stats().Memories
}

// expectRetryAfter checks a whole number of seconds, at least 1.
func expectRetryAfter(t *testing.T, a answer) int {
	t.Helper()
	ra, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Fatalf("Retry-After %q, want whole seconds >= 1: %s", a.header.Get("Retry-After"), a.body)
	}
	return ra
}

// TestLimitsOverHTTP checks every documented limit on a real socket: the status, the
// JSON error, Retry-After where documented, that nothing was stored, and that the server
// keeps serving.
func TestLimitsOverHTTP(t *testing.T) {
	s := newTCPServer(t, engine.Config{
		AutoCreate: true,
		MaxSpaces:  3,
		Spaces: map[string]engine.SpaceSettings{
			"limited": {RateLimit: 2},
			"tiny":    {HotCapacity: 2, WarmCapacity: 1, ColdCapacity: 1}, // holds 4 memories at most
		},
	}, frontend.Options{MaxBodyBytes: 64 << 10, MaxContentBytes: 1 << 10, MaxBatchItems: 5})
	for _, id := range []string{"limited", "tiny"} {
		if _, _, err := s.eng.CreateSpace(id, engine.SpaceSettings{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("body size 413", func(t *testing.T) {
		a := s.remember(t, "default", strings.Repeat("b", 100<<10))
		a.expectError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "65536", "max_body_bytes")
		s.remember(t, "default", "after the 413").expectStatus(t, http.StatusCreated)
	})
	t.Run("content size 400", func(t *testing.T) {
		before := s.count(t, "default")
		s.remember(t, "default", strings.Repeat("c", 2<<10)).expectError(t, http.StatusBadRequest, "INVALID_MEMORY_INPUT", "content", "1024", "max_content_bytes")
		s.send(t, http.MethodPost, "/api/v1/episodes/remember", "default", "", `{"what":"`+strings.Repeat("w", 2<<10)+`","when":"2024-01-01T00:00:00Z"}`).
			expectError(t, http.StatusBadRequest, "INVALID_MEMORY_INPUT", "what", "max_content_bytes")
		if s.count(t, "default") != before {
			t.Fatal("an oversized content was stored")
		}
	})
	t.Run("embedding dimension 400", func(t *testing.T) {
		s.send(t, http.MethodPost, "/api/v1/memories/remember", "default", "", `{"content":"x","embedding":[1,2,3,4]}`).
			expectError(t, http.StatusBadRequest, "INVALID_MEMORY_INPUT", "embedding", "4 dimensions", fmt.Sprint(testDim))
	})
	t.Run("batch size 413", func(t *testing.T) {
		items := strings.TrimSuffix(strings.Repeat(`{"content":"i"},`, 6), ",")
		before := s.count(t, "default")
		s.send(t, http.MethodPost, "/api/v1/memories/batch", "default", "", "["+items+"]").
			expectError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "6", "5")
		s.send(t, http.MethodPost, "/api/v1/memories/batch", "default", "application/x-ndjson", strings.Repeat("{\"content\":\"n\"}\n", 6)).
			expectError(t, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "5")
		if s.count(t, "default") != before {
			t.Fatal("an oversized batch stored items")
		}
		s.send(t, http.MethodPost, "/api/v1/memories/batch", "default", "", "["+strings.TrimSuffix(strings.Repeat(`{"content":"i"},`, 5), ",")+"]").
			expectStatus(t, http.StatusOK)
	})
	t.Run("rate limit 429", func(t *testing.T) {
		s.remember(t, "limited", "one").expectStatus(t, http.StatusCreated)
		s.remember(t, "limited", "two").expectStatus(t, http.StatusCreated)
		a := s.remember(t, "limited", "three")
		a.expectError(t, http.StatusTooManyRequests, "RATE_LIMITED", "limited")
		expectRetryAfter(t, a)
		if n := s.count(t, "limited"); n != 2 {
			t.Fatalf("limited holds %d memories, want 2", n)
		}
		// The limit is per space.
		s.remember(t, "default", "unaffected").expectStatus(t, http.StatusCreated)
	})
	t.Run("bounded space 503", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			s.remember(t, "tiny", fmt.Sprint("note ", i)).expectStatus(t, http.StatusCreated)
		}
		a := s.remember(t, "tiny", "one more")
		a.expectError(t, http.StatusServiceUnavailable, "OVERLOADED", "tiny")
		expectRetryAfter(t, a)
		if n := s.count(t, "tiny"); n != 4 {
			t.Fatalf("tiny holds %d memories, want 4", n)
		}
	})
	t.Run("max spaces 429 SPACE_LIMIT", func(t *testing.T) {
		a := s.remember(t, "one-too-many", "x")
		a.expectError(t, http.StatusTooManyRequests, "SPACE_LIMIT")
		expectRetryAfter(t, a)
		a = s.send(t, http.MethodPost, "/api/v1/spaces", "", "", `{"id":"another-one"}`)
		a.expectError(t, http.StatusTooManyRequests, "SPACE_LIMIT")
		expectRetryAfter(t, a)
		if len(s.eng.Spaces()) != 3 {
			t.Fatalf("%d spaces, want 3", len(s.eng.Spaces()))
		}
		// Reads of unknown spaces neither count nor fail.
		s.send(t, http.MethodGet, "/api/v1/memories", "not-created", "", "").expectStatus(t, http.StatusOK)
	})
	t.Run("closed engine 503", func(t *testing.T) {
		if err := s.eng.Close(); err != nil {
			t.Fatal(err)
		}
		a := s.remember(t, "default", "after close")
		a.expectError(t, http.StatusServiceUnavailable, "OVERLOADED")
		expectRetryAfter(t, a)
		h := s.send(t, http.MethodGet, "/api/v1/system/health", "", "", "")
		if h.status != http.StatusServiceUnavailable || !bytes.Contains(h.body, []byte(`"unhealthy"`)) {
			t.Fatalf("health of a closed engine: %d %s", h.status, h.body)
		}
		expectRetryAfter(t, h)
	})
}
