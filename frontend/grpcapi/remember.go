package grpcapi

import (
	"context"
	"io"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Bidirectional stream bounds. The window is how many requests are read ahead of the
// engine; once it is full, reading stops and gRPC flow control holds the client back.
const (
	streamWindow  = 512
	maxGroupItems = 512 // remembers stored with one group commit
)

// rememberItem is one remember request resolved to its space, memory and options, or the
// error that rejects it.
type rememberItem struct {
	sp   *engine.Space
	mem  engine.Memory
	opts engine.RememberOptions
	err  error
}

// prepareRemember validates a request in the order that keeps side effects last: space id
// and key scope, then the memory, then creating the space, then the rate limit.
func (s *Server) prepareRemember(ctx context.Context, req *pb.RememberRequest) rememberItem {
	id, err := s.chooseSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return rememberItem{err: err}
	}
	var mem engine.Memory
	switch t := req.GetMemoryType().(type) {
	case *pb.RememberRequest_Memory:
		mem, err = s.memoryFromPB(t.Memory)
	case *pb.RememberRequest_Episode:
		mem, err = s.episodeFromPB(t.Episode)
	default:
		err = invalid("memory or episode is required")
	}
	if err != nil {
		return rememberItem{err: err}
	}
	if lt := req.GetLinkThreshold(); !(lt >= 0 && lt <= 1) {
		return rememberItem{err: invalid("link_threshold must be a number between 0 and 1")}
	}
	sp, err := frontend.SpaceForWrite(s.eng, id)
	if err != nil {
		return rememberItem{err: err}
	}
	if err := s.opts.Limits.AllowRemember(sp, 1); err != nil {
		return rememberItem{err: err}
	}
	return rememberItem{
		sp:   sp,
		mem:  mem,
		opts: engine.RememberOptions{AutoLink: req.GetAutoLink(), LinkThreshold: req.GetLinkThreshold()},
	}
}

func rememberResponse(res *engine.RememberResult) *pb.RememberResponse {
	out := &pb.RememberResponse{
		MemoryId:          res.Memory.ID,
		StorageConfidence: confidencePB(res.Memory.Confidence, "encoding confidence of the stored memory"),
		InitialState:      pb.ConsolidationState_CONSOLIDATION_STATE_RECENT,
	}
	// A memory may get several edges (similarity, temporal) to the same target; the answer
	// lists each linked memory once.
	seen := make(map[string]bool, len(res.Links))
	for _, l := range res.Links {
		if !seen[l.TargetID] {
			seen[l.TargetID] = true
			out.LinkedMemories = append(out.LinkedMemories, l.TargetID)
		}
	}
	return out
}

// replayedMetadata marks, in the answer's header metadata, a Remember whose
// idempotency-key names a memory already stored: nothing was written again.
const replayedMetadata = "idempotent-replayed"

// Remember stores a memory or an episode and answers once it is stored. With an
// idempotency-key in the metadata, its retries store it once (docs/grpc.md).
func (s *Server) Remember(ctx context.Context, req *pb.RememberRequest) (*pb.RememberResponse, error) {
	it := s.prepareRemember(ctx, req)
	if it.err != nil {
		return nil, rpcError(ctx, it.err)
	}
	res, replayed, err := s.opts.Idempotency.Remember(ctx, it.sp, it.mem, it.opts, incoming(ctx, frontend.IdempotencyMetadata))
	if err != nil {
		return nil, rpcError(ctx, err)
	}
	if replayed {
		_ = grpc.SetHeader(ctx, metadata.Pairs(replayedMetadata, "true"))
	}
	return rememberResponse(&res), nil
}

// Store stores an episode; its memory_space_id field picks the space after the metadata.
func (s *Server) Store(ctx context.Context, ep *pb.Episode) (*pb.RememberResponse, error) {
	return s.Remember(ctx, &pb.RememberRequest{
		MemorySpaceId: ep.GetMemorySpaceId(),
		MemoryType:    &pb.RememberRequest_Episode{Episode: ep},
	})
}

