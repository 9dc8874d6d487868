package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/engram-go/engram/cmd/engram/config"
)

// app is the state shared by all commands of one invocation: where output goes, the
// environment, and the global flags.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	configPath string // --config
	dataRoot   string // --data-root
	httpDocs   string // engram start --http-docs ("" = not given)
	mcpListen  string // start --mcp
	// clusterFlags are the cluster flags of `engram start` given, by dotted key.
	clusterFlags map[string]string
	// startCluster joins the cluster when [cluster] enabled is set.
	startCluster clusterStarter
}

// exitError ends the process with a code and, when msg is set, a message on stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// execute runs the command line and returns the process exit code.
func execute(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv, startCluster: startCluster}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "engram: %s\n", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "engram: %s\n", cliMessage(err))
	return 1
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "engram",
		Short:         "Engram: a multi-tenant cognitive memory server",
		Long:          "Engram stores memories in isolated memory spaces and recalls them by text or vector.\n`engram start` runs the server; the other commands talk to a running server.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "configuration file (default $ENGRAM_CONFIG, else <user config dir>/engram/config.toml)")
	root.PersistentFlags().StringVar(&a.dataRoot, "data-root", "", "data root holding one folder per memory space (default $ENGRAM_DATA_ROOT, else [persistence] data_root)")
	root.AddCommand(
		a.startCommand(),
		a.stopCommand(),
		a.statusCommand(),
		a.spaceCommand(),
		a.rememberCommand(),
		a.recallCommand(),
		a.queryCommand(),
		a.forgetCommand(),
		a.configCommand(),
		a.keyCommand(),
		a.mcpCommand(),
		a.clusterCommand(),
	)
	return root
}

// loadConfig reads the configuration with the global flags and, for start, the listener
// flags.
func (a *app) loadConfig(httpListen, grpcListen string) (config.Config, error) {
	return config.Load(config.Source{
		Path:       a.configPath,
		DataRoot:   a.dataRoot,
		HTTPListen: httpListen,
		GRPCListen: grpcListen,
		HTTPDocs:   a.httpDocs,
		MCPListen:  a.mcpListen,
		Cluster:    a.clusterFlags,
		Getenv:     a.getenv,
	})
}
