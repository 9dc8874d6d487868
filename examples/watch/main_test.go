package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/internal/testserver"
)

// TestRun runs the example against an in-process server and checks what it printed.
func TestRun(t *testing.T) {
	srv, err := testserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, srv.Addr, "example", "", &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"remembered coffee", "remembered street", "recalled coffee via direct", "via spreading", "event formation coffee", "event formation cafe", "event formation street"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
