package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// spaceCommand groups the memory space commands. Each subcommand lives in its own
// constructor so that more (merge, backup, restore) are one AddCommand away.
func (a *app) spaceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "space",
		Short: "List, create, delete, back up, restore and merge memory spaces",
	}
	cmd.AddCommand(a.spaceListCommand(), a.spaceCreateCommand(), a.spaceDeleteCommand())
	cmd.AddCommand(a.spaceBackupCommand(), a.spaceRestoreCommand(), a.spaceMergeCommand())
	cmd.AddCommand(a.spaceReembedCommand())
	return cmd
}

// spaceInfo is one entry of GET /api/v1/spaces.
type spaceInfo struct {
	ID              string `json:"id"`
	Memories        int64  `json:"memories"`
	CreatedAt       string `json:"created_at"`
	PersistenceRoot string `json:"persistence_root"`
}

func (a *app) spaceListCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every memory space with its memory count",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.newClient(cf)
			if err != nil {
				return err
			}
			var out struct {
				Spaces []spaceInfo `json:"spaces"`
			}
			r, err := c.call(cmd.Context(), http.MethodGet, "/api/v1/spaces", nil, nil, &out)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, r.body)
			}
			return writeSpaceList(a.stdout, out.Spaces)
		},
	}
	cf.register(cmd, true)
	return cmd
}

// writeSpaceList prints the spaces as a table.
func writeSpaceList(w io.Writer, spaces []spaceInfo) error {
	rows := make([][]string, 0, len(spaces))
	for _, s := range spaces {
		rows = append(rows, []string{s.ID, strconv.FormatInt(s.Memories, 10), formatTime(s.CreatedAt)})
	}
	if err := writeTable(w, []column{{title: "Space"}, {title: "Memories", right: true}, {title: "Created"}}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, plural(len(spaces), "memory space", "memory spaces"))
	return err
}

// formatTime shows an RFC 3339 time in UTC to the second; anything else as given.
func formatTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func (a *app) spaceCreateCommand() *cobra.Command {
	var (
		cf       clientFlags
		settings struct {
			hot, warm, cold, dimension int
			rate                       float64
			walSync                    string
		}
	)
	cmd := &cobra.Command{
		Use:   "create ID",
		Short: "Create a memory space (settings not given inherit [persistence] and [embedding])",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(cf)
			if err != nil {
				return err
			}
			body := map[string]any{"id": args[0]}
			set := func(flag, key string, v any) {
				if cmd.Flags().Changed(flag) {
					body[key] = v
				}
			}
			set("hot-capacity", "hot_capacity", settings.hot)
			set("warm-capacity", "warm_capacity", settings.warm)
			set("cold-capacity", "cold_capacity", settings.cold)
			set("dimension", "dimension", settings.dimension)
			set("rate-limit", "rate_limit", settings.rate)
			set("wal-sync", "wal_sync", settings.walSync)
			r, err := c.call(cmd.Context(), http.MethodPost, "/api/v1/spaces", nil, body, nil)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, r.body)
			}
			if r.status == http.StatusCreated {
				_, err = fmt.Fprintf(a.stdout, "Created memory space '%s'\n", args[0])
			} else {
				_, err = fmt.Fprintf(a.stdout, "Memory space '%s' already exists\n", args[0])
			}
			return err
		},
	}
	cf.register(cmd, true)
	f := cmd.Flags()
	f.IntVar(&settings.hot, "hot-capacity", 0, "memories kept in RAM before sealing to the warm tier")
	f.IntVar(&settings.warm, "warm-capacity", 0, "memories in the warm tier before compaction to cold")
	f.IntVar(&settings.cold, "cold-capacity", 0, "memories in the cold tier")
	f.IntVar(&settings.dimension, "dimension", 0, "embedding dimension of the space")
	f.Float64Var(&settings.rate, "rate-limit", 0, "remembers per second allowed (0 = unlimited)")
	f.StringVar(&settings.walSync, "wal-sync", "", "always, interval or never")
	return cmd
}

func (a *app) spaceDeleteCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a memory space and its folder (default cannot be deleted)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(cf)
			if err != nil {
				return err
			}
			r, err := c.call(cmd.Context(), http.MethodDelete, "/api/v1/spaces/"+url.PathEscape(args[0]), nil, nil, nil)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, r.body)
			}
			_, err = fmt.Fprintf(a.stdout, "Deleted memory space '%s'\n", args[0])
			return err
		},
	}
	cf.register(cmd, true)
	return cmd
}
