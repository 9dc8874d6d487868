package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	crashChildEnv = "ENGRAM_CRASH_CHILD_ROOT"
	crashTiersEnv = "ENGRAM_CRASH_TIERS"
)

// TestCrashChild is the child side of TestCrashKeepsAcknowledgedWrites: it remembers and
// forgets from several goroutines and prints every acknowledged operation.
func TestCrashChild(t *testing.T) {
	root := os.Getenv(crashChildEnv)
	if root == "" {
		t.Skip("runs only as the child of TestCrashKeepsAcknowledgedWrites")
	}
	cfg := testConfig(t, root)
	tiers := os.Getenv(crashTiersEnv) != ""
	if tiers {
		cfg = tierConfig(t, root)
	}
	e, err := Open(cfg)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	if tiers {
		// Seal and compact continuously so that kills land in the middle of checkpoints.
		go func() {
			for {
				for _, s := range e.Spaces() {
					if st, err := s.acquire(); err == nil {
						_ = st.checkpoint()
						s.mu.RUnlock()
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp := []string{"alpha", "beta"}[w%2]
			s, err := e.SpaceForWrite(sp)
			if err != nil {
				return
			}
			for i := 0; ; i++ {
				id := fmt.Sprintf("w%d-%d-%d", w, os.Getpid(), i)
				if _, err := s.Remember(context.Background(), Memory{ID: id, Content: "crash test " + id, Confidence: 0.5}, RememberOptions{}); err != nil {
					continue
				}
				out.Lock()
				fmt.Println("ACK", sp, id)
				out.Unlock()
				if i%4 == 3 {
					// A forget in flight when the process dies may or may not have landed.
					out.Lock()
					fmt.Println("TRY", sp, id)
					out.Unlock()
					if err := s.Forget(context.Background(), id); err == nil {
						out.Lock()
						fmt.Println("DEL", sp, id)
						out.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestCrashKeepsAcknowledgedWrites kills a writing child with SIGKILL at random moments and
// checks that every acknowledged remember is present and every acknowledged forget absent.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	crashRounds(t, false)
}

// TestCrashDuringCheckpoints kills the child while it seals hot memories into warm
// segments and compacts them into cold ones: nothing acknowledged is lost, nothing is
// duplicated, nothing forgotten comes back.
func TestCrashDuringCheckpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	crashRounds(t, true)
}

func crashRounds(t *testing.T, tiers bool) {
	root := t.TempDir()
	acked := map[string]string{} // id → space
	deleted := map[string]bool{}
	tried := map[string]bool{}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 0; round < 3; round++ {
		env := []string{crashChildEnv + "=" + root}
		if tiers {
			env = append(env, crashTiersEnv+"=1")
		}
		cmd, stdout := startCrashChild(t, "TestCrashChild", env...)
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait for the first acknowledgements, then kill at a random point.
		n := 0
		deadline := time.After(time.Duration(200+rng.Intn(400)) * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				n++
				recordAck(l, acked, deleted, tried)
			case <-deadline:
				if n > 0 {
					break read
				}
				deadline = time.After(50 * time.Millisecond)
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for l := range lines {
			recordAck(l, acked, deleted, tried)
		}
		_ = cmd.Wait()

		cfg := testConfig(t, root)
		if tiers {
			cfg = tierConfig(t, root)
		}
		e, err := Open(cfg)
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		for _, sp := range []string{"alpha", "beta"} {
			if s, err := e.Space(sp); err == nil {
				all := mustList(t, s)
				seen := map[string]bool{}
				for _, m := range all {
					if seen[m.ID] {
						t.Fatalf("round %d: %s listed twice", round, m.ID)
					}
					seen[m.ID] = true
				}
				if st := s.Stats(); st.Memories != len(all) || st.Hot+st.Warm+st.Cold != st.Memories {
					t.Fatalf("round %d: counts disagree: %+v vs %d listed", round, st, len(all))
				}
			}
		}
		for id, sp := range acked {
			s, err := e.Space(sp)
			if err != nil {
				t.Fatalf("round %d: space %s: %v", round, sp, err)
			}
			_, err = s.Get(id)
			switch {
			case tried[id] && !deleted[id]:
				// indeterminate: the forget was in flight
			case deleted[id] && err == nil:
				t.Fatalf("round %d: acknowledged forget of %s undone", round, id)
			case !deleted[id] && err != nil:
				t.Fatalf("round %d: acknowledged memory %s lost: %v", round, id, err)
			}
			other := map[string]string{"alpha": "beta", "beta": "alpha"}[sp]
			if o, err := e.Space(other); err == nil {
				if _, err := o.Get(id); err == nil {
					t.Fatalf("memory %s of %s visible in %s", id, sp, other)
				}
			}
		}
		e.Close()
		t.Logf("round %d: %d acknowledged, %d forgotten so far", round, len(acked), len(deleted))
	}
	if len(acked) == 0 {
		t.Fatal("child acknowledged nothing")
	}
}

// startCrashChild runs this test binary's test named test in a child process with env
// added, returning the process and its standard output.
func startCrashChild(t *testing.T, test string, env ...string) (*exec.Cmd, io.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout
}

func recordAck(l string, acked map[string]string, deleted, tried map[string]bool) {
	f := strings.Fields(l)
	if len(f) != 3 {
		return
	}
	switch f[0] {
	case "ACK":
		acked[f[2]] = f[1]
	case "TRY":
		tried[f[2]] = true
	case "DEL":
		deleted[f[2]] = true
	}
}
