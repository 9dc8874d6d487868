package grpcapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
	"github.com/engram-go/engram/frontend/grpcapi/pb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// memoryFromPB turns RememberRequest.memory into the engine's memory. Server-managed
// fields (activation, last_access) are ignored; decay_rate is documented as not applied.
func (s *Server) memoryFromPB(m *pb.Memory) (engine.Memory, error) {
	if m == nil {
		return engine.Memory{}, invalid("memory is required")
	}
	if len(m.GetMetadata()) > 0 {
		return engine.Memory{}, invalid("memory.metadata is not stored by this server; send tags instead")
	}
	if err := frontend.CheckContent("memory.content", m.GetContent(), s.opts.MaxContentBytes); err != nil {
		return engine.Memory{}, err
	}
	conf, err := confidenceFromPB("memory.confidence", m.GetConfidence())
	if err != nil {
		return engine.Memory{}, err
	}
	typ, err := memoryTypeFromPB(m.GetMemoryType())
	if err != nil {
		return engine.Memory{}, err
	}
	observed, err := timeFromPB("memory.created_at", m.GetCreatedAt())
	if err != nil {
		return engine.Memory{}, err
	}
	return engine.Memory{
		ID:         m.GetId(),
		Content:    m.GetContent(),
		Embedding:  nilIfEmpty(m.GetEmbedding()),
		Confidence: conf,
		ObservedAt: observed,
		Tags:       m.GetTags(),
		Type:       typ,
	}, nil
}

// episodeFromPB turns an Episode into an episodic memory whose content is what.
func (s *Server) episodeFromPB(e *pb.Episode) (engine.Memory, error) {
	if e == nil {
		return engine.Memory{}, invalid("episode is required")
	}
	if err := frontend.CheckContent("episode.what", e.GetWhat(), s.opts.MaxContentBytes); err != nil {
		return engine.Memory{}, err
	}
	// An episode without a time is taken as happening when it is reported (zero = now).
	when, err := timeFromPB("episode.when", e.GetWhen())
	if err != nil {
		return engine.Memory{}, err
	}
	conf, err := confidenceFromPB("episode.encoding_confidence", e.GetEncodingConfidence())
	if err != nil {
		return engine.Memory{}, err
	}
	return engine.Memory{
		ID:         e.GetId(),
		Content:    e.GetWhat(),
		Embedding:  nilIfEmpty(e.GetEmbedding()),
		Confidence: conf,
		ObservedAt: when,
		Tags:       e.GetTags(),
		Type:       engine.Episodic,
		Episode: &engine.Episode{
			Where:            e.GetWhereLocation(),
			Who:              e.GetWho(),
			Why:              e.GetWhy(),
			How:              e.GetHow(),
			EmotionalValence: e.GetEmotionalValence(),
			Importance:       e.GetImportance(),
		},
	}, nil
}

// confidenceFromPB is the value of an input confidence, engine.DefaultConfid when unset.
func confidenceFromPB(field string, c *pb.Confidence) (float32, error) {
	if c == nil {
		return engine.DefaultConfid, nil
	}
	if v := c.GetValue(); !(v >= 0 && v <= 1) {
		return 0, invalid("%s.value must be a number between 0 and 1", field)
	}
	return c.GetValue(), nil
}

func timeFromPB(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, invalid("%s: %v", field, err)
	}
	return ts.AsTime(), nil
}

func memoryTypeFromPB(t pb.MemoryType) (engine.MemoryType, error) {
	switch t {
	case pb.MemoryType_MEMORY_TYPE_UNSPECIFIED, pb.MemoryType_MEMORY_TYPE_EPISODIC:
		return engine.Episodic, nil
	case pb.MemoryType_MEMORY_TYPE_SEMANTIC:
		return engine.Semantic, nil
	case pb.MemoryType_MEMORY_TYPE_PROCEDURAL:
		return engine.Procedural, nil
	case pb.MemoryType_MEMORY_TYPE_WORKING:
		return 0, invalid("memory.memory_type MEMORY_TYPE_WORKING is not stored by this server; use episodic, semantic or procedural")
	}
	return 0, invalid("memory.memory_type %d is unknown", int32(t))
}

