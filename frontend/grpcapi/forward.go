package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// incoming is the first value of a metadata key of the call ("" when absent).
func incoming(ctx context.Context, key string) string {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ""
	}
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// route asks the cluster where space id is served: nil here, a *frontend.Forward that
// the unary interceptor carries out, or an error answered UNAVAILABLE. A single node has
// no Router: one comparison.
func (s *Server) route(ctx context.Context, id string) error {
	if s.opts.Router == nil {
		return nil
	}
	return frontend.RouteSpace(s.opts.Router, id, incoming(ctx, frontend.ForwardedByMetadata), "grpc")
}

// forwardError is the status a handler returns for a space served elsewhere: to the
// client, when the call cannot be sent on, UNAVAILABLE NOT_OWNER naming the owner; to
// the interceptors, through Unwrap, the forward to carry out.
type forwardError struct {
	st *status.Status
	fw *frontend.Forward
}

func (e *forwardError) Error() string              { return e.st.Err().Error() }
func (e *forwardError) GRPCStatus() *status.Status { return e.st }
func (e *forwardError) Unwrap() error              { return e.fw }

// owners holds one client connection per owner address, reused by every forwarded call.
type owners struct {
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
	max   int // message size bound, as the server's own
}

func (o *owners) conn(addr string) (*grpc.ClientConn, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c, ok := o.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxForwardAnswer), grpc.MaxCallSendMsgSize(o.max)))
	if err != nil {
		return nil, err
	}
	o.conns[addr] = c
	return c, nil
}

func (o *owners) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for addr, c := range o.conns {
		c.Close()
		delete(o.conns, addr)
	}
}

// maxForwardAnswer bounds an owner's answer to a forwarded call (a recall of many
// memories with their embeddings is the largest).
const maxForwardAnswer = 256 << 20

// unaryForward runs the handler and, when it names another node as the space's owner,
// sends the same call there once with the caller's metadata plus the hop marker, and
// returns the owner's answer, headers and trailers as its own.
func (s *Server) unaryForward(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	var fw *frontend.Forward
	if err == nil || !errors.As(err, &fw) {
		return resp, err
	}
	reply, rerr := replyOf(info.FullMethod)
	msg, ok := req.(proto.Message)
	if rerr != nil || !ok {
		s.opts.Forwards.GRPC.Failed.Add(1)
		return nil, err // the NOT_OWNER status: this call cannot be sent on
	}
	var header, trailer metadata.MD
	ferr := s.invokeOwner(ctx, fw, info.FullMethod, msg, reply, grpc.Header(&header), grpc.Trailer(&trailer))
	if len(header) > 0 {
		_ = grpc.SetHeader(ctx, header)
	}
	if len(trailer) > 0 {
		_ = grpc.SetTrailer(ctx, trailer)
	}
	if ferr != nil {
		return nil, ferr
	}
	return reply, nil
}

// invokeOwner sends one unary call to the owner fw names, over the pooled connection to
// it, with the caller's metadata plus the hop marker, and counts it. The error is the
// owner's status, or UNAVAILABLE NOT_OWNER when the owner could not be reached.
func (s *Server) invokeOwner(ctx context.Context, fw *frontend.Forward, method string, req, reply proto.Message, opts ...grpc.CallOption) error {
	counts := &s.opts.Forwards.GRPC
	conn, err := s.owners.conn(fw.Owner.GRPC)
	if err != nil {
		counts.Failed.Add(1)
		return statusOf(fmt.Errorf("%w: node %q at %s: %v", engine.ErrNotOwner, fw.Owner.NodeID, fw.Owner.GRPC, err)).Err()
	}
	err = conn.Invoke(s.outgoing(ctx), method, req, reply, opts...)
	if st, _ := status.FromError(err); err != nil && st.Code() == codes.Unavailable && !fromOwner(st) {
		counts.Failed.Add(1)
		return statusOf(fmt.Errorf("%w: memory space %q is served by node %q at %s, which did not answer: %v",
			engine.ErrNotOwner, fw.Space, fw.Owner.NodeID, fw.Owner.GRPC, st.Message())).Err()
	}
	counts.OK.Add(1)
	return err // nil or the owner's answer
}

