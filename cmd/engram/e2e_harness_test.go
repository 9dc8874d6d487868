package main

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// e2eRun is a started binary with the HTTP and gRPC clients of the end-to-end tests of
// the cognitive routes.
type e2eRun struct {
	t    *testing.T
	env  []string
	data string
	srv  *server
	hc   *http.Client
}

func startE2E(t *testing.T) *e2eRun {
	t.Helper()
	needBinary(t)
	env := e2eEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	return &e2eRun{t: t, env: env, data: data, srv: startServer(t, env, data), hc: &http.Client{Timeout: 30 * time.Second}}
}

// url is the server's address for path.
func (r *e2eRun) url(path string) string { return "http://" + r.srv.http + path }

// call sends a JSON request and decodes the answer (callJSON).
func (r *e2eRun) call(method, path, space string, body any) (int, map[string]any) {
	r.t.Helper()
	return callJSON(r.t, r.hc, method, r.url(path), space, body)
}

// grpc dials the server's gRPC listener; the connection and the context end with the test.
func (r *e2eRun) grpc() (pb.EngramServiceClient, context.Context) {
	r.t.Helper()
	conn, err := grpc.NewClient(r.srv.grpcAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	r.t.Cleanup(func() {
		cancel()
		conn.Close()
	})
	return pb.NewEngramServiceClient(conn), ctx
}

// killAndRestart ends the server with SIGKILL and starts it again on the same data.
func (r *e2eRun) killAndRestart() {
	r.t.Helper()
	if err := r.srv.cmd.Process.Kill(); err != nil {
		r.t.Fatal(err)
	}
	r.srv.wait(30 * time.Second)
	r.srv = startServer(r.t, r.env, r.data)
}
