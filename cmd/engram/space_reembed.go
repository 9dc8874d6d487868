package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/engram-go/engram/engine"
)

func (a *app) spaceReembedCommand() *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "reembed ID",
		Short: "Re-embed every memory of a space with the configured embedding model (server stopped; resumable)",
		Long: "Give every memory of the space a vector from the model the configuration names for it\n" +
			"([embedding] or [spaces.<id>.embedding]), then record that model, so that a space whose\n" +
			"model changed takes remembers and recalls again. It opens the data root itself, so the\n" +
			"server must be stopped. Each step is durable: if it is interrupted (provider down,\n" +
			"Ctrl-C), running it again continues where it stopped. See docs/embeddings.md.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := engine.NormalizeSpaceID(args[0])
			if err != nil {
				return err
			}
			st, err := a.openOfflineStore()
			if err != nil {
				return err
			}
			defer st.close()
			sp, err := st.space(id)
			if err != nil {
				return err
			}
			bar := a.newProgress(quiet, false, int64(sp.Stats().Memories), "re-embedding "+id, "memories")
			shown := 0
			err = sp.Reembed(cmd.Context(), func(done, _ int) {
				bar.add(done - shown)
				shown = done
			})
			bar.done()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Re-embedded memory space '%s' with %s (%d memories)\n", id, sp.Model(), shown)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}
