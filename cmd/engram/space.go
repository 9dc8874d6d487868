package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/engram-go/engram/client"

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

func (a *app) spaceListCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every memory space with its memory count",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.newClient(cf, "", requestTimeout)
			if err != nil {
				return err
			}
			spaces, err := c.Spaces(cmd.Context())
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, map[string]any{"spaces": spaces})
			}
			return writeSpaceList(a.stdout, spaces)
		},
	}
	cf.register(cmd, true)
	return cmd
}

// writeSpaceList prints the spaces as a table.
func writeSpaceList(w io.Writer, spaces []client.SpaceEntry) error {
	rows := make([][]string, 0, len(spaces))
	for _, s := range spaces {
		rows = append(rows, []string{s.ID, strconv.Itoa(s.Memories), s.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	if err := writeTable(w, []column{{title: "Space"}, {title: "Memories", right: true}, {title: "Created"}}, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, plural(len(spaces), "memory space", "memory spaces"))
	return err
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
			c, err := a.newClient(cf, "", requestTimeout)
			if err != nil {
				return err
			}
			// Zero settings are left out of the request: the server's defaults apply.
			out, err := c.CreateSpace(cmd.Context(), args[0], client.SpaceSettings{
				HotCapacity: settings.hot, WarmCapacity: settings.warm, ColdCapacity: settings.cold,
				Dimension: settings.dimension, RateLimit: settings.rate, WALSync: settings.walSync,
			})
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, out)
			}
			if out.Created != nil && *out.Created {
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
			c, err := a.newClient(cf, "", requestTimeout)
			if err != nil {
				return err
			}
			out, err := c.DeleteSpace(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, out)
			}
			_, err = fmt.Fprintf(a.stdout, "Deleted memory space '%s'\n", args[0])
			return err
		},
	}
	cf.register(cmd, true)
	return cmd
}
