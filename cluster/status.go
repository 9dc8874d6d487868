package cluster

import (
	"context"

	"github.com/engram-go/engram/cluster/membership"
	"github.com/engram-go/engram/cluster/partlog"
)

// Status is the cluster as this node sees it.
type Status struct {
	NodeID     string
	Nodes      []membership.NodeStatus
	Partitions []PartitionStatus
	Leases     membership.Counters // this node's lease changes since Start
}

// PartitionStatus is one partition as this node sees it.
type PartitionStatus struct {
	Partition int
	Owner     string // node holding the lease; empty when none
	Leading   bool   // this node writes the partition
	// LastSeq is the stream's last sequence; Applied the last one in this node's local logs
	// (for a partition it leads, the last it published); Lag the difference (for a
	// partition it leads, at most the one message in flight). LastSeq is 0 and Error set
	// when the stream could not be read.
	LastSeq, Applied, Lag uint64
	// Messages and Records are what this node published since it took the partition.
	Messages, Records uint64
	Error             string // the last failure to read, catch up or lead the partition
}

// Status reports the nodes, the partitions' owners and how far this node's copy of each
// partition is behind its stream.
func (n *Node) Status(ctx context.Context) Status {
	st := Status{NodeID: n.cfg.NodeID, Nodes: n.member.Nodes(), Leases: n.member.Counters()}
	leases := n.member.Partitions()
	for _, part := range n.parts {
		ps := PartitionStatus{Partition: part.id, Owner: leases[part.id].Owner}
		// The stream first: what this node publishes meanwhile raises Applied with it, so
		// the lag never counts this node's own writes in flight.
		last, lastErr := partlog.LastSequence(ctx, n.js, part.id)
		part.pubMu.RLock()
		pub, applied, partErr := part.pub, part.applied, part.lastErr
		part.pubMu.RUnlock()
		if pub != nil && pub.Err() == nil {
			ps.Leading = true
			applied = pub.LastSeq()
			ps.Messages, ps.Records = pub.Stats()
		} else if stored, err := partlog.ReadApplied(n.dataRoot, part.id); err == nil && stored > applied {
			applied = stored
		}
		ps.Applied = applied
		switch {
		case lastErr != nil:
			ps.Error = lastErr.Error()
		case partErr != nil:
			ps.Error = partErr.Error()
		}
		if lastErr == nil {
			ps.LastSeq = last
			if last > applied {
				ps.Lag = last - applied
			}
		}
		st.Partitions = append(st.Partitions, ps)
	}
	return st
}
