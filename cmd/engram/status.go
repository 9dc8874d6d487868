package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// health is the answer of GET /api/v1/system/health.
type health struct {
	Status    string        `json:"status"`
	Timestamp string        `json:"timestamp"`
	Spaces    []spaceHealth `json:"spaces"`
}

type spaceHealth struct {
	Space             string  `json:"space"`
	Memories          int64   `json:"memories"`
	Pressure          float64 `json:"pressure"`
	WALLagMS          float64 `json:"wal_lag_ms"`
	ConsolidationRate float64 `json:"consolidation_rate"`
	Tiers             struct {
		Hot  int64 `json:"hot"`
		Warm int64 `json:"warm"`
		Cold int64 `json:"cold"`
	} `json:"tiers"`
}

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
			c, err := a.newClient(cf)
			if err != nil {
				return err
			}
			q := url.Values{}
			if space != "" {
				q.Set("space", space)
			}
			r, err := c.do(cmd.Context(), http.MethodGet, "/api/v1/system/health", q, nil)
			if err != nil {
				return err
			}
			var h health
			// 503 carries the same body: the server is up but reports itself unhealthy.
			if (r.status != http.StatusOK && r.status != http.StatusServiceUnavailable) || json.Unmarshal(r.body, &h) != nil || h.Status == "" {
				return decodeAPIError(r)
			}
			if cf.json {
				if err := printJSON(a.stdout, r.body); err != nil {
					return err
				}
			} else if err := writeStatus(a.stdout, h.Spaces); err != nil {
				return err
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
func writeStatus(w io.Writer, spaces []spaceHealth) error {
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