func memoryTypeToPB(t engine.MemoryType) pb.MemoryType {
	switch t {
	case engine.Episodic:
		return pb.MemoryType_MEMORY_TYPE_EPISODIC
	case engine.Semantic:
		return pb.MemoryType_MEMORY_TYPE_SEMANTIC
	case engine.Procedural:
		return pb.MemoryType_MEMORY_TYPE_PROCEDURAL
	}
	return pb.MemoryType_MEMORY_TYPE_UNSPECIFIED
}

// confidencePB builds an answer's confidence; the category follows the public rule
// (HIGH above 0.7, MEDIUM above 0.4, else LOW).
func confidencePB(v float32, reasoning string) *pb.Confidence {
	cat := pb.ConfidenceCategory_CONFIDENCE_CATEGORY_LOW
	switch engine.ConfidenceCategory(v) {
	case "High":
		cat = pb.ConfidenceCategory_CONFIDENCE_CATEGORY_HIGH
	case "Medium":
		cat = pb.ConfidenceCategory_CONFIDENCE_CATEGORY_MEDIUM
	}
	return &pb.Confidence{Value: v, Category: cat, Reasoning: reasoning}
}

// timestampPB is nil for the zero time, so "never" stays unset on the wire.
func timestampPB(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// memoryToPB converts a stored memory; its embedding is passed through as stored.
func memoryToPB(m *engine.Memory) *pb.Memory {
	return &pb.Memory{
		Id:         m.ID,
		Embedding:  m.Embedding,
		Confidence: confidencePB(m.Confidence, ""),
		LastAccess: timestampPB(m.LastAccess),
		CreatedAt:  timestampPB(m.ObservedAt),
		Content:    m.Content,
		Tags:       m.Tags,
		MemoryType: memoryTypeToPB(m.Type),
	}
}

// hitMetadata is Memory.metadata of a recalled memory: how it was found and the stored
// fields the Memory message has no place for.
func hitMetadata(h *engine.Hit, category string) map[string]string {
	m := &h.Memory
	md := map[string]string{
		"recall_category": category,
		"retrieval_path":  retrievalPath(h),
		"score":           formatFloat(h.Score),
		"similarity":      formatFloat(h.Similarity),
		"tier":            m.Tier.String(),
		"observed_at":     m.ObservedAt.UTC().Format(time.RFC3339Nano),
		"stored_at":       m.StoredAt.UTC().Format(time.RFC3339Nano),
		"access_count":    strconv.FormatUint(uint64(m.AccessCount), 10),
	}
	if len(m.Citations) > 0 {
		md["citations"] = jsonList(m.Citations)
	}
	if e := m.Episode; e != nil {
		for k, v := range map[string]string{"where_location": e.Where, "why": e.Why, "how": e.How} {
			if v != "" {
				md[k] = v
			}
		}
		if len(e.Who) > 0 {
			md["who"] = jsonList(e.Who)
		}
		md["emotional_valence"] = formatFloat(e.EmotionalValence)
		md["importance"] = formatFloat(e.Importance)
	}
	return md
}

// retrievalPath is "direct" for a direct match, else the activation path, as on HTTP.
func retrievalPath(h *engine.Hit) string {
	if h.Direct || len(h.Path) <= 1 {
		return "direct"
	}
	return "spreading: " + strings.Join(h.Path, " -> ")
}

func formatFloat(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

func jsonList(ss []string) string {
	if ss == nil {
		ss = []string{}
	}
	b, _ := json.Marshal(ss)
	return string(b)
}

func nilIfEmpty(v []float32) []float32 {
	if len(v) == 0 {
		return nil
	}
	return v
}