// storeItems stores prepared items and answers each, in order. Consecutive items of the same
// space and options go to the engine as one batch, so a stream costs one WAL group commit
// per batch rather than one per item. The remote items (whose space another node serves;
// their items[i].err is the forward) are sent to their owners meanwhile.
func (s *Server) storeItems(ctx context.Context, items []rememberItem, remote []forwardedItem) []*pb.RememberResponse {
	out := make([]*pb.RememberResponse, len(items))
	var forwarded chan struct{}
	if len(remote) > 0 {
		forwarded = make(chan struct{})
		go func() {
			defer close(forwarded)
			s.forwardRemembers(ctx, remote, out)
		}()
	}
	var run []int // indexes of the current run of storable items
	flush := func() {
		if len(run) == 0 {
			return
		}
		first := items[run[0]]
		mems := make([]engine.Memory, len(run))
		for k, i := range run {
			mems[k] = items[i].mem
		}
		res, errs := first.sp.RememberBatch(ctx, mems, first.opts)
		for k, i := range run {
			if errs[k] != nil {
				out[i] = &pb.RememberResponse{Error: itemError(errs[k])}
			} else {
				out[i] = rememberResponse(&res[k])
			}
		}
		run = run[:0]
	}
	for i := range items {
		it := &items[i]
		if _, elsewhere := frontend.AsForward(it.err); elsewhere {
			continue // answered by forwardRemembers
		}
		if it.err != nil {
			out[i] = &pb.RememberResponse{Error: itemError(it.err)}
			continue
		}
		if len(run) > 0 {
			prev := &items[run[0]]
			if prev.sp != it.sp || prev.opts != it.opts {
				flush()
			}
		}
		run = append(run, i)
	}
	flush()
	if forwarded != nil {
		<-forwarded
	}
	return out
}

// StreamingRemember answers every request with one response, in request order. Requests
// are read ahead through a bounded window and whatever has arrived is stored as one batch.
func (s *Server) StreamingRemember(stream grpc.BidiStreamingServer[pb.RememberRequest, pb.RememberResponse]) error {
	ctx := stream.Context()
	if incoming(ctx, frontend.IdempotencyMetadata) != "" {
		// One key stands for one write; a stream's items would need one each.
		return rpcError(ctx, invalid("%s metadata applies to the unary Remember and Store calls, not to a stream", frontend.IdempotencyMetadata))
	}
	reqs, recvErr := readAhead(ctx, stream.Recv)
	batch := make([]*pb.RememberRequest, 0, maxGroupItems)
	items := make([]rememberItem, 0, maxGroupItems)
	var remote []forwardedItem // items of the batch whose space another node serves
	for {
		var ok bool
		batch, ok = s.nextBatch(reqs, batch[:0])
		if len(batch) == 0 {
			if !ok {
				return endOfStream(recvErr)
			}
			return errShuttingDown
		}
		items, remote = items[:0], remote[:0]
		for i, r := range batch {
			it := s.prepareRemember(ctx, r)
			if fw, ok := frontend.AsForward(it.err); ok {
				remote = append(remote, forwardedItem{at: i, fw: fw, req: r})
			}
			items = append(items, it)
		}
		for _, resp := range s.storeItems(ctx, items, remote) {
			if err := stream.Send(resp); err != nil {
				return err
			}
		}
		if !ok {
			return endOfStream(recvErr)
		}
	}
}

// errShuttingDown ends a bidirectional stream on Stop. Requests that got no response were
// not processed.
var errShuttingDown = status.Error(codes.Unavailable, "the server is shutting down; requests without a response were not processed")

// readAhead receives a stream's requests on its own goroutine into a bounded channel,
// closed at the end of the client's stream. The receive error, if any (io.EOF excluded),
// is in the second channel before the first is closed.
func readAhead[T any](ctx context.Context, recv func() (*T, error)) (<-chan *T, <-chan error) {
	reqs := make(chan *T, streamWindow)
	errc := make(chan error, 1)
	go func() {
		defer close(reqs)
		for {
			r, err := recv()
			if err != nil {
				if err != io.EOF {
					errc <- err
				}
				return
			}
			select {
			case reqs <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	return reqs, errc
}

// nextBatch waits for one request, then takes whatever else has already arrived, up to
// maxGroupItems. ok is false once the client's stream ended (batch may still hold the last
// requests). An empty batch with ok true means the server is stopping.
func (s *Server) nextBatch(reqs <-chan *pb.RememberRequest, batch []*pb.RememberRequest) ([]*pb.RememberRequest, bool) {
	select {
	case <-s.done: // checked first: requests keep arriving while the server stops
		return batch, true
	default:
	}
	select {
	case r, open := <-reqs:
		if !open {
			return batch, false
		}
		batch = append(batch, r)
	case <-s.done:
		return batch, true
	}
	for len(batch) < maxGroupItems {
		select {
		case r, open := <-reqs:
			if !open {
				return batch, false
			}
			batch = append(batch, r)
		default:
			return batch, true
		}
	}
	return batch, true
}

// endOfStream is the status of a bidirectional stream whose client side ended.
func endOfStream(recvErr <-chan error) error {
	select {
	case err := <-recvErr:
		return err
	default:
		return nil
	}
}
