package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// acked is a memory whose remember was answered 201: it must survive any crash.
type acked struct{ id, space string }

// rememberAcked sends one remember to space and returns the id the server acknowledged
// (201), or "" for a refused write, which promises nothing. gone reports that the server no
// longer answers, or answered 201 without an id (a test error), so the writer stops.
func rememberAcked(t *testing.T, c *http.Client, addr, space, content string) (id string, gone bool) {
	status, b, err := httpJSON(c, http.MethodPost, "http://"+addr+"/api/v1/memories/remember", space, map[string]any{"content": content})
	if err != nil {
		return "", true
	}
	if status != http.StatusCreated {
		return "", false
	}
	var ans struct {
		MemoryID string `json:"memory_id"`
	}
	if json.Unmarshal(b, &ans) != nil || ans.MemoryID == "" {
		t.Errorf("201 without memory_id: %s", b)
		return "", true
	}
	return ans.MemoryID, false
}

// TestE2ECrashKeepsAcknowledgedWrites kills the server with SIGKILL while writers
// remember into two spaces with wal_sync = "always", restarts it, and checks that every
// acknowledged memory is there, in its own space only. Three rounds on one data root, so
// later rounds also recover what earlier rounds wrote.
func TestE2ECrashKeepsAcknowledgedWrites(t *testing.T) {
	needBinary(t)
	env := e2eEnv(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgFile, []byte("[persistence]\nwal_sync = \"always\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spaces := [2]string{"crash-a", "crash-b"}
	client := &http.Client{Timeout: 10 * time.Second, Transport: apiCheck.Transport(&http.Transport{MaxIdleConnsPerHost: 16})}
	var all []acked

	for round := 0; round < 3; round++ {
		srv := startServer(t, env, data, "--config", cfgFile)
		httpAddr := srv.http
		verify(t, client, httpAddr, spaces, all)

		var (
			mu    sync.Mutex
			fresh []acked
			wg    sync.WaitGroup
			stop  = make(chan struct{})
		)
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				space := spaces[w%2]
				for seq := 0; ; seq++ {
					select {
					case <-stop:
						return
					default:
					}
					id, gone := rememberAcked(t, client, httpAddr, space, fmt.Sprintf("round %d writer %d note %d", round, w, seq))
					if gone {
						return
					}
					if id == "" {
						continue // refused writes promise nothing
					}
					mu.Lock()
					fresh = append(fresh, acked{id, space})
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
		if err := srv.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		srv.wait(30 * time.Second)
		close(stop)
		wg.Wait()
		if len(fresh) == 0 {
			t.Fatalf("round %d: no write acknowledged before the kill:\n%s", round, srv.stderr)
		}
		t.Logf("round %d: %d acknowledged writes before SIGKILL", round, len(fresh))
		all = append(all, fresh...)
	}

	srv := startServer(t, env, data, "--config", cfgFile)
	verify(t, client, srv.http, spaces, all)
	mustEngram(t, env, "stop", "--data-root", data)
	srv.wait(30 * time.Second)
}

// verify checks that every acknowledged memory is readable in its space and absent from
// the other.
func verify(t *testing.T, client *http.Client, addr string, spaces [2]string, all []acked) {
	t.Helper()
	missing, leaked := 0, 0
	for _, a := range all {
		other := spaces[0]
		if a.space == spaces[0] {
			other = spaces[1]
		}
		url := "http://" + addr + "/api/v1/memories/" + a.id
		if status, b, err := httpJSON(client, http.MethodGet, url, a.space, nil); err != nil || status != http.StatusOK {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged %s in %s: status %d, %v, %s", a.id, a.space, status, err, b)
			}
		}
		if status, _, err := httpJSON(client, http.MethodGet, url, other, nil); err != nil || status != http.StatusNotFound {
			leaked++
			if leaked <= 5 {
				t.Errorf("%s of %s visible from %s: status %d, %v", a.id, a.space, other, status, err)
			}
		}
	}
	if missing+leaked > 0 {
		t.Fatalf("%d of %d acknowledged memories missing, %d visible from the other space", missing, len(all), leaked)
	}
}
