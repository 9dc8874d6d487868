package main

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestE2EEveryRPCAnswers calls every RPC of engram.v1.EngramService, as the published
// proto declares it, with a small valid request: none answers UNIMPLEMENTED. The list is
// checked against the service descriptor, so a new RPC without a call here fails.
func TestE2EEveryRPCAnswers(t *testing.T) {
	r := startE2E(t)
	client, ctx := r.grpc()
	ep := &pb.Episode{Id: "rpc-1", What: "a walk by the river", When: timestamppb.Now(), WhereLocation: "River"}
	drain := func(recv func() error) error {
		for {
			if err := recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	}
	calls := map[string]func(context.Context) error{
		"Remember": func(ctx context.Context) error {
			_, err := client.Remember(ctx, &pb.RememberRequest{MemoryType: &pb.RememberRequest_Episode{Episode: ep}})
			return err
		},
		"Store": func(ctx context.Context) error {
			_, err := client.Store(ctx, &pb.Episode{Id: "rpc-2", What: "a second walk by the river"})
			return err
		},
		"Recall": func(ctx context.Context) error {
			_, err := client.Recall(ctx, &pb.RecallRequest{Cue: &pb.Cue{CueType: &pb.Cue_Semantic{Semantic: &pb.SemanticCue{Query: "river"}}}})
			return err
		},
		"Forget": func(ctx context.Context) error {
			_, err := client.Forget(ctx, &pb.ForgetRequest{Target: &pb.ForgetRequest_MemoryId{MemoryId: "rpc-2"}})
			return err
		},
		"StreamingRemember": func(ctx context.Context) error {
			st, err := client.StreamingRemember(ctx)
			if err != nil {
				return err
			}
			if err := st.Send(&pb.RememberRequest{MemoryType: &pb.RememberRequest_Memory{Memory: &pb.Memory{Content: "streamed"}}}); err != nil {
				return err
			}
			st.CloseSend()
			return drain(func() error { _, err := st.Recv(); return err })
		},
		"StreamingRecall": func(ctx context.Context) error {
			st, err := client.StreamingRecall(ctx)
			if err != nil {
				return err
			}
			if err := st.Send(&pb.RecallRequest{Cue: &pb.Cue{CueType: &pb.Cue_Semantic{Semantic: &pb.SemanticCue{Query: "river"}}}}); err != nil {
				return err
			}
			st.CloseSend()
			return drain(func() error { _, err := st.Recv(); return err })
		},
		"Stream": func(ctx context.Context) error {
			// A live stream never ends by itself: the first event (replayed) is the answer.
			st, err := client.Stream(ctx, &pb.StreamRequest{LastEventId: new(uint64)})
			if err != nil {
				return err
			}
			_, err = st.Recv()
			return err
		},
		"ListSpaces": func(ctx context.Context) error { _, err := client.ListSpaces(ctx, &pb.ListSpacesRequest{}); return err },
		"CreateSpace": func(ctx context.Context) error {
			_, err := client.CreateSpace(ctx, &pb.CreateSpaceRequest{Id: "rpc-space"})
			return err
		},
		"Health": func(ctx context.Context) error { _, err := client.Health(ctx, &pb.HealthRequest{}); return err },
		"ExecuteQuery": func(ctx context.Context) error {
			_, err := client.ExecuteQuery(ctx, &pb.QueryRequest{QueryText: `RECALL "river"`})
			return err
		},
		"Recognize": func(ctx context.Context) error {
			_, err := client.Recognize(ctx, &pb.RecognizeRequest{Input: &pb.RecognizeRequest_Content{Content: "a walk by the river"}})
			return err
		},
		"Experience": func(ctx context.Context) error {
			_, err := client.Experience(ctx, &pb.ExperienceRequest{Episode: &pb.Episode{What: "rain at the river"}, ContextLinks: []string{"rpc-1"}})
			return err
		},
		"Reminisce": func(ctx context.Context) error {
			_, err := client.Reminisce(ctx, &pb.ReminisceRequest{Cue: &pb.ReminisceRequest_AtLocation{AtLocation: "river"}})
			return err
		},
		"Consolidate": func(ctx context.Context) error {
			_, err := client.Consolidate(ctx, &pb.ConsolidateRequest{})
			return err
		},
		"Dream": func(ctx context.Context) error {
			st, err := client.Dream(ctx, &pb.DreamRequest{ReplayCycles: 1})
			if err != nil {
				return err
			}
			return drain(func() error { _, err := st.Recv(); return err })
		},
		"Complete": func(ctx context.Context) error {
			_, err := client.Complete(ctx, &pb.CompleteRequest{PartialPattern: &pb.PatternCue{Fragments: []*pb.PartialMemory{{
				KnownFields: map[string]string{"what": "a walk by the river"}, MissingFields: []string{"where_location"}}}}})
			return err
		},
		"Associate": func(ctx context.Context) error {
			_, err := client.Associate(ctx, &pb.AssociateRequest{SourceMemory: "rpc-1", TargetMemory: "streamed-target"})
			if status.Code(err) == codes.NotFound {
				return nil // answered: the target does not exist
			}
			return err
		},
		"Introspect": func(ctx context.Context) error {
			_, err := client.Introspect(ctx, &pb.IntrospectRequest{IncludeHealth: true, IncludeStatistics: true})
			return err
		},
	}
	methods := pb.File_frontend_grpcapi_proto_engram_v1_engram_proto.Services().ByName("EngramService").Methods()
	order := []string{"Remember", "Store", "Recall", "Forget", "StreamingRemember", "StreamingRecall", "Stream", "ListSpaces",
		"CreateSpace", "Health", "ExecuteQuery", "Recognize", "Experience", "Reminisce", "Consolidate", "Dream", "Complete",
		"Associate", "Introspect"}
	if methods.Len() != len(order) || len(calls) != len(order) {
		t.Fatalf("the service has %d RPCs, the test calls %d (%d listed)", methods.Len(), len(calls), len(order))
	}
	for _, name := range order {
		if methods.ByName(protoreflect.Name(name)) == nil {
			t.Fatalf("%s is not an RPC of the service", name)
		}
		if err := calls[name](ctx); err != nil {
			t.Fatalf("%s: %v (code %v)", name, err, status.Code(err))
		}
	}
}
