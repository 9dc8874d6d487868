package grpcapi

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// errTooManyFields is the codec's refusal of a message holding more fields than its bound.
var errTooManyFields = errors.New("grpcapi: too many fields")

// messageBytesPerField sets the bound on the fields one request message may hold:
// max_body_bytes/512, at least minMessageFields, as httpapi bounds a JSON body's values.
// protobuf-go allocates per field what a two-byte field never pays for (16 bytes for an
// empty string in a repeated field, a struct for an empty message, each grown by append),
// so without the bound an 8 MB message of empty tags costs over 200 MB before any check.
const (
	messageBytesPerField = 512
	minMessageFields     = 1024
)

// maxMessageFields is the bound on the fields of one message for a message size limit.
func maxMessageFields(maxBytes int) int {
	return max(maxBytes/messageBytesPerField, minMessageFields)
}

// boundedCodec is the proto codec with a count of the message's fields, nested ones and
// each element of a repeated field included, before it is unmarshalled: a message over the
// bound is refused without being built (gRPC answers such a refusal INTERNAL "failed to
// unmarshal", as it answers every message it cannot decode).
type boundedCodec struct {
	encoding.CodecV2 // the proto codec, for Marshal and Name
	maxFields        int
}

func newBoundedCodec(maxFields int) boundedCodec {
	return boundedCodec{CodecV2: encoding.GetCodecV2(grpcproto.Name), maxFields: maxFields}
}

func (c boundedCodec) Unmarshal(data mem.BufferSlice, v any) error {
	var m proto.Message
	switch v := v.(type) {
	case protoadapt.MessageV2:
		m = v
	case protoadapt.MessageV1:
		m = protoadapt.MessageV2Of(v)
	default:
		return fmt.Errorf("grpcapi: cannot unmarshal into %T", v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	b := buf.ReadOnlyData()
	budget := c.maxFields
	if !countFields(b, m.ProtoReflect().Descriptor(), &budget, 0) {
		return fmt.Errorf("%w: the message holds more than %d fields (repeated elements counted one by one); the limit is max_body_bytes/512 ([limits] max_body_bytes)", errTooManyFields, c.maxFields)
	}
	return proto.Unmarshal(b, m)
}

// maxFieldDepth is how deep countFields follows nested messages; protobuf-go refuses
// deeper nesting itself.
const maxFieldDepth = 100

// countFields takes one from budget for each field of the wire message b (described by md)
// and of the messages nested in it, and reports false once budget runs out. Malformed
// bytes end the count: proto.Unmarshal names them.
func countFields(b []byte, md protoreflect.MessageDescriptor, budget *int, depth int) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return true
		}
		b = b[n:]
		if *budget--; *budget < 0 {
			return false
		}
		var fd protoreflect.FieldDescriptor
		if md != nil {
			fd = md.Fields().ByNumber(num)
		}
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return true
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return true
		}
		b = b[n:]
		switch {
		case fd == nil:
		case fd.Kind() == protoreflect.MessageKind && depth < maxFieldDepth:
			if !countFields(v, fd.Message(), budget, depth+1) {
				return false
			}
		case fd.IsList() && isVarint(fd.Kind()):
			// Packed varints: an element may be one byte that becomes eight. (Packed
			// floats, an embedding, take in memory the four bytes they take on the wire.)
			for _, c := range v {
				if c < 0x80 {
					if *budget--; *budget < 0 {
						return false
					}
				}
			}
		}
	}
	return true
}

// admit refuses, before the request message is read, a call to a method that needs a key
// and presents none or an unknown one (grpc.InTapHandle): the message of a caller who may
// not call is never decoded. The interceptors authenticate again and keep the principal.
func (s *Server) admit(ctx context.Context, info *tap.Info) (context.Context, error) {
	if s.opts.Auth == nil || isOpenMethod(info.FullMethodName) {
		return ctx, nil
	}
	if _, err := s.authenticate(metadata.NewIncomingContext(ctx, info.Header), info.FullMethodName); err != nil {
		return ctx, statusOf(err).Err()
	}
	return ctx, nil
}

// isVarint reports the kinds encoded as varints.
func isVarint(k protoreflect.Kind) bool {
	switch k {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind,
		protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		return true
	}
	return false
}
