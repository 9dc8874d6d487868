package clustertest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/cluster"
)

// lengths are a scenario's phases: load before the fault, the fault, load after it.
type lengths struct {
	before, fault, after time.Duration
	steady               time.Duration
	rejoin               time.Duration // how long a restarted node is given to lead again
}

func scenarioLengths() lengths {
	if *full {
		return lengths{before: 10 * time.Second, fault: 30 * time.Second, after: 15 * time.Second, steady: 30 * time.Second, rejoin: 90 * time.Second}
	}
	return lengths{before: 3 * time.Second, fault: 3 * time.Second, after: 2 * time.Second, steady: 4 * time.Second, rejoin: 20 * time.Second}
}

// run is one scenario in progress.
type run struct {
	t    *testing.T
	ctx  context.Context
	c    *Cluster
	load *Load
	len  lengths
	fig  Figures // OwnedAfter, CatchUp and CatchUpNote are filled by the fault
	// viewsAt are nodes whose own HTTP view (every list and read sent to them) is judged
	// besides the views of the whole cluster.
	viewsAt []*Node
}

func (r *run) sleep(d time.Duration) {
	select {
	case <-r.ctx.Done():
	case <-time.After(d):
	}
}

// busiest is the node holding the most leases.
func (r *run) busiest() *Node {
	r.t.Helper()
	n, err := r.c.Busiest(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// ownedAfter waits until every partition has a serving owner other than exclude and
// records the time since the event began.
func (r *run) ownedAfter(event string, since time.Time, exclude ...*Node) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 2*time.Minute)
	defer cancel()
	if _, err := r.c.WaitOwned(ctx, exclude...); err != nil {
		r.t.Fatalf("after %s: %v", event, err)
	}
	r.fig.OwnedAfter[event] = time.Since(since)
}

// readAt reads acknowledged memories back directly at n, as the load's readers do: a
// node that lost its partitions must forward or refuse, never answer from what it had.
func (r *run) readAt(n *Node, acks []Ack) {
	if len(acks) > 400 {
		acks = acks[len(acks)-400:]
	}
	var wg sync.WaitGroup
	work := make(chan Ack)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				r.load.ReadBack(r.ctx, n, a)
			}
		}()
	}
	for _, a := range acks {
		work <- a
	}
	close(work)
	wg.Wait()
}

// rejoin restarts n and measures its catch-up: the writes acknowledged since from (when
// it went down, or the zero time for a node that lost its data and rebuilds everything)
// to the partitions it leads again, per second from its restart until it leads them.
func (r *run) rejoin(n *Node, from time.Time) {
	r.t.Helper()
	upAt := time.Now()
	if err := r.c.Restart(r.ctx, n); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(r.len.rejoin)
	for time.Now().Before(deadline) && r.ctx.Err() == nil {
		owners, err := r.c.Owners(r.ctx)
		if err == nil {
			led := map[int]bool{}
			for p, id := range owners {
				if id == n.ID {
					led[p] = true
				}
			}
			if len(led) > 0 {
				leadAt := time.Now()
				records := 0
				for _, a := range r.load.AcksBetween(from, upAt) {
					if led[cluster.PartitionOf(a.Space, r.c.Partitions())] {
						records++
					}
				}
				r.fig.CatchUp = float64(records) / leadAt.Sub(upAt).Seconds()
				r.fig.CatchUpNote = fmt.Sprintf("(%d records of partitions %v in %.2fs from restart to lease, start-up included)", records, slices.Sorted(maps.Keys(led)), leadAt.Sub(upAt).Seconds())
				return
			}
		}
		r.sleep(100 * time.Millisecond)
	}
	r.fig.CatchUpNote = fmt.Sprintf("not measured: %s led no partition within %v of its restart", n.ID, r.len.rejoin)
}

