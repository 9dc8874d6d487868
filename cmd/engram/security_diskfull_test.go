//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of the given size on dir, or skips the test when mounting is
// not permitted. The mount is detached at cleanup.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("disk-full test skipped: cannot mount a %s tmpfs on %s (%v); it needs root or CAP_SYS_ADMIN", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fullWrite is one remember answered by the full disk.
type fullWrite struct {
	status int
	body   string
}

// TestE2EDiskFull runs the server on an 8 MiB tmpfs and remembers until the disk is full.
// Writes then fail with a JSON 500/503, reads keep working; after a restart on a larger
// file system every acknowledged memory is there with its content, the space opens
// consistent and accepts writes again.
func TestE2EDiskFull(t *testing.T) {
	needBinary(t)
	mnt := filepath.Join(t.TempDir(), "tmpfs")
	mountTmpfs(t, mnt, "8m")
	env := e2eEnv(t)
	data := filepath.Join(mnt, "data")
	cfg := filepath.Join(t.TempDir(), "config.toml")
	conf := "[persistence]\nwal_sync = \"always\"\nwal_segment_bytes = 1048576\n[consolidation]\nenabled = false\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, env, data, "--config", cfg)
	client := &http.Client{Timeout: 30 * time.Second}
	const space = "filling"
	url := "http://" + srv.http + "/api/v1/memories/remember"
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 1200) // about 32 KB

	var (
		mu      sync.Mutex
		acked   = map[string]string{} // id → content
		refused []fullWrite
		wg      sync.WaitGroup
	)
	const writers, maxWrites, enoughRefusals = 4, 2000, 12
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < maxWrites/writers; n++ {
				mu.Lock()
				done := len(refused) >= enoughRefusals
				mu.Unlock()
				if done {
					return
				}
				content := fmt.Sprintf("writer %d note %d %s", w, n, filler)
				status, b, err := httpJSON(client, http.MethodPost, url, space, map[string]any{"content": content})
				mu.Lock()
				switch {
				case err != nil:
					refused = append(refused, fullWrite{0, err.Error()})
				case status == http.StatusCreated:
					var ans struct {
						MemoryID string `json:"memory_id"`
					}
					if json.Unmarshal(b, &ans) == nil && ans.MemoryID != "" {
						acked[ans.MemoryID] = content
					} else {
						refused = append(refused, fullWrite{status, "201 without memory_id: " + string(b)})
					}
				default:
					refused = append(refused, fullWrite{status, string(b)})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(refused) < enoughRefusals {
		t.Fatalf("%d writes of about 32 KB into an 8 MiB file system were all accepted", len(acked))
	}
	if len(acked) == 0 {
		t.Fatal("no write was accepted before the disk filled")
	}
	t.Logf("%d writes acknowledged, then %d refused; first refusal: %d %s", len(acked), len(refused), refused[0].status, refused[0].body)
	for _, r := range refused {
		var shape struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if (r.status != http.StatusInternalServerError && r.status != http.StatusServiceUnavailable) ||
			json.Unmarshal([]byte(r.body), &shape) != nil || shape.Error.Code == "" || shape.Error.Message == "" {
			t.Fatalf("a write on a full disk answered %d %s, want 500 or 503 with the JSON error", r.status, r.body)
		}
	}
	if status, b, err := httpJSON(client, http.MethodGet, "http://"+srv.http+"/api/v1/system/health?space="+space, "", nil); err == nil {
		t.Logf("health on a full disk: %d %s", status, b)
	}
	// Reads still work, and what was acknowledged reads back.
	for id, content := range acked {
		status, b, err := httpJSON(client, http.MethodGet, "http://"+srv.http+"/api/v1/memories/"+id, space, nil)
		if err != nil || status != http.StatusOK || !strings.Contains(string(b), content[:40]) {
			t.Fatalf("read of %s on a full disk: %d %v %.200s", id, status, err, b)
		}
		break
	}

	if status, _, err := httpJSON(client, http.MethodGet, "http://"+srv.http+"/api/v1/system/health?space="+space, "", nil); err != nil || status != http.StatusServiceUnavailable {
		t.Fatalf("health with a failed log answered %d %v, want 503", status, err)
	}

	// Give the file system room: the running server recovers the space from disk by
	// itself and takes writes again, without a restart.
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT, "size=64m"); err != nil {
		t.Fatalf("grow the tmpfs: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, b, err := httpJSON(client, http.MethodPost, "http://"+srv.http+"/api/v1/memories/remember", space,
			map[string]any{"id": "after-recovery", "content": "written once the disk had room again"})
		if err == nil && status == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the space did not recover after the disk had room: %d %v %s", status, err, b)
		}
		time.Sleep(250 * time.Millisecond)
	}
	acked["after-recovery"] = "written once the disk had room again"
	if status, _, err := httpJSON(client, http.MethodGet, "http://"+srv.http+"/api/v1/system/health?space="+space, "", nil); err != nil || status != http.StatusOK {
		t.Fatalf("health after recovery answered %d %v, want 200", status, err)
	}

	// Restart: everything acknowledged, before and after the failure, is there.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	os.Remove(filepath.Join(data, "engram.pid"))
	srv = startServer(t, env, data, "--config", cfg)
	if m := recoveredLine.FindAllStringSubmatch(srv.stderr.String(), -1); len(m) == 0 {
		t.Fatalf("no recovery line:\n%s", srv.stderr)
	} else {
		for _, line := range m {
			t.Log(line[0])
		}
	}

	missing := 0
	for id, content := range acked {
		status, b, err := httpJSON(client, http.MethodGet, "http://"+srv.http+"/api/v1/memories/"+id, space, nil)
		var m struct{ Content string }
		if err != nil || status != http.StatusOK || json.Unmarshal(b, &m) != nil || m.Content != content {
			missing++
			if missing <= 3 {
				t.Errorf("acknowledged memory %s after restart: %d %v %.200s", id, status, err, b)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged memories lost", missing, len(acked))
	}
	status, b, err := httpJSON(client, http.MethodGet, "http://"+srv.http+"/api/v1/memories?limit=1", space, nil)
	var list struct {
		TierCounts struct{ Total int } `json:"tier_counts"`
	}
	if err != nil || status != http.StatusOK || json.Unmarshal(b, &list) != nil {
		t.Fatalf("list after restart: %d %v %s", status, err, b)
	}
	// Refused writes may or may not have reached the log before the failure; never more
	// than were sent, never fewer than were acknowledged.
	if list.TierCounts.Total < len(acked) || list.TierCounts.Total > len(acked)+len(refused) {
		t.Fatalf("%d memories after restart; %d acknowledged, %d refused", list.TierCounts.Total, len(acked), len(refused))
	}
	// The space accepts writes again.
	for i := 0; i < 3; i++ {
		status, b, err := httpJSON(client, http.MethodPost, "http://"+srv.http+"/api/v1/memories/remember", space, map[string]any{"content": fmt.Sprint("after the disk was grown ", i)})
		if err != nil || status != http.StatusCreated {
			t.Fatalf("write after restart: %d %v %s", status, err, b)
		}
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit code %d after a clean run:\n%s", code, srv.stderr)
	}
}
