package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engram-go/engram/internal/enginetest"
)

const (
	// crashSpaces and crashWriters spread the writers of TestE2ECrashManySpaces so that
	// nearly every durable flush is shared by several spaces' logs.
	crashSpaces  = 500
	crashWriters = 64
	// crashRoundsEnv raises the number of SIGKILL rounds of TestE2ECrashManySpaces from
	// its default of two.
	crashRoundsEnv = "ENGRAM_CRASH_ROUNDS"
)

// TestE2ECrashManySpaces kills the server with SIGKILL while 64 writers remember into 500
// spaces with wal_sync = "always", so that their logs are made durable by shared flushes
// (engine/wal/committer.go). After each kill, `engram-wal verify` must find every space's
// log clean, and after the restart every acknowledged memory must be in its own space and
// not in its neighbour.
func TestE2ECrashManySpaces(t *testing.T) {
	needBinary(t)
	rounds := 2
	if v := os.Getenv(crashRoundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of rounds", crashRoundsEnv, v)
		}
		rounds = n
	}
	walTool := filepath.Join(t.TempDir(), "engram-wal")
	if out, err := exec.Command(enginetest.GoTool(), "build", "-o", walTool, "../../tools/engram-wal").CombinedOutput(); err != nil {
		t.Fatalf("build engram-wal: %v\n%s", err, out)
	}
	env := e2eEnv(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgFile := filepath.Join(dir, "config.toml")
	cfg := "[persistence]\nwal_sync = \"always\"\n\n[spaces]\nmax_open_spaces = 600\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	spaces := make([]string, crashSpaces)
	for i := range spaces {
		spaces[i] = fmt.Sprintf("tenant-%03d", i)
	}
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: crashWriters}}
	var all []acked

	for round := range rounds {
		srv := startServer(t, env, data, "--config", cfgFile)
		verifySpaces(t, client, srv.http, spaces, all)

		var (
			mu    sync.Mutex
			fresh []acked
			wg    sync.WaitGroup
			next  atomic.Int64
			stop  = make(chan struct{})
		)
		for range crashWriters {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					n := next.Add(1)
					space := spaces[n%crashSpaces]
					id, gone := rememberAcked(t, client, srv.http, space, fmt.Sprintf("round %d note %d of %s", round, n, space))
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
			})
		}
		// The first round creates the spaces: let every one of them take writes before the kill.
		for round == 0 && next.Load() < 2*crashSpaces {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
		if err := srv.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		srv.wait(30 * time.Second)
		close(stop)
		wg.Wait()
		if len(fresh) == 0 {
			t.Fatalf("round %d: no write acknowledged before the kill:\n%s", round, srv.stderr)
		}
		t.Logf("round %d: %d acknowledged writes over %d spaces before SIGKILL", round, len(fresh), crashSpaces)
		all = append(all, fresh...)

		// What the kill left on disk, before recovery touches it.
		if out, err := exec.Command(walTool, "verify", data).CombinedOutput(); err != nil {
			t.Fatalf("round %d: engram-wal verify after SIGKILL: %v\n%s", round, err, tail(out, 40))
		}
	}

	srv := startServer(t, env, data, "--config", cfgFile)
	verifySpaces(t, client, srv.http, spaces, all)
	mustEngram(t, env, "stop", "--data-root", data)
	srv.wait(30 * time.Second)
	if out, err := exec.Command(walTool, "verify", data).CombinedOutput(); err != nil {
		t.Fatalf("engram-wal verify after a clean stop: %v\n%s", err, tail(out, 40))
	}
}

// verifySpaces checks, from 16 clients at once, that every acknowledged memory is readable in
// its space and absent from the next space of the list.
func verifySpaces(t *testing.T, client *http.Client, addr string, spaces []string, all []acked) {
	t.Helper()
	index := make(map[string]int, len(spaces))
	for i, s := range spaces {
		index[s] = i
	}
	var missing, leaked atomic.Int64
	work := make(chan acked)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for a := range work {
				other := spaces[(index[a.space]+1)%len(spaces)]
				url := "http://" + addr + "/api/v1/memories/" + a.id
				if status, b, err := httpJSON(client, http.MethodGet, url, a.space, nil); err != nil || status != http.StatusOK {
					if missing.Add(1) <= 5 {
						t.Errorf("acknowledged %s in %s: status %d, %v, %s", a.id, a.space, status, err, b)
					}
				}
				if status, _, err := httpJSON(client, http.MethodGet, url, other, nil); err != nil || status != http.StatusNotFound {
					if leaked.Add(1) <= 5 {
						t.Errorf("%s of %s visible from %s: status %d, %v", a.id, a.space, other, status, err)
					}
				}
			}
		})
	}
	for _, a := range all {
		work <- a
	}
	close(work)
	wg.Wait()
	if missing.Load()+leaked.Load() > 0 {
		t.Fatalf("%d of %d acknowledged memories missing, %d visible from another space", missing.Load(), len(all), leaked.Load())
	}
}

// tail returns the last n lines of out.
func tail(out []byte, n int) []byte {
	lines := 0
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] == '\n' {
			if lines++; lines > n {
				return out[i+1:]
			}
		}
	}
	return out
}
