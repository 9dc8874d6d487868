package main

import (
	"fmt"
	"io"

	"github.com/engram-go/engram/client"
	"github.com/spf13/cobra"
)

func (a *app) queryCommand() *cobra.Command {
	var (
		cf    clientFlags
		space string
	)
	cmd := &cobra.Command{
		Use:   "query STATEMENT",
		Short: "Run a statement of the query language (RECALL, SPREAD, …)",
		Long: "Run one statement of the query language (docs/query-language.md), e.g.\n" +
			"  engram query 'RECALL \"coffee\" THRESHOLD 0.4 LIMIT 5'\n" +
			"  engram query 'SPREAD FROM mem_1 MAX_HOPS 2'",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(cf, space, requestTimeout)
			if err != nil {
				return err
			}
			out, err := c.Query(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, out)
			}
			return writeQuery(a.stdout, out)
		},
	}
	cf.register(cmd, true)
	cmd.Flags().StringVar(&space, "space", "", "memory space (default: the server's default space)")
	return cmd
}

// writeQuery prints the memories a query returned, best first, with their scores.
func writeQuery(w io.Writer, a *client.QueryResponse) error {
	if len(a.Memories) == 0 {
		_, err := fmt.Fprintf(w, "%s returned no memories in space '%s'\n", a.Verb, a.MemorySpaceID)
		return err
	}
	if _, err := fmt.Fprintf(w, "%s returned %s in space '%s' (confidence %.2f, 95%% interval %.2f-%.2f)\n", a.Verb,
		plural(len(a.Memories), "memory", "memories"), a.MemorySpaceID, a.AggregateConfidence.Mean,
		a.AggregateConfidence.LowerBound, a.AggregateConfidence.UpperBound); err != nil {
		return err
	}
	rows := make([][]string, len(a.Memories))
	for i, m := range a.Memories {
		score := 0.0
		if i < len(a.Confidences) {
			score = a.Confidences[i]
		}
		rows[i] = []string{m.ID, fmt.Sprintf("%.2f", score), m.RetrievalPath, clip(m.Content, recallContentWidth)}
	}
	return writeTable(w, []column{{title: "ID"}, {title: "Score", right: true}, {title: "Path"}, {title: "Content"}}, rows)
}
