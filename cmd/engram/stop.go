package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/engram-go/engram/client"
	"github.com/engram-go/engram/internal/process"
	"github.com/spf13/cobra"
)

// pollInterval is how often stop checks whether the server is gone.
const pollInterval = 50 * time.Millisecond

func (a *app) stopCommand() *cobra.Command {
	var (
		cf      clientFlags
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the running server gracefully",
		Long: "Stop the running server: POST /shutdown and wait; if it is still running after --timeout,\n" +
			"send SIGTERM and wait again; then SIGKILL. A graceful stop flushes every memory space.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.stop(cmd.Context(), cf, timeout)
		},
	}
	cf.register(cmd, false)
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait at each step before the next, harder one")
	return cmd
}

const noServer = "No running Engram server found"

func (a *app) stop(ctx context.Context, cf clientFlags, timeout time.Duration) error {
	var (
		pid     int
		pidPath string
	)
	if cf.addr == "" {
		path, err := a.pidFileOf()
		if err != nil {
			return err
		}
		pidPath = path
		p, live, err := runningServer(path)
		switch {
		case isNotExist(err):
			fmt.Fprintln(a.stdout, noServer)
			return nil
		case err != nil:
			return fmt.Errorf("read PID file %s: %w", path, err)
		case !live:
			os.Remove(path)
			fmt.Fprintf(a.stdout, "%s (removed the stale PID file %s naming pid %d)\n", noServer, path, p.PID)
			return nil
		}
		pid = p.PID
		if p.Port > 0 {
			cf.addr = fmt.Sprintf("127.0.0.1:%d", p.Port)
		}
	}

	// 1. Ask the server to shut down, which is the same path as SIGTERM.
	asked := false
	if cf.addr != "" {
		c, err := a.newClient(cf, "", 10*time.Second, client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
		if err != nil {
			return err
		}
		err = c.Shutdown(ctx)
		switch {
		case err == nil:
			asked = true
		case errors.Is(err, client.ErrNoServer) && pid == 0:
			fmt.Fprintln(a.stdout, noServer)
			return nil
		default:
			fmt.Fprintf(a.stderr, "engram: shutdown request failed: %s\n", cliMessage(err))
		}
	}
	if asked {
		if a.waitGone(pid, cf, timeout) {
			fmt.Fprintf(a.stdout, "Engram server stopped%s\n", pidNote(pid))
			return nil
		}
		fmt.Fprintf(a.stderr, "engram: server still running %s after the shutdown request\n", timeout)
	}
	if pid == 0 {
		return &exitError{code: 1, msg: "the server did not stop and its pid is unknown (no PID file); stop it by hand"}
	}

	// 2. SIGTERM: the same graceful path, for a server whose HTTP side does not answer.
	if err := signalProcess(pid, sigTerm); err == nil {
		if a.waitGone(pid, cf, timeout) {
			fmt.Fprintf(a.stdout, "Engram server stopped%s after SIGTERM\n", pidNote(pid))
			return nil
		}
		fmt.Fprintf(a.stderr, "engram: server still running %s after SIGTERM; killing it\n", timeout)
	} else if !process.Alive(pid) {
		fmt.Fprintf(a.stdout, "Engram server stopped%s\n", pidNote(pid))
		return nil
	}

	// 3. SIGKILL: nothing acknowledged is lost (the WAL is synced per wal_sync), but
	// recovery at next start replays the log.
	if err := signalProcess(pid, sigKill); err != nil && process.Alive(pid) {
		return err
	}
	if !a.waitGone(pid, cf, 5*time.Second) {
		return &exitError{code: 1, msg: fmt.Sprintf("pid %d survived SIGKILL", pid)}
	}
	if pidPath != "" {
		removePIDFile(pidPath, pid)
	}
	fmt.Fprintf(a.stdout, "Engram server killed%s; the next start will replay its write-ahead log\n", pidNote(pid))
	return nil
}

func pidNote(pid int) string {
	if pid == 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}

// waitGone waits until the process has exited (or, without a pid, until the address
// stops answering), at most timeout.
func (a *app) waitGone(pid int, cf clientFlags, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if pid > 0 && !process.Alive(pid) {
			return true
		}
		if pid == 0 {
			c, err := a.newClient(cf, "", time.Second, client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
			if err != nil {
				return false
			}
			if err := c.Alive(context.Background()); errors.Is(err, client.ErrNoServer) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval)
	}
}
