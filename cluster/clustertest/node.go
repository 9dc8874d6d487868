package clustertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotRunning is returned by signals sent to a node whose process has ended.
var ErrNotRunning = errors.New("clustertest: node is not running")

// Node is one engram process and the addresses it keeps across restarts.
type Node struct {
	ID       string
	DataRoot string
	HTTP     string // host:port of its HTTP API
	GRPC     string
	MCP      string
	NATS     string // its embedded NATS server's client listener
	Route    string // its embedded NATS server's route listener, on 127.0.0.2 (peers reach it through its gate)

	bin     string
	env     []string
	cfgPath string
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	stopped bool          // SIGSTOPped and not yet continued
	down    bool          // ended on purpose (Kill, Terminate): Ready does not wait for it
	cpuDone time.Duration // CPU time of this node's processes that have ended
}

// newNode picks free loopback ports for a node whose data lives under dir.
func newNode(id, dir, bin string, env []string) (*Node, error) {
	addrs, err := freeAddrs(4)
	if err != nil {
		return nil, err
	}
	n := &Node{ID: id, DataRoot: filepath.Join(dir, "data"), HTTP: addrs[0], GRPC: addrs[1], MCP: addrs[2],
		NATS: addrs[3], bin: bin, env: env,
		cfgPath: filepath.Join(dir, "engram.toml"), logPath: filepath.Join(dir, "engram.log")}
	return n, nil
}

// freeAddrs reserves n distinct loopback ports at once (all held open until every one is
// chosen, so none repeats) and releases them for the process to bind.
func freeAddrs(n int) ([]string, error) {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	out := make([]string, n)
	for i := range out {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("clustertest: free port: %w", err)
		}
		lns = append(lns, ln)
		out[i] = ln.Addr().String()
	}
	return out, nil
}

// StoreDir is the JetStream store of the node's embedded NATS server.
func (n *Node) StoreDir() string { return filepath.Join(n.DataRoot, "nats") }

// Wipe deletes everything under the node's data root (it must not be running): its
// spaces, checkpoints and applied sequences, and with keepNATS false its JetStream store
// too. The configuration file and log live outside the data root and stay.
func (n *Node) Wipe(keepNATS bool) error {
	if n.Running() {
		return fmt.Errorf("clustertest: %s: wipe while running", n.ID)
	}
	entries, err := os.ReadDir(n.DataRoot)
	if err != nil {
		return fmt.Errorf("clustertest: %s: wipe: %w", n.ID, err)
	}
	for _, e := range entries {
		if keepNATS && e.Name() == filepath.Base(n.StoreDir()) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(n.DataRoot, e.Name())); err != nil {
			return fmt.Errorf("clustertest: %s: wipe: %w", n.ID, err)
		}
	}
	return nil
}

// LogPath is the file holding the output of every process the node has run.
func (n *Node) LogPath() string { return n.logPath }

func (n *Node) writeConfig(text string) error {
	if err := os.MkdirAll(filepath.Dir(n.cfgPath), 0o755); err != nil {
		return fmt.Errorf("clustertest: %s: %w", n.ID, err)
	}
	if err := os.WriteFile(n.cfgPath, []byte(text), 0o644); err != nil {
		return fmt.Errorf("clustertest: %s: config: %w", n.ID, err)
	}
	return nil
}

// Start runs the process (it must not be running) without waiting for it to serve.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("clustertest: %s: already running", n.ID)
	}
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("clustertest: %s: log: %w", n.ID, err)
	}
	fmt.Fprintf(logf, "--- clustertest: start %s at %s\n", n.ID, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(n.bin, "--config", n.cfgPath, "start")
	cmd.Env = n.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("clustertest: %s: start: %w", n.ID, err)
	}
	exited := make(chan struct{})
	n.cmd, n.exited, n.stopped, n.down = cmd, exited, false, false
	go func() {
		err := cmd.Wait()
		logf.Close()
		n.mu.Lock()
		n.waitErr = err
		if ps := cmd.ProcessState; ps != nil {
			// Kept from the rusage of the ended process: a SIGKILLed one too.
			n.cpuDone += ps.UserTime() + ps.SystemTime()
		}
		if n.cmd == cmd {
			n.cmd = nil
		}
		n.mu.Unlock()
		close(exited)
	}()
	return nil
}

// Running reports whether the node's process is alive (stopped by SIGSTOP included).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// Down reports whether the node was ended on purpose and not started again.
func (n *Node) Down() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.down
}

// Serving reports whether the node runs and is not stopped by SIGSTOP.
func (n *Node) Serving() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil && !n.stopped
}

// PID is the running process's id, 0 when none runs.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

func (n *Node) signal(sig syscall.Signal) (chan struct{}, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotRunning, n.ID)
	}
	if err := n.cmd.Process.Signal(sig); err != nil {
		return nil, fmt.Errorf("clustertest: %s: %v: %w", n.ID, sig, err)
	}
	switch sig {
	case syscall.SIGSTOP:
		n.stopped = true
	case syscall.SIGCONT:
		n.stopped = false
	case syscall.SIGKILL, syscall.SIGTERM:
		n.stopped, n.down = false, true
	}
	return n.exited, nil
}

// Kill sends SIGKILL and waits for the process to end.
func (n *Node) Kill() error {
	exited, err := n.signal(syscall.SIGKILL)
	if err != nil {
		return err
	}
	<-exited
	return nil
}

// Terminate sends SIGTERM (a graceful stop) and waits up to timeout for the process to
// end, then kills it; the error says whether it had to.
func (n *Node) Terminate(timeout time.Duration) error {
	exited, err := n.signal(syscall.SIGTERM)
	if err != nil {
		return err
	}
	select {
	case <-exited:
		return nil
	case <-time.After(timeout):
		n.Kill()
		return fmt.Errorf("clustertest: %s: still running %v after SIGTERM, killed", n.ID, timeout)
	}
}

// Pause sends SIGSTOP: the process stays alive and holds its sockets but runs nothing.
func (n *Node) Pause() error {
	_, err := n.signal(syscall.SIGSTOP)
	return err
}

// Resume sends SIGCONT.
func (n *Node) Resume() error {
	_, err := n.signal(syscall.SIGCONT)
	return err
}

// CPU is the CPU time of every process this node has run, the live one included.
func (n *Node) CPU() (time.Duration, error) {
	n.mu.Lock()
	done, cmd := n.cpuDone, n.cmd
	n.mu.Unlock()
	if cmd == nil {
		return done, nil
	}
	live, err := procCPU(cmd.Process.Pid)
	if err != nil {
		// Ended between the two reads: its rusage is in cpuDone now.
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.cmd == nil {
			return n.cpuDone, nil
		}
		return 0, err
	}
	return done + live, nil
}

// WaitAlive polls /health/alive until it answers 200, the process ends or ctx ends.
func (n *Node) WaitAlive(ctx context.Context) error {
	hc := &http.Client{Timeout: time.Second}
	for {
		n.mu.Lock()
		exited, running, waitErr := n.exited, n.cmd != nil, n.waitErr
		n.mu.Unlock()
		if !running {
			log, _ := os.ReadFile(n.logPath)
			return fmt.Errorf("clustertest: %s exited (%v); log %s ends:\n%s", n.ID, waitErr, n.logPath, lastLines(log, 5))
		}
		if resp, err := hc.Get("http://" + n.HTTP + "/health/alive"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clustertest: %s not alive: %w; log %s", n.ID, ctx.Err(), n.logPath)
		case <-exited:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lastLines is the end of a log, n lines at most.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
