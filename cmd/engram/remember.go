package main

import (
	"fmt"

	"github.com/engram-go/engram/client"

	"github.com/spf13/cobra"
)

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
		key        string
	)
	cmd := &cobra.Command{
		Use:   "remember TEXT",
		Short: "Store a memory",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(cf, space, requestTimeout)
			if err != nil {
				return err
			}
			r := client.RememberRequest{Content: args[0], Tags: tags, MemoryType: memType, ID: id, IdempotencyKey: key}
			if cmd.Flags().Changed("confidence") {
				v := float32(confidence)
				r.Confidence = &v
			}
			out, err := c.Remember(cmd.Context(), r)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, out)
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
	f.StringVar(&key, "idempotency-key", "", "send as Idempotency-Key: run again with the same key, the memory is stored once")
	return cmd
}
