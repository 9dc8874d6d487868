package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

// memoryResult is the shared MemoryResult shape, as far as the command line shows it.
type memoryResult struct {
	ID              string         `json:"id"`
	Content         string         `json:"content"`
	Confidence      confidenceInfo `json:"confidence"`
	ActivationLevel float64        `json:"activation_level"`
	SimilarityScore float64        `json:"similarity_score"`
	RetrievalPath   string         `json:"retrieval_path"`
}

// recallAnswer is the answer of GET /api/v1/memories/recall.
type recallAnswer struct {
	Memories struct {
		Vivid         []memoryResult `json:"vivid"`
		Associated    []memoryResult `json:"associated"`
		Reconstructed []memoryResult `json:"reconstructed"`
	} `json:"memories"`
	RecallConfidence confidenceInfo `json:"recall_confidence"`
}

func (a *app) recallCommand() *cobra.Command {
	var (
		cf        clientFlags
		space     string
		limit     int
		mode      string
		threshold float64
		trace     bool
	)
	cmd := &cobra.Command{
		Use:   "recall QUERY",
		Short: "Recall memories matching a text cue",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(cf)
			if err != nil {
				return err
			}
			c.space = space
			q := url.Values{"query": {args[0]}, "max_results": {strconv.Itoa(limit)}}
			if mode != "" {
				q.Set("mode", mode)
			}
			if cmd.Flags().Changed("threshold") {
				q.Set("threshold", strconv.FormatFloat(threshold, 'f', -1, 64))
			}
			if trace {
				q.Set("trace_activation", "true")
			}
			var out recallAnswer
			r, err := c.call(cmd.Context(), http.MethodGet, "/api/v1/memories/recall", q, nil, &out)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, r.body)
			}
			return writeRecall(a.stdout, args[0], spaceLabel(space), out, trace)
		},
	}
	cf.register(cmd, true)
	f := cmd.Flags()
	f.StringVar(&space, "space", "", "memory space (default: the server's default space)")
	f.IntVar(&limit, "limit", 10, "most memories to return (1-1000)")
	f.StringVar(&mode, "mode", "", "similarity, spreading or hybrid (default hybrid)")
	f.Float64Var(&threshold, "threshold", 0.3, "minimum score of a recalled memory (0-1)")
	f.BoolVar(&trace, "trace", false, "show each memory's activation and retrieval path (direct, or the spreading path)")
	return cmd
}

// recallContentWidth is how much of a memory's content a recall row shows; with --trace
// the path column takes part of the room.
const (
	recallContentWidth      = 60
	recallTraceContentWidth = 36
)

// writeRecall prints the recalled memories, strongest group first; with trace, each row
// also shows the activation that scored it and its retrieval path.
func writeRecall(w io.Writer, query, space string, a recallAnswer, trace bool) error {
	var rows [][]string
	for _, g := range []struct {
		name string
		list []memoryResult
	}{{"vivid", a.Memories.Vivid}, {"associated", a.Memories.Associated}, {"reconstructed", a.Memories.Reconstructed}} {
		for _, m := range g.list {
			row := []string{g.name, m.ID, fmt.Sprintf("%.2f", m.Confidence.Value), fmt.Sprintf("%.2f", m.SimilarityScore)}
			if trace {
				row = append(row, fmt.Sprintf("%.2f", m.ActivationLevel), m.RetrievalPath, clip(m.Content, recallTraceContentWidth))
			} else {
				row = append(row, clip(m.Content, recallContentWidth))
			}
			rows = append(rows, row)
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
	cols := []column{{title: "Kind"}, {title: "ID"}, {title: "Confidence", right: true}, {title: "Similarity", right: true}}
	if trace {
		cols = append(cols, column{title: "Activation", right: true}, column{title: "Retrieval path"})
	}
	return writeTable(w, append(cols, column{title: "Content"}), rows)
}
