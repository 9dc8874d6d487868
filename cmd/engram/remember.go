package main

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
)

// confidenceInfo is the shared ConfidenceInfo shape.
type confidenceInfo struct {
	Value    float64 `json:"value"`
	Category string  `json:"category"`
}

// spaceLabel names the space a command addressed, for messages.
func spaceLabel(space string) string {
	if space == "" {
		return "default"
	}
	return space
}

func (a *app) rememberCommand() *cobra.Command {
	var (
		cf         clientFlags
		space      string
		confidence float64
		tags       []string
		memType    string
		id         string
	)
	cmd := &cobra.Command{
		Use:   "remember TEXT",
		Short: "Store a memory",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(cf)
			if err != nil {
				return err
			}
			c.space = space
			body := map[string]any{"content": args[0]}
			if cmd.Flags().Changed("confidence") {
				body["confidence"] = confidence
			}
			if len(tags) > 0 {
				body["tags"] = tags
			}
			if memType != "" {
				body["memory_type"] = memType
			}
			if id != "" {
				body["id"] = id
			}
			var out struct {
				MemoryID          string         `json:"memory_id"`
				StorageConfidence confidenceInfo `json:"storage_confidence"`
			}
			r, err := c.call(cmd.Context(), http.MethodPost, "/api/v1/memories/remember", nil, body, &out)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, r.body)
			}
			_, err = fmt.Fprintf(a.stdout, "Remembered %s in space '%s' (confidence %.2f, %s)\n",
				out.MemoryID, spaceLabel(space), out.StorageConfidence.Value, out.StorageConfidence.Category)
			return err
		},
	}
	cf.register(cmd, true)
	f := cmd.Flags()
	f.StringVar(&space, "space", "", "memory space (default: the server's default space)")
	f.Float64Var(&confidence, "confidence", 0.7, "confidence in the memory, 0 to 1")
	f.StringSliceVar(&tags, "tags", nil, "comma-separated tags")
	f.StringVar(&memType, "type", "", "episodic, semantic or procedural (default episodic)")
	f.StringVar(&id, "id", "", "memory id to use (an existing id is replaced)")
	return cmd
}
