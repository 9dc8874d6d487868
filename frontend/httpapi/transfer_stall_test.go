package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
)

// wideSpace stores n memories of 1024 dimensions in a new space id: about 10 KB of NDJSON
// each, so that an export of 1,500 is more than socket buffers hold.
func wideSpace(t *testing.T, eng *engine.Engine, id string, n int) {
	t.Helper()
	sp, _, err := eng.CreateSpace(id, engine.SpaceSettings{Dimension: 1024})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]engine.Memory, n)
	for i := range batch {
		v := make([]float32, 1024)
		for k := range v {
			v[k] = float32(math.Sin(float64(i*1024 + k)))
		}
		batch[i] = engine.Memory{ID: fmt.Sprintf("w-%05d", i), Content: "wide", Embedding: v}
	}
	if _, errs := sp.RememberBatch(context.Background(), batch, engine.RememberOptions{}); errs[0] != nil {
		t.Fatal(errs[0])
	}
}

// stalledExport starts an export of space id over TCP from a client with a small receive
// buffer that reads the status line and then nothing.
func stalledExport(t *testing.T, ts *testServer, id string) (net.Conn, *bufio.Reader) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.ServeOn(ln, ""); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A receive buffer far smaller than the export, so the kernel cannot absorb it, but
	// not so small that reading what the server had sent before the cut takes long.
	if err := conn.(*net.TCPConn).SetReadBuffer(256 << 10); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "GET /api/v1/spaces/"+id+"/export HTTP/1.1\r\nHost: engram.test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, "200") {
		t.Fatalf("status line %q: %v", status, err)
	}
	return conn, br
}

// readCut reads the rest of the stalled export and checks that the stream was cut: no
// final chunk, fewer lines than the space held.
func readCut(t *testing.T, br *bufio.Reader, held int) {
	t.Helper()
	rest, _ := io.ReadAll(br) // ends with the server closing the connection
	if bytes.HasSuffix(rest, []byte("\r\n0\r\n\r\n")) {
		t.Fatal("the cut export ended with the final chunk, as a complete one does")
	}
	if n := bytes.Count(rest, []byte(`"id":"w-`)); n >= held {
		t.Fatalf("the cut export carried all %d memories", n)
	}
}

// TestDeleteCutsAStalledExport: an export whose client reads nothing, then a delete of
// that space. The delete completes, and so do creates, writes and deletes of other
// spaces meanwhile; the export ends cut, which the client sees.
func TestDeleteCutsAStalledExport(t *testing.T) {
	ts := newTestServer(t)
	ts.srv.TransferWriteTimeout = time.Hour // only the delete may end this export
	ended := make(chan error, 1)
	ts.srv.hooks.exportEnded = func(err error) { ended <- err }
	wideSpace(t, ts.eng, "wide", 1500)
	_, br := stalledExport(t, ts, "wide")

	if a := ts.send(t, ts.client, req{method: http.MethodDelete, path: "/api/v1/spaces/wide"}); a.status != http.StatusOK {
		t.Fatalf("delete of the exported space: %d %s", a.status, a.body)
	}
	for i := range 4 {
		id := fmt.Sprintf("other-%d", i)
		if a := ts.send(t, ts.client, req{path: "/api/v1/memories", body: `{"content":"kept","memory_space_id":"` + id + `"}`}); a.status != http.StatusCreated {
			t.Fatalf("remember into %s: %d %s", id, a.status, a.body)
		}
		if i%2 == 0 {
			if a := ts.send(t, ts.client, req{method: http.MethodDelete, path: "/api/v1/spaces/" + id}); a.status != http.StatusOK {
				t.Fatalf("delete of %s: %d %s", id, a.status, a.body)
			}
		}
	}
	if err := <-ended; err == nil {
		t.Fatal("the export of a deleted space ended as complete")
	}
	readCut(t, br, 1500)
}

// TestWriteTimeoutCutsAStalledExport: a client that stops reading an export is cut once
// it has taken nothing for TransferWriteTimeout, without the server stopping.
func TestWriteTimeoutCutsAStalledExport(t *testing.T) {
	ts := newTestServer(t)
	ts.srv.TransferWriteTimeout = 50 * time.Millisecond
	ended := make(chan error, 1)
	ts.srv.hooks.exportEnded = func(err error) { ended <- err }
	wideSpace(t, ts.eng, "wide", 1500)
	_, br := stalledExport(t, ts, "wide")
	if err := <-ended; err == nil {
		t.Fatal("the stalled export ended as complete")
	}
	readCut(t, br, 1500)
	// The space is untouched and exports again in full to a client that reads.
	ts.srv.TransferWriteTimeout = time.Hour
	a := ts.send(t, ts.client, req{path: "/api/v1/spaces/wide/export"})
	if a.status != http.StatusOK || bytes.Count(a.body, []byte("\n")) != 1500 {
		t.Fatalf("export after the cut: %d, %d lines", a.status, bytes.Count(a.body, []byte("\n")))
	}
}
