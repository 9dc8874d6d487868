package clustertest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// grpcClients are one connection per node, kept across the node's restarts (its address
// does not change; the connection reconnects by itself).
type grpcClients struct {
	conns map[string]*grpc.ClientConn
	api   map[string]pb.EngramServiceClient
}

func dialNodes(nodes []*Node) (*grpcClients, error) {
	g := &grpcClients{conns: map[string]*grpc.ClientConn{}, api: map[string]pb.EngramServiceClient{}}
	for _, n := range nodes {
		cc, err := grpc.NewClient(n.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			g.close()
			return nil, fmt.Errorf("clustertest: gRPC client of %s: %w", n.ID, err)
		}
		g.conns[n.ID], g.api[n.ID] = cc, pb.NewEngramServiceClient(cc)
	}
	return g, nil
}

func (g *grpcClients) close() {
	for _, cc := range g.conns {
		cc.Close()
	}
}

// rememberGRPC is remember over the gRPC API: the space in x-memory-space metadata and
// the key in idempotency-key metadata (docs/grpc.md), so that a retry on any node
// answers the memory the first attempt stored.
func (l *Load) rememberGRPC(ctx context.Context, n *Node, space, key string) (id, outcome string) {
	ctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-memory-space", space, "idempotency-key", key)
	resp, err := l.grpc.api[n.ID].Remember(ctx, &pb.RememberRequest{
		MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{Content: content(space, key)}}})
	if err == nil {
		if resp.GetMemoryId() == "" {
			return "", "grpc-ok-without-id"
		}
		return resp.GetMemoryId(), "grpc-ok"
	}
	return "", grpcOutcome(err)
}

// grpcOutcome names a failed call's outcome: "refused" for a code that means nothing was
// stored, otherwise the code (an unknown outcome, retried).
func grpcOutcome(err error) string {
	st, _ := status.FromError(err)
	switch st.Code() {
	case codes.InvalidArgument, codes.AlreadyExists, codes.FailedPrecondition, codes.NotFound,
		codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange, codes.Unimplemented:
		return "refused"
	}
	return "grpc-" + strings.ToLower(st.Code().String())
}

// RecallGRPC recalls an acknowledged memory by its content over gRPC at n, a node that
// may forward. Recall ranks and may leave a memory out, so a miss is counted, not
// judged; a memory of another space in the answer breaks isolation and is recorded.
func (l *Load) recallGRPC(ctx context.Context, rng *rand.Rand, a Ack) {
	n := l.randomNode(rng)
	ctx, cancel := context.WithTimeout(ctx, l.o.Timeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-memory-space", a.Space)
	resp, err := l.grpc.api[n.ID].Recall(ctx, &pb.RecallRequest{MaxResults: 50,
		Cue: &pb.Cue{CueType: &pb.Cue_Semantic{Semantic: &pb.SemanticCue{Query: content(a.Space, a.Key)}}}})
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil || !errors.Is(ctx.Err(), context.Canceled) {
			l.res.GRPCRecall.Errors[grpcOutcome(err)]++
		}
		return
	}
	l.res.GRPCRecall.Answered++
	for _, m := range resp.GetMemories() {
		if m.GetId() == a.ID {
			l.res.GRPCRecall.Found++
		}
		if space, _, ok := parseContent(m.GetContent()); ok && space != a.Space {
			l.res.GRPCRecall.Foreign = append(l.res.GRPCRecall.Foreign, a)
		}
	}
}

// GRPCRecalls are the load's recalls over gRPC.
type GRPCRecalls struct {
	Answered int            // recalls answered OK
	Found    int            // answers that held the recalled memory
	Errors   map[string]int // failed recalls by code
	Foreign  []Ack          // recalls in a space that answered a memory of another: isolation broken
}
