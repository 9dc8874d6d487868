package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// configCommand groups configuration commands.
func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration (file, environment and flags merged) as TOML",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := a.loadConfig("", "")
			if err != nil {
				return err
			}
			for _, n := range cfg.Notices {
				fmt.Fprintf(a.stderr, "warning: %s\n", n)
			}
			src := "none, built-in defaults"
			if cfg.File != "" {
				src = cfg.File
			}
			fmt.Fprintf(a.stdout, "# Effective Engram configuration (file: %s)\n# PID file: %s\n\n", src, cfg.PIDPath)
			return cfg.WriteTOML(a.stdout)
		},
	})
	return cmd
}
