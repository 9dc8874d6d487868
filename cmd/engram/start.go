package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/engram-go/engram/cmd/engram/config"
	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/internal/procs"

	// The frontends register themselves under the names [server] frontends refers to.
	_ "github.com/engram-go/engram/frontend/grpcapi"
	_ "github.com/engram-go/engram/frontend/httpapi"
	_ "github.com/engram-go/engram/frontend/mcpapi"
)

// drainTimeout bounds how long frontends may take to finish in-flight requests at stop.
const drainTimeout = 10 * time.Second

func (a *app) startCommand() *cobra.Command {
	var httpListen, grpcListen string
	var httpDocs bool
	var clusterFlags map[string]*string
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run the server in the foreground",
		Long: "Run the server in the foreground, logging to stderr. It stops gracefully on SIGINT,\n" +
			"SIGTERM or POST /shutdown (what `engram stop` sends): listeners drain, every space is\n" +
			"flushed and closed, and the process exits 0.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("http-docs") {
				a.httpDocs = strconv.FormatBool(httpDocs)
			}
			for key, v := range clusterFlags {
				if cmd.Flags().Changed(config.ClusterFlag(key)) {
					if a.clusterFlags == nil {
						a.clusterFlags = map[string]string{}
					}
					a.clusterFlags[key] = *v
				}
			}
			cfg, err := a.loadConfig(httpListen, grpcListen)
			if err != nil {
				return err
			}
			return a.serve(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&httpListen, "http", "", "HTTP listen address (default $ENGRAM_HTTP_LISTEN, else [server] http_listen, 127.0.0.1:7432)")
	cmd.Flags().BoolVar(&httpDocs, "http-docs", true, "serve the interactive API documentation at /docs (default $ENGRAM_HTTP_DOCS, else [http] docs, true)")
	cmd.Flags().StringVar(&a.mcpListen, "mcp", "", "MCP listen address (default $ENGRAM_MCP_LISTEN, else [mcp] listen, 127.0.0.1:7433)")
	cmd.Flags().StringVar(&grpcListen, "grpc", "", "gRPC listen address (default $ENGRAM_GRPC_LISTEN, else [server] grpc_listen, 127.0.0.1:50051)")
	clusterFlags = map[string]*string{}
	for _, key := range config.ClusterKeys() {
		clusterFlags[key] = cmd.Flags().String(config.ClusterFlag(key), "",
			"["+key[:strings.LastIndex(key, ".")]+"] "+key[strings.LastIndex(key, ".")+1:]+" (default $"+config.ClusterEnv(key)+"; docs/configuration.md)")
	}
	return cmd
}

func (a *app) logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: l}))
}

// serve runs the server until a signal or the shutdown route stops it.
func (a *app) serve(ctx context.Context, cfg config.Config) error {
	log := a.logger(cfg.Log.Level)
	for _, n := range cfg.Notices {
		log.Warn(n)
	}
	if cfg.File != "" {
		log.Info("configuration loaded", "file", cfg.File)
	} else {
		log.Info("no configuration file, using built-in defaults")
	}
	log.Info("scheduler sized for blocking fdatasync", "gomaxprocs", procs.Tune(), "cpus", runtime.NumCPU())
	setMemoryLimit(cfg.Limits.MemoryLimitBytes, log)
	auth, stopAuth, err := a.authenticator(cfg, log)
	if err != nil {
		return err
	}
	defer stopAuth()

	if p, live, err := runningServer(cfg.PIDPath); err == nil && live {
		return fmt.Errorf("an Engram server is already running (pid %d, HTTP port %d, PID file %s); stop it with `engram stop`",
			p.PID, p.Port, cfg.PIDPath)
	} else if err == nil {
		log.Warn("removing stale PID file", "path", cfg.PIDPath, "pid", p.PID)
		os.Remove(cfg.PIDPath)
	} else if !errors.Is(err, fs.ErrNotExist) {
		log.Warn("ignoring unreadable PID file", "path", cfg.PIDPath, "err", err)
	}

	unlock, err := lockDataRoot(cfg.Persistence.DataRoot)
	if err != nil {
		return err
	}
	defer unlock()

	listeners := plannedListeners(cfg)
	// Binding is checked before recovery so that a port conflict fails in milliseconds,
	// not after a long WAL replay.
	for _, l := range listeners {
		if err := probeListen(l); err != nil {
			return err
		}
	}

	ecfg := cfg.EngineConfig()
	if err := cfg.ResolveEmbeddingKeys(a.getenv, &ecfg); err != nil {
		return err
	}
	ecfg.Logger = log
	// A cluster node's engine opens no space until the node has joined: nothing may reach a
	// local log that its partition's stream does not have first.
	ecfg.Replicated = cfg.Cluster.Enabled
	eng, err := engine.Open(ecfg)
	if err != nil {
		return fmt.Errorf("open data root %s: %w", cfg.Persistence.DataRoot, err)
	}

	// From here on a signal takes the graceful path. (During recovery it ends the process
	// at once, which loses nothing: no write has been acknowledged yet.)
	sigCtx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	var once sync.Once
	shutdownRequested := make(chan struct{})
	opts := cfg.FrontendOptions()
	var node clusterNode
	if cfg.Cluster.Enabled {
		if node, err = a.startCluster(sigCtx, cfg.ClusterConfig(), eng, log); err != nil {
			if cerr := eng.Close(); cerr != nil {
				log.Error("closing the engine", "err", cerr)
			}
			return fmt.Errorf("join the cluster as node %q: %w", cfg.Cluster.NodeID, err)
		}
		opts.Router, opts.Cluster, opts.Directory, opts.NodeID = node, node, node, cfg.Cluster.NodeID
		log.Info("cluster node started", "node_id", cfg.Cluster.NodeID, "partitions", cfg.Cluster.Partitions)
	}
	opts.Engine = eng
	opts.Logger = log
	opts.Version = buildVersion()
	opts.Limits = frontend.NewLimits()
	opts.Started = time.Now()
	opts.Shutdown = func() { once.Do(func() { close(shutdownRequested) }) }
	opts.Auth = auth

	fronts, err := startFrontends(cfg, opts, log)
	if err != nil {
		closeCluster(node, log)
		if cerr := eng.Close(); cerr != nil {
			log.Error("closing the engine", "err", cerr)
		}
		return err
	}

	pid := os.Getpid()
	pf := pidFile{PID: pid, Port: httpPort(fronts)}
	if err := writePIDFile(cfg.PIDPath, pf); err != nil {
		stopFrontends(fronts, log)
		closeCluster(node, log)
		eng.Close()
		return err
	}
	attrs := []any{"pid", pid, "data_root", cfg.Persistence.DataRoot, "pid_file", cfg.PIDPath, "version", opts.Version}
	for _, f := range fronts {
		attrs = append(attrs, f.name, f.Addr())
	}
	log.Info("Engram server started", attrs...)

	select {
	case <-sigCtx.Done():
		log.Info("shutting down", "cause", "signal")
	case <-shutdownRequested:
		log.Info("shutting down", "cause", "shutdown request")
	}
	// A second signal now kills the process at once: the operator asked twice.
	stopSignals()

	stopFrontends(fronts, log)
	// The node releases its partitions before the engine closes, so their new owners
	// take over at once instead of after the lease TTL.
	closeCluster(node, log)
	closeErr := eng.Close()
	if err := removePIDFile(cfg.PIDPath, pid); err != nil {
		log.Warn("removing the PID file", "err", err)
	}
	if closeErr != nil {
		log.Error("closing the engine", "err", closeErr)
		return &exitError{code: 1, msg: fmt.Sprintf("shutdown: %v", closeErr)}
	}
	log.Info("Engram server stopped; every memory space flushed and closed")
	return nil
}

