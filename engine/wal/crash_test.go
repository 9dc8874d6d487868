package wal

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment of the child process of TestCrashKeepsAcknowledgedRecords: the log folder and the
// sync mode to append with.
const (
	crashDirEnv  = "ENGRAM_WAL_CRASH_DIR"
	crashModeEnv = "ENGRAM_WAL_CRASH_SYNC"
)

// TestHelperProcess is the child of TestCrashKeepsAcknowledgedRecords: it appends from several
// goroutines until killed and prints "LSN WRITER SEQ" for every acknowledged record.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for the crash test")
	}
	mode, err := ParseSyncMode(os.Getenv(crashModeEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	opts := Options{Dir: dir, Space: "crash", SegmentBytes: 32 << 10, Sync: mode, Logger: quietLogger()}
	w, _, err := Open(opts, 0, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				p := crashPayload(g, i)
				var lsn uint64
				var err error
				if i%5 == 4 {
					lsn, err = w.AppendBatch([]Entry{{Type: 1, Payload: p}})
				} else {
					lsn, err = w.Append(Entry{Type: 1, Payload: p})
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(2)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "%d %d %d\n", lsn, g, i)
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

func crashPayload(writer, seq int) []byte {
	return fmt.Appendf(nil, "writer=%d seq=%d %s", writer, seq, strings.Repeat("p", seq%200))
}

// TestCrashKeepsAcknowledgedRecords kills a writing child process with SIGKILL at random points,
// several times over the same log, and checks every acknowledged record survives exactly once.
// Every sync mode acknowledges only after write(2), so each must survive the death of the process.
func TestCrashKeepsAcknowledgedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	acked := map[uint64]string{}
	for round := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		mode := []SyncMode{SyncAlways, SyncInterval, SyncNever}[round%3]
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashModeEnv+"="+mode.String())
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait for the first acknowledgement so the kill lands mid-stream, then a random while.
		first, ok := <-lines
		if !ok {
			cmd.Wait()
			t.Fatalf("round %d: child exited early: %s", round, stderr.String())
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		got := 0
		record := func(line string) {
			var lsn uint64
			var g, i int
			if _, err := fmt.Sscanf(line, "%d %d %d", &lsn, &g, &i); err != nil {
				return // a line cut by the kill was never completely acknowledged to us
			}
			if prev, dup := acked[lsn]; dup {
				t.Fatalf("LSN %d acknowledged twice (%q, then writer %d seq %d)", lsn, prev, g, i)
			}
			acked[lsn] = string(crashPayload(g, i))
			got++
		}
		record(first)
		for line := range lines {
			record(line)
		}
		cmd.Wait()

		recs := map[uint64]string{}
		var last uint64
		w, rs, err := Open(Options{Dir: dir, Logger: quietLogger()}, 0, func(r Record) error {
			if r.LSN <= last {
				t.Fatalf("replay out of order: %d after %d", r.LSN, last)
			}
			last = r.LSN
			recs[r.LSN] = string(r.Payload)
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if rs.Corrupted != 0 {
			t.Fatalf("round %d: a crash produced corruption: %+v", round, rs)
		}
		for lsn, p := range acked {
			if recs[lsn] != p {
				t.Fatalf("round %d: acknowledged LSN %d lost or changed (have %q)", round, lsn, recs[lsn])
			}
		}
		t.Logf("round %d (%s): %d acknowledged this round, %d in total, %d recovered, torn %d bytes",
			round, mode, got, len(acked), len(recs), rs.TornBytes)
	}
}
