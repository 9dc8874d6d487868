package grpcapi

import (
	"context"
	"sync"
	"time"

	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// Full names of the unary calls sent to owners: the items of the bidirectional streams,
// and the listing of the spaces an owner serves.
const (
	methodRemember   = "/engram.v1.EngramService/Remember"
	methodRecall     = "/engram.v1.EngramService/Recall"
	methodListSpaces = "/engram.v1.EngramService/ListSpaces"
)

// forwardedItem is one item of a bidirectional stream whose space another node serves:
// its place in the batch, the owner, and the request to send there.
type forwardedItem struct {
	at  int
	fw  *frontend.Forward
	req *pb.RememberRequest
}

// forwardRemembers sends each item to its owner as a unary Remember, with the stream's
// metadata plus the hop marker, and puts the owner's answer (or its error, as an item
// error) at the item's place in out. Items for one owner go one after another, in stream
// order, so that a space stores them in the order they were sent; different owners are
// served at the same time. It returns once every item is answered.
func (s *Server) forwardRemembers(ctx context.Context, items []forwardedItem, out []*pb.RememberResponse) {
	byOwner := map[string][]forwardedItem{}
	for _, it := range items {
		byOwner[it.fw.Owner.GRPC] = append(byOwner[it.fw.Owner.GRPC], it)
	}
	var wg sync.WaitGroup
	for _, run := range byOwner {
		wg.Go(func() {
			for _, it := range run {
				resp := &pb.RememberResponse{}
				if err := s.invokeOwner(ctx, it.fw, methodRemember, it.req, resp); err != nil {
					resp = &pb.RememberResponse{Error: statusItemError(err)}
				}
				out[it.at] = resp
			}
		})
	}
	wg.Wait()
}

// recallItem answers one item of StreamingRecall: here, or at the owner of its space as a
// unary Recall.
func (s *Server) recallItem(ctx context.Context, req *pb.RecallRequest) *pb.RecallResponse {
	out, err := s.recall(ctx, req)
	if fw, ok := frontend.AsForward(err); ok {
		out = &pb.RecallResponse{}
		err = s.invokeOwner(ctx, fw, methodRecall, req, out)
		if err != nil {
			return &pb.RecallResponse{Error: statusItemError(err)}
		}
		return out
	}
	if err != nil {
		return &pb.RecallResponse{Error: itemError(err)}
	}
	return out
}

// statusItemError is the in-stream report of an item the owner refused: its status as
// the owner answered the unary call, with the public code and retry delay it carried.
func statusItemError(err error) *pb.ItemError {
	st, _ := status.FromError(err)
	out := &pb.ItemError{Code: int32(st.Code()), Message: st.Message()}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			out.ErrorCode = d.GetReason()
		case *errdetails.RetryInfo:
			out.RetryAfterSeconds = int32(d.GetRetryDelay().AsDuration().Round(time.Second) / time.Second)
		}
	}
	return out
}
