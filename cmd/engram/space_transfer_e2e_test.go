package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/client"
)

// TestE2ESpaceBackupRestoreMerge runs the real binary: an online backup and restore
// while `engram start` serves, an offline attempt that the running server's lock refuses,
// then an offline merge once it has stopped, checked by the restarted server.
func TestE2ESpaceBackupRestoreMerge(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	data := filepath.Join(t.TempDir(), "data")
	file := filepath.Join(t.TempDir(), "alpha.backup")
	srv := startServer(t, env, data)
	hc := &http.Client{Timeout: time.Minute}
	for space, n := range map[string]int{"alpha": 120, "bravo": 30} {
		batch := make([]map[string]any, n)
		for i := range batch {
			batch[i] = map[string]any{"id": fmt.Sprintf("%s-%03d", space, i), "content": fmt.Sprintf("%s fact %d", space, i), "tags": []string{space}}
		}
		code, body, err := httpJSON(hc, http.MethodPost, "http://"+srv.http+"/api/v1/memories/batch", space, batch)
		if err != nil || code != http.StatusOK {
			t.Fatalf("batch into %s: %d %s %v", space, code, body, err)
		}
	}

	out := mustEngram(t, env, "space", "backup", "alpha", "--out", file, "--addr", srv.http)
	if !strings.HasPrefix(out, "Backed up 120 memories of space 'alpha' to "+file) {
		t.Fatalf("backup printed %q", out)
	}
	code, _, errOut := engram(t, env, "space", "merge", "--from", "alpha", "--into", "bravo", "--data-root", data)
	if code == 0 || !strings.Contains(errOut, "in use") || !strings.Contains(errOut, "--addr "+srv.http) {
		t.Fatalf("offline merge under a running server: exit %d, %q", code, errOut)
	}
	out = mustEngram(t, env, "space", "restore", file, "--as", "charlie", "--addr", srv.http)
	if !strings.HasPrefix(out, "Restored 120 of 120 memories into space 'charlie'") {
		t.Fatalf("restore printed %q", out)
	}

	mustEngram(t, env, "stop", "--data-root", data)
	if code := srv.wait(30 * time.Second); code != 0 {
		t.Fatalf("server exit %d:\n%s", code, srv.stderr)
	}
	var merged mergeSummary
	if err := json.Unmarshal([]byte(mustEngram(t, env, "space", "merge", "--from", "alpha", "--into", "bravo", "--data-root", data, "--json")), &merged); err != nil {
		t.Fatal(err)
	}
	if merged.Imported != 120 || merged.Verified != 120 || merged.IntoMemory != 150 {
		t.Fatalf("offline merge: %+v", merged)
	}

	srv = startServer(t, env, data)
	var h client.SystemHealth
	if err := json.Unmarshal([]byte(mustEngram(t, env, "status", "--json", "--addr", srv.http)), &h); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range h.Spaces {
		got[s.Space] = int(s.Memories)
	}
	if want := map[string]int{"alpha": 120, "bravo": 150, "charlie": 120, "default": 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("spaces after restart: %v, want %v", got, want)
	}
	mustEngram(t, env, "stop", "--data-root", data)
	srv.wait(30 * time.Second)
}