// closeCluster leaves the cluster, if this server joined one.
func closeCluster(node clusterNode, log *slog.Logger) {
	if node == nil {
		return
	}
	if err := node.Close(); err != nil {
		log.Error("leaving the cluster", "err", err)
		return
	}
	log.Info("left the cluster; partitions released")
}

// listener is one address the server will bind, for the early conflict check.
type listener struct {
	what, addr, how string // how: the flag or setting that chooses the address
}

func plannedListeners(cfg config.Config) []listener {
	var out []listener
	for _, name := range cfg.Server.Frontends {
		switch name {
		case "http":
			out = append(out, listener{"HTTP", cfg.Server.HTTPListen, "--http, " + config.EnvHTTPListen + " or [server] http_listen"})
			for id, o := range cfg.Spaces.PerSpace {
				if o.HTTPListen != "" {
					out = append(out, listener{"HTTP of space " + id, o.HTTPListen, "[spaces." + id + "] http_listen"})
				}
			}
		case "grpc":
			out = append(out, listener{"gRPC", cfg.Server.GRPCListen, "--grpc, " + config.EnvGRPCListen + " or [server] grpc_listen"})
		case "mcp":
			out = append(out, listener{"MCP", cfg.MCP.Listen, "--mcp, " + config.EnvMCPListen + " or [mcp] listen"})
		}
	}
	if cc := cfg.ClusterConfig(); cc.Enabled && cc.NATS.URL == "" {
		for _, l := range []struct{ what, addr, key string }{
			{"the embedded NATS server's clients", cc.NATS.Listen, "cluster.nats.listen"},
			{"the embedded NATS server's routes", cc.NATS.ClusterListen, "cluster.nats.cluster_listen"},
		} {
			if l.addr != "" {
				out = append(out, listener{l.what, l.addr, "--" + config.ClusterFlag(l.key) + ", " + config.ClusterEnv(l.key) + " or " + l.key})
			}
		}
	}
	return out
}

func probeListen(l listener) error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return listenError(l, err)
	}
	return ln.Close()
}

func listenError(l listener, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("cannot listen on %s for %s: the address is already in use (is another server running?); choose another with %s",
			l.addr, l.what, l.how)
	}
	return fmt.Errorf("cannot listen on %s for %s: %w", l.addr, l.what, err)
}

// namedFrontend is a started frontend with the name it was started under.
type namedFrontend struct {
	name string
	frontend.Frontend
}

func startFrontends(cfg config.Config, opts frontend.Options, log *slog.Logger) ([]namedFrontend, error) {
	var started []namedFrontend
	for _, name := range cfg.Server.Frontends {
		f, err := frontend.New(name, opts)
		if err == nil {
			err = f.Start()
		}
		if err != nil {
			stopFrontends(started, log)
			if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use") {
				return nil, fmt.Errorf("start frontend %q: the address is already in use (is another server running?): %w", name, err)
			}
			return nil, fmt.Errorf("start frontend %q: %w", name, err)
		}
		started = append(started, namedFrontend{name, f})
	}
	return started, nil
}

// stopFrontends drains every frontend in parallel, each bounded by drainTimeout.
func stopFrontends(fronts []namedFrontend, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, f := range fronts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.Stop(ctx); err != nil {
				log.Warn("stopping frontend", "frontend", f.name, "err", err)
			}
		}()
	}
	wg.Wait()
}

// httpPort is the bound port of the HTTP frontend, 0 when it is not running.
func httpPort(fronts []namedFrontend) int {
	for _, f := range fronts {
		if f.name != "http" {
			continue
		}
		if _, p, err := net.SplitHostPort(f.Addr()); err == nil {
			n, _ := strconv.Atoi(p)
			return n
		}
	}
	return 0
}