// fromOwner tells an UNAVAILABLE status the owner answered (it carries this server's
// ErrorInfo: NOT_OWNER, a shutdown, an embedder down) from one the transport made up
// because the owner could not be reached.
func fromOwner(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == errorDomain {
			return true
		}
	}
	return false
}

// outgoing is ctx carrying the caller's metadata, to the owner, plus the hop marker.
func (s *Server) outgoing(ctx context.Context) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	out := metadata.MD{}
	for k, v := range md {
		// Pseudo-headers and the transport's own are set again by the client connection.
		if strings.HasPrefix(k, ":") || k == "content-type" || k == "user-agent" || k == "te" || strings.HasPrefix(k, "grpc-") {
			continue
		}
		out[k] = v
	}
	out.Set(frontend.ForwardedByMetadata, s.opts.NodeID)
	return metadata.NewOutgoingContext(ctx, out)
}

// streamForward relays a server-streaming call (Stream) whose space another node serves:
// the request the handler read goes to the owner, and the owner's header, answers and
// trailer come back as they arrive, until either end stops or this server does. Calls
// whose client streams (StreamingRemember, StreamingRecall) name a space per item: their
// handlers forward item by item (forward_items.go).
func (s *Server) streamForward(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if info.IsClientStream || !info.IsServerStream {
		return handler(srv, ss)
	}
	rs := &recordingStream{ServerStream: ss}
	err := handler(srv, rs)
	var fw *frontend.Forward
	if err == nil || !errors.As(err, &fw) || rs.sent || rs.req == nil {
		return err
	}
	counts := &s.opts.Forwards.GRPC
	conn, cerr := s.owners.conn(fw.Owner.GRPC)
	if cerr != nil {
		counts.Failed.Add(1)
		return err
	}
	ctx, cancel := context.WithCancel(s.outgoing(ss.Context()))
	defer cancel()
	go func() {
		select {
		case <-s.done: // this server stops: the relayed stream ends with it
			cancel()
		case <-ctx.Done():
		}
	}()
	up, serr := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, info.FullMethod)
	if serr == nil {
		if serr = up.SendMsg(rs.req); serr == nil {
			serr = up.CloseSend()
		}
	}
	var header metadata.MD
	if serr == nil {
		header, serr = up.Header()
	}
	if serr != nil {
		counts.Failed.Add(1)
		return statusOf(fmt.Errorf("%w: memory space %q is served by node %q at %s, which did not answer: %v",
			engine.ErrNotOwner, fw.Space, fw.Owner.NodeID, fw.Owner.GRPC, serr)).Err()
	}
	counts.OK.Add(1)
	if len(header) > 0 {
		if err := ss.SendHeader(header); err != nil {
			return err
		}
	}
	for {
		reply, err := replyOf(info.FullMethod)
		if err != nil {
			return err
		}
		if err := up.RecvMsg(reply); err != nil {
			ss.SetTrailer(up.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err // the owner's status
		}
		if err := ss.SendMsg(reply); err != nil {
			return err
		}
	}
}

// recordingStream keeps the request a server-streaming handler read, and whether it sent
// anything, so that streamForward can send the call on.
type recordingStream struct {
	grpc.ServerStream
	req  proto.Message
	sent bool
}

func (r *recordingStream) RecvMsg(m any) error {
	err := r.ServerStream.RecvMsg(m)
	if pm, ok := m.(proto.Message); ok && err == nil {
		r.req = pm
	}
	return err
}

func (r *recordingStream) SendMsg(m any) error {
	r.sent = true
	return r.ServerStream.SendMsg(m)
}

func (r *recordingStream) SendHeader(md metadata.MD) error {
	r.sent = true
	return r.ServerStream.SendHeader(md)
}

// replyOf is a new, empty answer message of a method ("/engram.v1.EngramService/Remember").
func replyOf(fullMethod string) (proto.Message, error) {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil, fmt.Errorf("grpcapi: method name %q", fullMethod)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, err
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("grpcapi: %s is not a service", service)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("grpcapi: no method %s", fullMethod)
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return nil, err
	}
	return mt.New().Interface(), nil
}
