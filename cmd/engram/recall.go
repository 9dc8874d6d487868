package main

import (
	"fmt"
	"io"

	"github.com/engram-go/engram/client"

	"github.com/spf13/cobra"
)

func (a *app) recallCommand() *cobra.Command {
	var (
		cf    clientFlags
		space string
		limit int
		mode  string
	)
	cmd := &cobra.Command{
		Use:   "recall QUERY",
		Short: "Recall memories matching a text cue",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(cf, space, requestTimeout)
			if err != nil {
				return err
			}
			out, err := c.Recall(cmd.Context(), client.RecallRequest{Query: args[0], MaxResults: limit, Mode: mode})
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, out)
			}
			return writeRecall(a.stdout, args[0], spaceLabel(space), out)
		},
	}
	cf.register(cmd, true)
	f := cmd.Flags()
	f.StringVar(&space, "space", "", "memory space (default: the server's default space)")
	f.IntVar(&limit, "limit", 10, "most memories to return (1-1000)")
	f.StringVar(&mode, "mode", "", "similarity, spreading or hybrid (default hybrid)")
	return cmd
}

// recallContentWidth is how much of a memory's content a recall row shows.
const recallContentWidth = 60

// writeRecall prints the recalled memories, strongest group first.
func writeRecall(w io.Writer, query, space string, a *client.RecallResponse) error {
	var rows [][]string
	for _, g := range []struct {
		name string
		list []client.MemoryResult
	}{{"vivid", a.Memories.Vivid}, {"associated", a.Memories.Associated}, {"reconstructed", a.Memories.Reconstructed}} {
		for _, m := range g.list {
			rows = append(rows, []string{g.name, m.ID, fmt.Sprintf("%.2f", m.Confidence.Value),
				fmt.Sprintf("%.2f", m.SimilarityScore), clip(m.Content, recallContentWidth)})
		}
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "No memories recalled for %q in space '%s'\n", query, space)
		return err
	}
	if _, err := fmt.Fprintf(w, "Recalled %s for %q in space '%s' (confidence %.2f, %s)\n", plural(len(rows), "memory", "memories"),
		query, space, a.RecallConfidence.Value, a.RecallConfidence.Category); err != nil {
		return err
	}
	return writeTable(w, []column{{title: "Kind"}, {title: "ID"}, {title: "Confidence", right: true},
		{title: "Similarity", right: true}, {title: "Content"}}, rows)
}
