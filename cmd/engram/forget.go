package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) forgetCommand() *cobra.Command {
	var (
		cf    clientFlags
		space string
	)
	cmd := &cobra.Command{
		Use:   "forget ID",
		Short: "Delete a memory (durable: it stays gone after a restart)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(cf, space, requestTimeout)
			if err != nil {
				return err
			}
			out, err := c.Forget(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, out)
			}
			_, err = fmt.Fprintf(a.stdout, "Forgot %s in space '%s'\n", args[0], spaceLabel(space))
			return err
		},
	}
	cf.register(cmd, true)
	cmd.Flags().StringVar(&space, "space", "", "memory space (default: the server's default space)")
	return cmd
}
