package main

import (
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// soakDuration is how long TestSoak drives the server: 15 s by default (CI), longer with
// ENGRAM_SOAK=10m for a manual run (docs/operations.md).
func soakDuration(t *testing.T) time.Duration {
	if v := os.Getenv("ENGRAM_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ENGRAM_SOAK: %v", err)
		}
		return d
	}
	return 15 * time.Second
}

// soakRSSCeiling bounds the server's resident memory during the soak.
const soakRSSCeiling = 1 << 30

func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS")
}

// TestSoak runs mixed load (remember, batch, recall, forget, list) over four spaces against
// the real binary, with small tier capacities so checkpoints, demotion and compaction run
// throughout. It fails on any answer other than the documented ones, on resident memory
// above the ceiling, and on an acknowledged memory missing afterwards.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	data := t.TempDir()
	cfg := data + "/soak.toml"
	if err := os.WriteFile(cfg, []byte("[persistence]\nhot_capacity = 2000\nwarm_capacity = 4000\n[embedding]\ndimension = 64\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, e2eEnv(t), data, "--config", cfg)
	base := "http://" + srv.http
	client := &http.Client{Timeout: 30 * time.Second}
	spaces := []string{"soak-a", "soak-b", "soak-c", "soak-d"}
	stop := time.Now().Add(soakDuration(t))
	var (
		mu      sync.Mutex
		acked   = map[string]string{} // id → space
		ops     atomic.Int64
		maxRSS  atomic.Int64
		failure atomic.Value
	)
	fail := func(format string, args ...any) { failure.CompareAndSwap(nil, fmt.Sprintf(format, args...)) }
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w)))
			for i := 0; time.Now().Before(stop) && failure.Load() == nil; i++ {
				sp := spaces[r.Intn(len(spaces))]
				var status int
				var body []byte
				var err error
				switch op := r.Intn(10); {
				case op < 5:
					id := fmt.Sprintf("w%d-%d", w, i)
					status, body, err = httpJSON(client, http.MethodPost, base+"/api/v1/memories/remember", sp,
						map[string]any{"id": id, "content": fmt.Sprintf("soak memory %d of worker %d about topic %d", i, w, r.Intn(50))})
					if err == nil && status == http.StatusCreated {
						mu.Lock()
						acked[id] = sp
						mu.Unlock()
					}
				case op < 6:
					items := make([]map[string]any, 20)
					for j := range items {
						items[j] = map[string]any{"content": fmt.Sprintf("soak batch item %d-%d-%d", w, i, j)}
					}
					status, body, err = httpJSON(client, http.MethodPost, base+"/api/v1/memories/batch", sp, items)
				case op < 9:
					status, body, err = httpJSON(client, http.MethodGet, base+"/api/v1/memories/recall?query=soak+topic+"+strconv.Itoa(r.Intn(50)), sp, nil)
				default:
					status, body, err = httpJSON(client, http.MethodGet, base+"/api/v1/memories?limit=5", sp, nil)
				}
				ops.Add(1)
				switch {
				case err != nil:
					fail("request failed: %v", err)
				case status >= 500 && status != http.StatusServiceUnavailable, status >= 400 && status < 500 && status != http.StatusTooManyRequests:
					fail("unexpected answer %d: %.300s", status, body)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for time.Now().Before(stop) && failure.Load() == nil {
			if rss, err := rssBytes(srv.cmd.Process.Pid); err == nil && rss > maxRSS.Load() {
				maxRSS.Store(rss)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	wg.Wait()
	if f := failure.Load(); f != nil {
		t.Fatal(f)
	}
	t.Logf("%d operations, %d acknowledged remembers, peak RSS %.1f MiB", ops.Load(), len(acked), float64(maxRSS.Load())/(1<<20))
	if maxRSS.Load() > soakRSSCeiling {
		t.Fatalf("peak RSS %d bytes above the %d ceiling", maxRSS.Load(), soakRSSCeiling)
	}
	for id, sp := range acked {
		status, b, err := httpJSON(client, http.MethodGet, base+"/api/v1/memories/"+id, sp, nil)
		if err != nil || status != http.StatusOK {
			t.Fatalf("acknowledged memory %s in %s: %d %v %.200s", id, sp, status, err, b)
		}
	}
}
