package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/engram-go/engram/client"
)

// clusterCommand groups the commands about the cluster the server runs in.
func (a *app) clusterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Inspect and drain the nodes of a cluster (docs/cluster.md)",
	}
	var cf clientFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's nodes and partitions as the server sees them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.newClient(cf, "", requestTimeout)
			if err != nil {
				return err
			}
			st, err := clusterStatus(cmd.Context(), c)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(a.stdout, st)
			}
			return writeClusterStatus(a.stdout, st)
		},
	}
	cf.register(status, true)
	var df clientFlags
	drain := &cobra.Command{
		Use:   "drain NODE",
		Short: "Move every partition off NODE and place none there (before stopping it for good)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.newClient(df, "", requestTimeout)
			if err != nil {
				return err
			}
			if err := c.DrainNode(cmd.Context(), args[0]); err != nil {
				if errors.Is(err, client.ErrNotFound) {
					return &exitError{code: 1, msg: fmt.Sprintf("%s; is the server at %s part of a cluster, and is %q one of its nodes? See `engram cluster status`",
						cliMessage(err), c.Addr(), args[0])}
				}
				return err
			}
			fmt.Fprintf(a.stdout, "Node %s is draining: it takes no partitions and hands over those it owns.\n"+
				"Watch `engram cluster status` until it owns none, then stop it.\n", args[0])
			return nil
		},
	}
	df.register(drain, false)
	cmd.AddCommand(status, drain)
	return cmd
}

// clusterStatus asks the server for its view of the cluster; a single node's 404 becomes
// a message saying so.
func clusterStatus(ctx context.Context, c *client.Client) (*client.ClusterStatus, error) {
	st, err := c.ClusterStatus(ctx)
	if errors.Is(err, client.ErrNotFound) {
		return nil, fmt.Errorf("the server at %s is not part of a cluster ([cluster] enabled = false; docs/cluster.md)", c.Addr())
	}
	return st, err
}

// writeClusterStatus prints the nodes and partitions tables.
func writeClusterStatus(w io.Writer, st *client.ClusterStatus) error {
	fmt.Fprintf(w, "Cluster, as node %s sees it: %s, %s (replicas %d); leases since start: %d acquired, %d lost, %d released\n",
		st.NodeID, plural(len(st.Nodes), "node", "nodes"), plural(st.Partitions, "partition", "partitions"),
		st.Replicas, st.Leases.Acquired, st.Leases.Lost, st.Leases.Released)
	nodes := make([][]string, 0, len(st.Nodes))
	for _, n := range st.Nodes {
		state := "alive"
		switch {
		case !n.Alive:
			state = "gone"
		case n.Draining:
			state = "draining"
		}
		owned := make([]string, len(n.Partitions))
		for i, p := range n.Partitions {
			owned[i] = strconv.Itoa(p)
		}
		nodes = append(nodes, []string{n.NodeID, state, n.HTTP, n.GRPC, strings.Join(owned, ",")})
	}
	if err := writeTable(w, []column{{title: "Node"}, {title: "State"}, {title: "HTTP"}, {title: "gRPC"}, {title: "Partitions"}}, nodes); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	parts := make([][]string, 0, len(st.Owned))
	for _, p := range st.Owned {
		owner := p.Owner
		if owner == "" {
			owner = "(none)"
		}
		here := ""
		if p.Local {
			here = "yes"
		}
		parts = append(parts, []string{strconv.Itoa(p.Partition), owner, here,
			strconv.FormatUint(p.LastSeq, 10), strconv.FormatUint(p.Applied, 10), strconv.FormatUint(p.Lag, 10), clip(p.Error, 60)})
	}
	return writeTable(w, []column{{title: "Partition", right: true}, {title: "Owner"}, {title: "Served here"},
		{title: "Last seq", right: true}, {title: "Applied", right: true}, {title: "Lag", right: true}, {title: "Problem"}}, parts)
}