// runScenario starts a cluster (or a single node), runs the load with fault in the middle,
// then judges the stream and HTTP views and reports the figures.
func runScenario(t *testing.T, name string, single bool, fault func(r *run)) Figures {
	t.Helper()
	l := scenarioLengths()
	dir := t.TempDir()
	if *keep {
		var err error
		if dir, err = os.MkdirTemp("", "engram-cluster-"+name+"-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("nodes' folders and logs kept in %s", dir)
	}
	c, err := Start(Options{Bin: engramBin, Dir: dir, Single: single, Settings: Settings{LeaseTTL: *leaseTTL, LogLevel: *logLevel}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			for _, n := range c.Nodes() {
				b, _ := os.ReadFile(n.LogPath())
				t.Logf("log of %s (tail):\n%s", n.ID, tail(b, 4000))
			}
		}
		c.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	readyCtx, readyCancel := context.WithTimeout(ctx, 2*time.Minute)
	defer readyCancel()
	if err := c.Ready(readyCtx); err != nil {
		t.Fatal(err)
	}
	cpu0, err := c.CPU()
	if err != nil {
		t.Fatal(err)
	}
	load, err := StartLoad(c, LoadOptions{Run: name})
	if err != nil {
		t.Fatal(err)
	}
	r := &run{t: t, ctx: ctx, c: c, load: load, len: l, fig: Figures{OwnedAfter: map[string]time.Duration{}}}
	func() {
		defer func() {
			if t.Failed() {
				load.Stop()
			}
		}()
		fault(r)
	}()
	res := load.Stop()
	cpu1, err := c.CPU()
	if err != nil {
		t.Fatal(err)
	}
	fig := Measure(name, len(c.Nodes()), res, cpu1-cpu0)
	fig.OwnedAfter, fig.CatchUp, fig.CatchUpNote = r.fig.OwnedAfter, r.fig.CatchUp, r.fig.CatchUpNote
	if !single {
		fig.LeaseTTL = c.settings.LeaseTTL
	}
	fig.Events = res.Events

	judgeCtx, judgeCancel := context.WithTimeout(ctx, 3*time.Minute)
	defer judgeCancel()
	if err := c.Ready(judgeCtx); err != nil {
		t.Fatal(err)
	}
	var views []View
	if !single {
		if v, err := StreamView(judgeCtx, c); err != nil {
			t.Errorf("stream view, not judged: %v", err)
		} else {
			views = append(views, v)
		}
	}
	if v, err := HTTPView(judgeCtx, c, res); err != nil {
		t.Errorf("http view, not judged: %v", err)
	} else {
		views = append(views, v)
	}
	for _, n := range r.viewsAt {
		if v, err := HTTPViewAt(judgeCtx, "http at "+n.ID, []*Node{n}, res); err != nil {
			t.Errorf("http view at %s, not judged: %v", n.ID, err)
		} else {
			views = append(views, v)
		}
	}
	for _, v := range views {
		verdict := Judge(res, v)
		fig.Verdicts = append(fig.Verdicts, verdict)
		if !verdict.OK() {
			t.Errorf("%s\n  %s", verdict, strings.Join(verdict.Examples, "\n  "))
		}
	}
	if !single && len(views) >= 2 {
		for _, v := range views[1:] {
			explainLost(t, c, res, views[0], v)
		}
	}
	if fig.Acked == 0 {
		t.Errorf("%s: no write was acknowledged; outcomes %v", name, res.Outcomes)
	}
	report(t, fig)
	return fig
}

// explainLost says, for each acknowledged write the HTTP view lacks, where the streams
// hold it and who owns its partition now: what the node that lost it must be asked.
func explainLost(t *testing.T, c *Cluster, r *Result, streams, http View) {
	inHTTP := map[string]bool{}
	for _, m := range http.Memories {
		inHTTP[m.Space+"/"+m.ID] = true
	}
	for _, a := range http.Missing {
		delete(inHTTP, a.Space+"/"+a.ID)
	}
	inStream := map[string]Memory{}
	for _, m := range streams.Memories {
		inStream[m.Space+"/"+m.ID] = m
	}
	owners, _ := c.Owners(context.Background())
	for _, a := range r.Acks {
		if inHTTP[a.Space+"/"+a.ID] {
			continue
		}
		if m, ok := inStream[a.Space+"/"+a.ID]; ok {
			t.Logf("lost from the nodes' view but in the stream: %s/%s (key %s, acknowledged by %s at %s) at %s seq %d; partition owner now %s",
				a.Space, a.ID, a.Key, a.Node, a.End.Format("15:04:05.000"), streamName(m.Partition), m.Seq, owners[m.Partition])
		} else {
			t.Logf("lost from the streams too: %s/%s (key %s, acknowledged by %s at %s)", a.Space, a.ID, a.Key, a.Node, a.End.Format("15:04:05.000"))
		}
	}
}

// report logs the figures and appends them to the -figures file.
func report(t *testing.T, f Figures) {
	t.Helper()
	t.Log(f)
	if *figures == "" {
		return
	}
	fh, err := os.OpenFile(*figures, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer fh.Close()
	fmt.Fprintf(fh, "%s %s\n", time.Now().UTC().Format(time.RFC3339), f)
}

// TestClusterSteady: the load alone, and with -full the same load on one plain node for
// the "× one node" figure.
func TestClusterSteady(t *testing.T) {
	needCluster(t)
	l := scenarioLengths()
	fig := runScenario(t, "steady", false, func(r *run) { r.sleep(l.steady) })
	if *full {
		one := runScenario(t, "steady-one-node", true, func(r *run) { r.sleep(l.steady) })
		fig.SingleWrites = one.WritesPerSec()
		report(t, fig)
	}
}

// TestClusterKillBusiest: SIGKILL of the node owning the most partitions under load, a
// restart after a while.
func TestClusterKillBusiest(t *testing.T) {
	needCluster(t)
	runScenario(t, "sigkill", false, func(r *run) {
		r.sleep(r.len.before)
		b := r.busiest()
		downAt := time.Now()
		if err := b.Kill(); err != nil {
			r.t.Fatal(err)
		}
		r.ownedAfter("SIGKILL "+b.ID, downAt, b)
		r.sleep(r.len.fault - time.Since(downAt))
		r.rejoin(b, downAt)
		r.sleep(r.len.after)
	})
}

// TestClusterWipeNode: the busiest node is SIGKILLed, loses its data root and is
// restarted with the same configuration; it rebuilds the partitions it takes back from
// their streams, and its own view (reads at it, served or forwarded) must hold every
// acknowledged write. "engine" keeps the node's JetStream store (the engine's disk lost),
// "machine" wipes that too (a replaced machine: its NATS server rejoins with no state).
func TestClusterWipeNode(t *testing.T) {
	if !*full {
		t.Skip("full scenario: make test-cluster runs it")
	}
	needCluster(t)
	for _, tc := range []struct {
		name     string
		keepNATS bool
	}{{"engine", true}, {"machine", false}} {
		t.Run(tc.name, func(t *testing.T) {
			runScenario(t, "wipe-"+tc.name, false, func(r *run) {
				r.sleep(r.len.before)
				b := r.busiest()
				downAt := time.Now()
				if err := b.Kill(); err != nil {
					r.t.Fatal(err)
				}
				if err := b.Wipe(tc.keepNATS); err != nil {
					r.t.Fatal(err)
				}
				r.ownedAfter("SIGKILL "+b.ID, downAt, b)
				r.sleep(r.len.fault - time.Since(downAt))
				r.rejoin(b, time.Time{})
				r.viewsAt = append(r.viewsAt, b)
				r.sleep(r.len.after)
			})
		})
	}
}

// TestClusterPauseOwner: SIGSTOP of an owner past its lease, then SIGCONT; reads at it
// right after it resumes must not miss what the new owners acknowledged meanwhile.
func TestClusterPauseOwner(t *testing.T) {
	if !*full {
		t.Skip("full scenario: make test-cluster runs it")
	}
	needCluster(t)
	runScenario(t, "sigstop", false, func(r *run) {
		r.sleep(r.len.before)
		b := r.busiest()
		stopAt := time.Now()
		if err := b.Pause(); err != nil {
			r.t.Fatal(err)
		}
		r.ownedAfter("SIGSTOP "+b.ID, stopAt, b)
		r.sleep(r.len.fault - time.Since(stopAt))
		contAt := time.Now()
		if err := b.Resume(); err != nil {
			r.t.Fatal(err)
		}
		r.readAt(b, r.load.AcksBetween(stopAt, contAt))
		r.sleep(r.len.after)
	})
}

// TestClusterCutOff: one node's routes dropped by the proxies, then healed; reads at it
// during the cut must not miss what the others acknowledged.
func TestClusterCutOff(t *testing.T) {
	if !*full {
		t.Skip("full scenario: make test-cluster runs it")
	}
	needCluster(t)
	runScenario(t, "cut-off", false, func(r *run) {
		r.sleep(r.len.before)
		b := r.busiest()
		cutAt := time.Now()
		r.c.CutOff(b)
		r.ownedAfter("cut-off "+b.ID, cutAt, b)
		r.sleep(r.len.fault - time.Since(cutAt))
		r.readAt(b, r.load.AcksBetween(cutAt, time.Now()))
		r.c.Heal(b)
		r.sleep(r.len.after)
	})
}

// TestClusterKillAll: every node SIGKILLed under load, then all restarted.
func TestClusterKillAll(t *testing.T) {
	if !*full {
		t.Skip("full scenario: make test-cluster runs it")
	}
	needCluster(t)
	runScenario(t, "kill-all", false, func(r *run) {
		r.sleep(r.len.before)
		for _, n := range r.c.Nodes() {
			if err := n.Kill(); err != nil {
				r.t.Fatal(err)
			}
		}
		r.sleep(r.len.fault / 10)
		upAt := time.Now()
		for _, n := range r.c.Nodes() {
			if err := n.Start(); err != nil {
				r.t.Fatal(err)
			}
		}
		if err := r.c.Ready(r.ctx); err != nil {
			r.t.Fatal(err)
		}
		r.fig.OwnedAfter["restart of all"] = time.Since(upAt)
		r.sleep(r.len.after)
	})
}

// TestClusterDrain: engram cluster drain of the busiest node under load; it keeps
// running and forwarding while its partitions move.
func TestClusterDrain(t *testing.T) {
	if !*full {
		t.Skip("full scenario: make test-cluster runs it")
	}
	needCluster(t)
	if out, err := exec.Command(engramBin, "cluster", "drain", "--help").CombinedOutput(); err != nil {
		t.Skipf("engram cluster drain is not available: %v: %s", err, tail(out, 300))
	}
	runScenario(t, "drain", false, func(r *run) {
		r.sleep(r.len.before)
		b := r.busiest()
		drainAt := time.Now()
		cmd := exec.Command(engramBin, "--config", b.cfgPath, "cluster", "drain", b.ID)
		cmd.Env = b.env
		if out, err := cmd.CombinedOutput(); err != nil {
			r.t.Fatalf("engram cluster drain %s: %v: %s", b.ID, err, out)
		}
		r.ownedAfter("drain "+b.ID, drainAt, b)
		r.sleep(r.len.after)
	})
}
