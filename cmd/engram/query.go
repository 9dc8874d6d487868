package main

import (
	"fmt"
	"io"
	"net/http"

	"github.com/spf13/cobra"
)

// queryAnswer is the answer of POST /api/v1/query, as far as the command line shows it.
type queryAnswer struct {
	Verb                string         `json:"verb"`
	Memories            []memoryResult `json:"memories"`
	Confidences         []float64      `json:"confidences"`
	AggregateConfidence struct {
		LowerBound float64 `json:"lower_bound"`
		Mean       float64 `json:"mean"`
		UpperBound float64 `json:"upper_bound"`
	} `json:"aggregate_confidence"`
	MemorySpaceID string `json:"memory_space_id"`
}

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
			c, err := a.newClient(cf)
			if err != nil {
				return err
			}
			c.space = space
			var out queryAnswer
			r, err := c.call(cmd.Context(), http.MethodPost, "/api/v1/query", nil, map[string]string{"query": args[0]}, &out)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, r.body)
			}
			return writeQuery(a.stdout, out)
		},
	}
	cf.register(cmd, true)
	cmd.Flags().StringVar(&space, "space", "", "memory space (default: the server's default space)")
	return cmd
}

// writeQuery prints the memories a query returned, best first, with their scores.
func writeQuery(w io.Writer, a queryAnswer) error {
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
