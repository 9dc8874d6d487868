package client_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/internal/apicheck"
	"github.com/engram-go/engram/internal/enginetest"
)

// The tests run the real binary, built once here; every exchange of their clients is
// validated against the OpenAPI document. -short skips them.
var (
	engramBin string
	buildErr  error
	apiCheck  *apicheck.Validator
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		v, err := apicheck.New()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		apiCheck = v
		return enginetest.MainWithBinary(m, "../cmd/engram", v, func(path string, err error) { engramBin, buildErr = path, err })
	}())
}

// checkedHTTP is an HTTP client whose exchanges are validated against the document.
func checkedHTTP() *http.Client {
	return &http.Client{Transport: apiCheck.Transport(&http.Transport{MaxIdleConnsPerHost: 8})}
}

// server is a running `engram start`.
type server struct {
	addr string
	env  []string
	dir  string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	mu   *sync.Mutex
}

// startServer runs the binary on a port the kernel picks, with extra lines of TOML.
func startServer(t testing.TB, toml string) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	text := "[server]\nhttp_listen = \"127.0.0.1:0\"\nfrontends = [\"http\"]\n[embedding]\ndimension = 64\n[consolidation]\nenabled = false\n" + toml
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ENGRAM_") {
			env = append(env, kv)
		}
	}
	env = append(env, "ENGRAM_CONFIG="+cfg, "ENGRAM_DATA_ROOT="+filepath.Join(dir, "data"))
	s := &server{env: env, dir: dir, out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	s.cmd = exec.Command(engramBin, "start")
	s.cmd.Env = env
	s.cmd.Stderr = lockedWriter{s.mu, s.out}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	})
	pid := filepath.Join(dir, "data", "engram.pid")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(pid); err == nil {
			// "<pid>:<port>"
			if _, port, ok := strings.Cut(strings.TrimSpace(string(b)), ":"); ok && port != "0" {
				s.addr = "127.0.0.1:" + port
				if resp, err := http.Get("http://" + s.addr + "/health/alive"); err == nil {
					resp.Body.Close()
					return s
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("server not ready:\n%s", s.out)
	return nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tcpProxy forwards connections to a server and can cut every open one, as a network
// failure would.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newTCPProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

// cut closes every connection open now.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// withTimeout is a test context.
func withTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
