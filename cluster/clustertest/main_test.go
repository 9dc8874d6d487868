package clustertest

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/engram-go/engram/internal/enginetest"
)

// The scenarios run the real binary, built once here; -short skips them. -full runs
// every scenario at the durations of docs/cluster.md ("Testing"), as make test-cluster
// does; without it the short version runs: steady state and one SIGKILL.
var (
	full      = flag.Bool("full", false, "run every cluster scenario at full length")
	figures   = flag.String("figures", "", "append each scenario's figures to this file")
	keep      = flag.Bool("keep", false, "keep the nodes' folders and logs (their path is logged)")
	leaseTTL  = flag.Duration("lease-ttl", 0, "the nodes' [cluster] lease_ttl; 0 = the harness's 3s")
	logLevel  = flag.String("log-level", "", "the nodes' [log] level; \"\" = info, debug logs placement and catch-up steps")
	engramBin string
	buildErr  error
	// The probe of the binary's cluster support runs once for all scenarios.
	probeOnce    sync.Once
	probeMissing string
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		if !testing.Short() {
			var cleanup func()
			engramBin, cleanup, buildErr = enginetest.BuildBinary("../../cmd/engram")
			defer cleanup()
		}
		return m.Run()
	}())
}

// needCluster skips the test with -short and fails it when the binary did not build.
// A binary that cannot run a cluster yet skips it, naming what is missing.
func needCluster(t *testing.T) {
	t.Helper()
	needBinary(t)
	probeOnce.Do(func() { probeMissing = clusterMissing(t) })
	if probeMissing != "" {
		t.Skip("cluster scenario: the binary cannot run a cluster yet: " + probeMissing)
	}
}

// needBinary skips the test with -short and fails it when the binary did not build.
func needBinary(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// clusterMissing starts one node with a [cluster] section and reports what does not
// work: the configuration refused, or no embedded NATS server listening.
func clusterMissing(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	n, err := newNode("probe", dir, engramBin, enginetest.IsolatedEnv(dir))
	if err != nil {
		t.Fatal(err)
	}
	// Its two peers never come: the probe only needs the node to start its NATS server.
	routes, err := freeAddrs(3)
	if err != nil {
		t.Fatal(err)
	}
	n.Route = routes[0]
	s := Settings{}
	s.fill()
	if err := n.writeConfig(configTOML(n, s, routes[1:])); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(engramBin, "--config", n.cfgPath, "config", "show")
	cmd.Env = n.env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Sprintf("the [cluster] configuration is refused: %s", bytes.TrimSpace(out))
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Kill()
	// The embedded NATS server listens before the node serves HTTP; a node answering
	// HTTP without it for a while more does not start one.
	var aliveAt time.Time
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !n.Running() {
			log, _ := os.ReadFile(n.LogPath())
			return fmt.Sprintf("a clustered node exits at start: %s", tail(log, 600))
		}
		if c, err := net.Dial("tcp", n.NATS); err == nil {
			c.Close()
			return ""
		}
		if aliveAt.IsZero() {
			if c, err := net.Dial("tcp", n.HTTP); err == nil {
				c.Close()
				aliveAt = time.Now()
			}
		} else if time.Since(aliveAt) > 3*time.Second {
			break
		}
	}
	return "a node with [cluster] enabled starts no embedded NATS server (cluster.Start is not wired into engram start)"
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
