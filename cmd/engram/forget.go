package main

import (
	"fmt"
	"net/http"
	"net/url"

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
			c, err := a.newClient(cf)
			if err != nil {
				return err
			}
			c.space = space
			r, err := c.call(cmd.Context(), http.MethodDelete, "/api/v1/memories/"+url.PathEscape(args[0]), nil, nil, nil)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, r.body)
			}
			_, err = fmt.Fprintf(a.stdout, "Forgot %s in space '%s'\n", args[0], spaceLabel(space))
			return err
		},
	}
	cf.register(cmd, true)
	cmd.Flags().StringVar(&space, "space", "", "memory space (default: the server's default space)")
	return cmd
}
