package grpcapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// warningEvent is the event type telling a resuming client that events were missed.
const warningEvent = "warning"

// spacePollInterval is how often a stream of a space that does not exist yet looks for it.
const spacePollInterval = 100 * time.Millisecond

// Stream sends the events of one memory space. The response headers (x-memory-space,
// x-last-event-id) are sent once the subscription is in place, so a client that waited for
// them sees every later event; for a space that does not exist yet, that is once a write
// created it. It ends when the client goes away, when the server stops,
// or with RESOURCE_EXHAUSTED when the client does not keep up.
func (s *Server) Stream(req *pb.StreamRequest, stream grpc.ServerStreamingServer[pb.StreamResponse]) error {
	ctx := stream.Context()
	if err := s.stream(ctx, req, stream); err != nil {
		return rpcError(ctx, err)
	}
	return nil
}

func (s *Server) stream(ctx context.Context, req *pb.StreamRequest, stream grpc.ServerStreamingServer[pb.StreamResponse]) error {
	sp, id, err := s.readSpace(ctx, req.GetMemorySpaceId())
	if err != nil {
		return err
	}
	f, err := frontend.NewEventFilter(frontend.AllEvents(), req.GetEventTypes(), float64(req.GetMinImportance()))
	if err != nil {
		return err
	}
	if sp == nil {
		// Reads never create a space: wait for a write to create it.
		if sp, err = s.awaitSpace(ctx, id); err != nil {
			return err
		}
	}
	var sub *engine.Subscription
	if req.LastEventId != nil {
		sub = sp.Resume(req.GetLastEventId()) // from 0: the whole buffer
	} else {
		sub = sp.Subscribe(0)
	}
	defer sub.Close()
	if err := stream.SendHeader(metadata.Pairs(spaceMetadata, id, "x-last-event-id", strconv.FormatUint(sp.LastEventID(), 10))); err != nil {
		return err
	}
	if sub.Missed > 0 {
		if err := stream.Send(&pb.StreamResponse{
			EventType:     warningEvent,
			MemorySpaceId: id,
			Timestamp:     timestamppb.Now(),
			PayloadJson:   fmt.Sprintf(`{"memory_space_id":%q,"missed":%d,"message":"events after last_event_id were no longer buffered"}`, id, sub.Missed),
		}); err != nil {
			return err
		}
	}
	lastSeen := req.GetLastEventId()
	for {
		select {
		case ev, open := <-sub.C:
			if !open {
				return subscriptionEnded(s.eng, sub, id, lastSeen)
			}
			lastSeen = ev.ID
			if ev.Space != id || !f.Want(&ev) {
				continue
			}
			out, err := eventToPB(&ev)
			if err != nil {
				return err
			}
			if err := stream.Send(out); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return status.Error(codes.Unavailable, "the server is shutting down")
		}
	}
}

// awaitSpace polls until the space exists, the client leaves or the server stops.
func (s *Server) awaitSpace(ctx context.Context, id string) (*engine.Space, error) {
	t := time.NewTicker(spacePollInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			sp, err := s.eng.Space(id)
			if err == nil {
				return sp, nil
			}
			if !errors.Is(err, engine.ErrSpaceNotFound) {
				return nil, err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.done:
			return nil, status.Error(codes.Unavailable, "the server is shutting down")
		}
	}
}

// subscriptionEnded explains why the engine closed a subscription.
func subscriptionEnded(e *engine.Engine, sub *engine.Subscription, id string, lastSeen uint64) error {
	if sub.Lagged() {
		return status.Errorf(codes.ResourceExhausted,
			"the stream fell behind the events of memory space %q; reconnect with last_event_id=%d", id, lastSeen)
	}
	if _, err := e.Space(id); err != nil {
		return err
	}
	return status.Errorf(codes.Unavailable, "memory space %q closed", id)
}

// eventToPB converts an event; its payload carries memory_space_id and memory_id, as on SSE.
func eventToPB(ev *engine.Event) (*pb.StreamResponse, error) {
	payload := make(map[string]any, len(ev.Data)+5)
	ev.CopyFields(payload)
	payload["memory_space_id"] = ev.Space
	if ev.MemoryID != "" {
		payload["memory_id"] = ev.MemoryID
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("grpcapi: encode event %d: %w", ev.ID, err)
	}
	return &pb.StreamResponse{
		EventId:       ev.ID,
		EventType:     string(ev.Type),
		MemoryId:      ev.MemoryID,
		MemorySpaceId: ev.Space,
		Timestamp:     timestampPB(ev.Time),
		PayloadJson:   string(b),
		Importance:    ev.Importance,
	}, nil
}
