package engine

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	crashDeleteChildEnv  = "ENGRAM_CRASH_DELETE_ROOT"
	crashDeleteRoundsEnv = "ENGRAM_CRASH_DELETE_ROUNDS" // more rounds than the default few
	doomedMemories       = 300
)

// doomedConfig gives every space a tiny WAL segment size, so a space's WAL is dozens of
// segments and a kill lands in the middle of removing them, as in a real delete.
func doomedConfig(t testing.TB, root string) Config {
	cfg := testConfig(t, root)
	cfg.Defaults.WALSegmentBytes = 1 << 10
	return cfg
}

// TestCrashDeleteChild is the child side of TestCrashDuringSpaceDeletes: one goroutine
// writes to the space "keeper"; the main loop creates a space, fills it, and deletes it,
// over and over. It prints every acknowledged step.
func TestCrashDeleteChild(t *testing.T) {
	root := os.Getenv(crashDeleteChildEnv)
	if root == "" {
		t.Skip("runs only as the child of TestCrashDuringSpaceDeletes")
	}
	e, err := Open(doomedConfig(t, root))
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	out := make(chan string, 1024)
	go func() {
		w := bufio.NewWriter(os.Stdout)
		for l := range out {
			w.WriteString(l + "\n")
			if len(out) == 0 {
				w.Flush()
			}
		}
	}()
	keeper, err := e.SpaceForWrite("keeper")
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	go func() {
		for i := 0; ; i++ {
			id := fmt.Sprintf("k-%d-%d", os.Getpid(), i)
			if _, err := keeper.Remember(context.Background(), Memory{ID: id, Content: "kept " + id, Confidence: 0.5}, RememberOptions{}); err == nil {
				out <- "ACK keeper " + id
			}
		}
	}()
	for round := 0; ; round++ {
		id := fmt.Sprintf("doomed-%d-%d", os.Getpid(), round)
		s, err := e.SpaceForWrite(id)
		if err != nil {
			continue
		}
		batch := make([]Memory, doomedMemories)
		for i := range batch {
			batch[i] = Memory{ID: fmt.Sprintf("d-%d", i), Content: fmt.Sprintf("doomed %s memory %d with some words", id, i), Confidence: 0.5}
		}
		if _, errs := s.RememberBatch(context.Background(), batch, RememberOptions{}); errs[0] != nil {
			continue
		}
		out <- "FULL " + id
		out <- "DELETING " + id
		if err := e.DeleteSpace(id); err == nil {
			out <- "DELETED " + id
		}
	}
}

// TestCrashDuringSpaceDeletes kills (SIGKILL) a child that creates, fills and deletes
// spaces while it writes to another, right as a delete starts or a moment into it, and
// checks after each restart: an acknowledged delete stayed deleted, a space whose delete
// was cut is absent or whole (never part of it), no delete's leftovers are found as a
// space or stay on disk, and every acknowledged write of the other space survived.
// ENGRAM_CRASH_DELETE_ROUNDS=N runs N rounds instead of a few.
func TestCrashDuringSpaceDeletes(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	rounds := 4
	if n, err := strconv.Atoi(os.Getenv(crashDeleteRoundsEnv)); err == nil && n > 0 {
		rounds = n
	}
	root := t.TempDir()
	kept := map[string]bool{}
	full := map[string]bool{}
	deleting := map[string]bool{}
	deleted := map[string]bool{}
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	record := func(l string) {
		f := strings.Fields(l)
		switch {
		case len(f) == 3 && f[0] == "ACK":
			kept[f[2]] = true
		case len(f) == 2 && f[0] == "FULL":
			full[f[1]] = true
		case len(f) == 2 && f[0] == "DELETING":
			deleting[f[1]] = true
		case len(f) == 2 && f[0] == "DELETED":
			deleted[f[1]] = true
		}
	}
	// Deletes the kill cut between their start and their acknowledgement, by what the
	// restart found: the space whole (the rename had not happened) or gone.
	cutWhole, cutGone := 0, 0
	for round := range rounds {
		before := map[string]bool{}
		for id := range deleting {
			before[id] = true
		}
		cmd, stdout := startCrashChild(t, "TestCrashDeleteChild", crashDeleteChildEnv+"="+root)
		sc := bufio.NewScanner(stdout)
		// Kill as the k-th delete of this round starts, after a random pause of up to a
		// few milliseconds: about as long as removing a space's files takes.
		k, starts := 1+rng.Intn(3), 0
		for sc.Scan() {
			record(sc.Text())
			if strings.HasPrefix(sc.Text(), "DELETING ") {
				if starts++; starts == k {
					time.Sleep(time.Duration(rng.Intn(3000)) * time.Microsecond)
					break
				}
			}
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for sc.Scan() {
			record(sc.Text())
		}
		_ = cmd.Wait()

		e, err := Open(doomedConfig(t, root))
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		present := map[string]*Space{}
		for _, s := range e.Spaces() {
			present[s.ID()] = s
		}
		for id := range deleting {
			s, ok := present[id]
			switch {
			case deleted[id] && ok:
				t.Fatalf("round %d: acknowledged delete of %s undone", round, id)
			case ok:
				if n := len(mustList(t, s)); n != doomedMemories {
					t.Fatalf("round %d: %s came back with %d of its %d memories", round, id, n, doomedMemories)
				}
				if !before[id] {
					cutWhole++
				}
			case !deleted[id] && !before[id]:
				cutGone++
			}
		}
		for id, s := range present {
			if full[id] && !deleting[id] {
				if n := len(mustList(t, s)); n != doomedMemories {
					t.Fatalf("round %d: %s holds %d of its %d memories", round, id, n, doomedMemories)
				}
			}
		}
		ks, err := e.Space("keeper")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for id := range kept {
			if _, err := ks.Get(id); err != nil {
				t.Fatalf("round %d: acknowledged memory %s of keeper lost: %v", round, id, err)
			}
		}
		for id, s := range present {
			if id == "keeper" {
				continue
			}
			if _, err := s.Get("k-0"); err == nil {
				t.Fatalf("round %d: space %s sees keeper's memory", round, id)
			}
		}
		ents, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range ents {
			if strings.HasPrefix(de.Name(), ".") {
				t.Fatalf("round %d: %s left in the data root after recovery", round, de.Name())
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d deletes started, %d acknowledged, %d keeper writes", round, len(deleting), len(deleted), len(kept))
	}
	if len(deleting) == 0 || len(kept) == 0 {
		t.Fatal("the child deleted or wrote nothing")
	}
	t.Logf("%d deletes cut by the kill: %d came back whole, %d were finished at the restart", cutWhole+cutGone, cutWhole, cutGone)
}
