package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/engram-go/engram/client"

	"github.com/spf13/cobra"
)

func (a *app) statusCommand() *cobra.Command {
	var (
		cf    clientFlags
		space string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the per-space metrics of the running server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.newClient(cf, space, requestTimeout)
			if err != nil {
				return err
			}
			// An unhealthy server (503) still sends the table: the answer comes with the error.
			h, err := c.SystemHealth(cmd.Context(), space != "")
			if err != nil && h.Status == "" {
				return err
			}
			if cf.json {
				if err := printJSON(a.stdout, h); err != nil {
					return err
				}
			} else if err := writeStatus(a.stdout, h.Spaces); err != nil {
				return err
			} else if st, err := c.ClusterStatus(cmd.Context()); err == nil {
				// A clustered server adds its view of the cluster; a single node has none.
				fmt.Fprintln(a.stdout)
				if err := writeClusterStatus(a.stdout, st); err != nil {
					return err
				}
			} else if !errors.Is(err, client.ErrNotFound) {
				fmt.Fprintf(a.stderr, "warning: cluster status: %v\n", err)
			}
			if h.Status != "healthy" {
				return &exitError{code: 1, msg: fmt.Sprintf("server status is %q", h.Status)}
			}
			return nil
		},
	}
	cf.register(cmd, true)
	cmd.Flags().StringVar(&space, "space", "", "show only this memory space")
	return cmd
}

// The status table of docs/operations.md, "engram status": fixed column widths 20, 11, 10,
// 13 and 17.
const (
	statusTop    = "┌────────────────────┬───────────┬──────────┬─────────────┬─────────────────┐\n"
	statusHeader = "│ Space              │ Memories  │ Pressure │ WAL Lag (ms)│ Consolidation   │\n"
	statusMid    = "├────────────────────┼───────────┼──────────┼─────────────┼─────────────────┤\n"
	statusBottom = "└────────────────────┴───────────┴──────────┴─────────────┴─────────────────┘\n"
	spaceCell    = 18 // the Space column less its padding
)

// writeStatus prints the per-space metrics table. A space id longer than the column is
// cut with an ellipsis; --json has it whole.
func writeStatus(w io.Writer, spaces []client.SpaceHealth) error {
	var b strings.Builder
	b.WriteString("Per-Space Metrics:\n")
	b.WriteString(statusTop)
	b.WriteString(statusHeader)
	b.WriteString(statusMid)
	for _, s := range spaces {
		name := clip(s.Space, spaceCell)
		fmt.Fprintf(&b, "│ %s%s │ %9d │ %8s │ %11.2f │ %15s │\n",
			name, strings.Repeat(" ", spaceCell-runeLen(name)),
			s.Memories,
			fmt.Sprintf("%.1f%%", s.Pressure*100),
			s.WALLagMS,
			fmt.Sprintf("%.2f/s", s.ConsolidationRate))
	}
	b.WriteString(statusBottom)
	_, err := io.WriteString(w, b.String())
	return err
}

func runeLen(s string) int { return len([]rune(s)) }
