package client

import (
	"encoding/json"
	"time"

	"github.com/engram-go/engram/engine/transfer"
)

// The answer types mirror the OpenAPI document's schemas; their names match. The HTTP
// frontend encodes ListResponse, SpaceStats, SpaceHealth, CompactResponse and
// SpreadingConfig with these very types, so their shape is written once. It still
// declares its own for answers holding times (it writes them in UTC, null for none:
// internal/jsonwire), for those it encodes by hand for speed, and for the other cognitive
// answers; the OpenAPI checks of both test suites hold the two to the same document.

// ConfidenceInfo is a confidence with its category and where it came from.
type ConfidenceInfo struct {
	Value     float32 `json:"value"`
	Category  string  `json:"category"` // Low, Medium, High
	Reasoning string  `json:"reasoning"`
}

// Memory types.
const (
	Episodic   = "episodic"
	Semantic   = "semantic"
	Procedural = "procedural"
)

// RememberRequest is one memory to store. Only Content is required.
type RememberRequest struct {
	Content string `json:"content"`
	// Embedding, when set, must have the space's dimension; nil lets the server's embedder
	// fill it.
	Embedding  []float32  `json:"embedding,omitempty"`
	Confidence *float32   `json:"confidence,omitempty"` // nil = the server's default, 0.7
	Timestamp  *time.Time `json:"timestamp,omitempty"`  // observation time; nil = now
	// ID, when set, names the memory (1–128 of [A-Za-z0-9._:-]); storing an existing id
	// replaces that memory.
	ID            string   `json:"id,omitempty"`
	Tags          []string `json:"tags,omitempty"`
	MemoryType    string   `json:"memory_type,omitempty"` // Episodic (default), Semantic, Procedural
	AutoLink      bool     `json:"auto_link,omitempty"`   // wait for the association edges
	LinkThreshold float32  `json:"link_threshold,omitempty"`
	// IdempotencyKey, sent as the Idempotency-Key header, makes retries of this remember
	// store it once: without an ID the memory's id derives from the space and the key, a
	// retry answers the stored memory, and the key with other content is ErrConflict.
	// The client's own retries of 429 and 503 resend it.
	IdempotencyKey string `json:"-"`
}

// EpisodeRequest is one episode to store (POST /api/v1/episodes/remember).
type EpisodeRequest struct {
	What             string    `json:"what"`
	When             time.Time `json:"when"`
	WhereLocation    string    `json:"where_location,omitempty"`
	Who              []string  `json:"who,omitempty"`
	Why              string    `json:"why,omitempty"`
	How              string    `json:"how,omitempty"`
	Importance       *float32  `json:"importance,omitempty"`
	EmotionalValence *float32  `json:"emotional_valence,omitempty"`
	Embedding        []float32 `json:"embedding,omitempty"`
	Tags             []string  `json:"tags,omitempty"`
	ID               string    `json:"id,omitempty"`
	AutoLink         bool      `json:"auto_link,omitempty"`
	LinkThreshold    float32   `json:"link_threshold,omitempty"`
}

// AutoLink is an association edge built for a new memory.
type AutoLink struct {
	TargetMemoryID  string  `json:"target_memory_id"`
	SimilarityScore float32 `json:"similarity_score"`
	LinkReason      string  `json:"link_reason"`
}

// RememberResponse is the answer of Remember and RememberEpisode.
type RememberResponse struct {
	MemoryID           string         `json:"memory_id"`
	StorageConfidence  ConfidenceInfo `json:"storage_confidence"`
	ConsolidationState string         `json:"consolidation_state"`
	ObservedAt         time.Time      `json:"observed_at"`
	StoredAt           time.Time      `json:"stored_at"`
	AutoLinks          []AutoLink     `json:"auto_links"`
	SystemMessage      string         `json:"system_message"`
	MemorySpaceID      string         `json:"memory_space_id"`
}

// BatchOptions apply to a whole batch.
type BatchOptions struct {
	AutoLink      bool
	LinkThreshold float32
	// IdempotencyKey, sent as the Idempotency-Key header: item i without an id is stored
	// once under the key "<key>#<i>" (see RememberRequest.IdempotencyKey).
	IdempotencyKey string
}

// BatchError is one refused item of a batch, by its 0-based index in that batch.
type BatchError struct {
	Index int    `json:"index"`
	Error string `json:"error"`
	Code  string `json:"code"`
}

// BatchResponse is the answer of RememberBatch.
type BatchResponse struct {
	Accepted      int          `json:"accepted"`
	MemoryIDs     []string     `json:"memory_ids"`
	Errors        []BatchError `json:"errors"`
	MemorySpaceID string       `json:"memory_space_id"`
}

// Recall modes.
const (
	ModeSimilarity = "similarity"
	ModeSpreading  = "spreading"
	ModeHybrid     = "hybrid"
)

// RecallRequest is a cue: text, vector or both.
type RecallRequest struct {
	Query           string     `json:"query,omitempty"`
	Embedding       []float32  `json:"embedding,omitempty"`
	MaxResults      int        `json:"max_results,omitempty"` // 1..1000, default 10
	Threshold       *float32   `json:"threshold,omitempty"`   // default 0.3
	Mode            string     `json:"mode,omitempty"`        // ModeHybrid (default), ModeSimilarity, ModeSpreading
	TraceActivation bool       `json:"trace_activation,omitempty"`
	IncludeMetadata bool       `json:"include_metadata,omitempty"`
	RequiredTags    []string   `json:"required_tags,omitempty"`
	ExcludedTags    []string   `json:"excluded_tags,omitempty"`
	FromTime        *time.Time `json:"from_time,omitempty"`
	ToTime          *time.Time `json:"to_time,omitempty"`
}

// MemoryResult is one recalled memory.
type MemoryResult struct {
	ID                   string         `json:"id"`
	Content              string         `json:"content"`
	Confidence           ConfidenceInfo `json:"confidence"`
	ActivationLevel      float32        `json:"activation_level"`
	SimilarityScore      float32        `json:"similarity_score"`
	RetrievalPath        string         `json:"retrieval_path"` // "direct" or "spreading: a -> b"
	ObservedAt           time.Time      `json:"observed_at"`
	LastAccess           *time.Time     `json:"last_access"`
	Tags                 []string       `json:"tags"`
	MemoryType           string         `json:"memory_type"`
	RelevanceExplanation string         `json:"relevance_explanation"`
}

// QueryAnalysis describes how a recall was understood.
type QueryAnalysis struct {
	UnderstoodIntent string   `json:"understood_intent"`
	SearchStrategy   string   `json:"search_strategy"`
	CognitiveLoad    string   `json:"cognitive_load"`
	Suggestions      []string `json:"suggestions"`
}

// RecallMetadata is sent with IncludeMetadata.
type RecallMetadata struct {
	TotalMemoriesSearched int      `json:"total_memories_searched"`
	ActivationSpreadHops  int      `json:"activation_spread_hops"`
	ProcessingTimeMS      float64  `json:"processing_time_ms"`
	TiersSearched         []string `json:"tiers_searched"`
}

// ActivationTrace is sent with TraceActivation.
type ActivationTrace struct {
	MemoryID        string   `json:"memory_id"`
	ActivationLevel float32  `json:"activation_level"`
	ActivationPath  []string `json:"activation_path"`
}

// RecallResponse is the answer of Recall.
type RecallResponse struct {
	Memories struct {
		Vivid         []MemoryResult `json:"vivid"`
		Associated    []MemoryResult `json:"associated"`
		Reconstructed []MemoryResult `json:"reconstructed"`
	} `json:"memories"`
	RecallConfidence ConfidenceInfo    `json:"recall_confidence"`
	QueryAnalysis    QueryAnalysis     `json:"query_analysis"`
	Metadata         *RecallMetadata   `json:"metadata"`
	Traces           []ActivationTrace `json:"traces"`
	SystemMessage    string            `json:"system_message"`
	MemorySpaceID    string            `json:"memory_space_id"`
}

// All returns the vivid, associated and reconstructed memories in that order.
func (r *RecallResponse) All() []MemoryResult {
	out := make([]MemoryResult, 0, len(r.Memories.Vivid)+len(r.Memories.Associated)+len(r.Memories.Reconstructed))
	out = append(out, r.Memories.Vivid...)
	out = append(out, r.Memories.Associated...)
	return append(out, r.Memories.Reconstructed...)
}

// ProbabilisticRequest is a recall plus what to explain.
type ProbabilisticRequest struct {
	RecallRequest
	IncludeEvidence    bool
	IncludeUncertainty bool
}

// ConfidenceInterval is the 95% interval of a probabilistic query.
type ConfidenceInterval struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
	Point float64 `json:"point"`
	Width float64 `json:"width"`
}

// Evidence is one result's contribution.
type Evidence struct {
	SourceType  string  `json:"source_type"`
	Strength    float32 `json:"strength"`
	Description string  `json:"description"`
}

// UncertaintySource is one reason the interval is wide.
type UncertaintySource struct {
	SourceType  string  `json:"source_type"`
	Impact      float64 `json:"impact"`
	Explanation string  `json:"explanation"`
}

// ProbabilisticResponse is the answer of ProbabilisticQuery.
type ProbabilisticResponse struct {
	Memories           []MemoryResult      `json:"memories"`
	ConfidenceInterval ConfidenceInterval  `json:"confidence_interval"`
	EvidenceChain      []Evidence          `json:"evidence_chain"`
	UncertaintySources []UncertaintySource `json:"uncertainty_sources"`
	SystemMessage      string              `json:"system_message"`
	MemorySpaceID      string              `json:"memory_space_id"`
}

// Episode holds the episode fields of a memory stored as an episode.
type Episode struct {
	WhereLocation    string   `json:"where_location"`
	Who              []string `json:"who"`
	Why              string   `json:"why"`
	How              string   `json:"how"`
	EmotionalValence float32  `json:"emotional_valence"`
	Importance       float32  `json:"importance"`
}

// QueryResponse is the answer of Query: the memories best first, Confidences[i] the score
// of Memories[i] (recall score, or activation for SPREAD).
type QueryResponse struct {
	Verb                 string              `json:"verb"`
	Memories             []MemoryResult      `json:"memories"`
	Confidences          []float64           `json:"confidences"`
	AggregateConfidence  AggregateConfidence `json:"aggregate_confidence"`
	TotalCount           int                 `json:"total_count"`
	ExecutionTimeMS      float64             `json:"execution_time_ms"`
	ActivationSpreadHops int                 `json:"activation_spread_hops"`
	MemorySpaceID        string              `json:"memory_space_id"`
	SystemMessage        string              `json:"system_message"`
}

// AggregateConfidence is a query answer's confidence: Mean computed from the scores, the
// bounds its 95% interval.
type AggregateConfidence struct {
	LowerBound      float64 `json:"lower_bound"`
	Mean            float64 `json:"mean"`
	UpperBound      float64 `json:"upper_bound"`
	ConfidenceLevel float64 `json:"confidence_level"`
}

// AssociationsResponse is the answer of Associations: a memory's edges, strongest first.
type AssociationsResponse struct {
	MemoryID      string        `json:"memory_id"`
	Associations  []Association `json:"associations"`
	Count         int           `json:"count"`
	MemorySpaceID string        `json:"memory_space_id"`
}

// Association is one edge of a memory: the memory at its other end, its weight in (0, 1]
// and why it exists ("similarity", "temporal" or "consolidation").
type Association struct {
	TargetMemoryID string  `json:"target_memory_id"`
	Weight         float32 `json:"weight"`
	Kind           string  `json:"kind"`
}

// Memory is every stored field of one memory (Get).
type Memory struct {
	ID            string         `json:"id"`
	Content       string         `json:"content"`
	Embedding     []float32      `json:"embedding"`
	Confidence    ConfidenceInfo `json:"confidence"`
	ObservedAt    time.Time      `json:"observed_at"`
	StoredAt      time.Time      `json:"stored_at"`
	LastAccess    *time.Time     `json:"last_access"`
	AccessCount   uint32         `json:"access_count"`
	Tags          []string       `json:"tags"`
	MemoryType    string         `json:"memory_type"`
	Tier          string         `json:"tier"`
	Episode       *Episode       `json:"episode,omitempty"`
	Citations     []string       `json:"citations,omitempty"`
	MemorySpaceID string         `json:"memory_space_id"`
}

// ForgetResponse is the answer of Forget.
type ForgetResponse struct {
	MemoryID      string `json:"memory_id"`
	Forgotten     bool   `json:"forgotten"`
	MemorySpaceID string `json:"memory_space_id"`
}

// ListRequest selects one page of List.
type ListRequest struct {
	Tier              string // hot, warm, cold, all (default)
	Offset            int
	Limit             int // 1..1000, default 100
	IncludeEmbeddings bool
}

// ListEntry is one memory of a listing.
type ListEntry struct {
	ID         string    `json:"id"`
	Content    string    `json:"content"`
	Confidence float32   `json:"confidence"`
	Timestamp  time.Time `json:"timestamp"`
	Tier       string    `json:"tier"`
	Embedding  []float32 `json:"embedding,omitempty"`
}

// ListResponse is one page of a space's memories, by id.
type ListResponse struct {
	Memories   []ListEntry `json:"memories"`
	Count      int         `json:"count"`
	Pagination struct {
		Offset   int `json:"offset"`
		Limit    int `json:"limit"`
		Returned int `json:"returned"`
	} `json:"pagination"`
	TierCounts struct {
		Hot   int `json:"hot"`
		Warm  int `json:"warm"`
		Cold  int `json:"cold"`
		Total int `json:"total"`
	} `json:"tier_counts"`
	MemorySpaceID string `json:"memory_space_id"`
}

// SearchHit is one lexical search result.
type SearchHit struct {
	ID         string         `json:"id"`
	Content    string         `json:"content"`
	Score      float32        `json:"score"` // BM25, not bounded by 1
	Confidence ConfidenceInfo `json:"confidence"`
	ObservedAt time.Time      `json:"observed_at"`
	Tags       []string       `json:"tags"`
	MemoryType string         `json:"memory_type"`
}

// SearchResponse is the answer of Search.
type SearchResponse struct {
	Memories      []SearchHit `json:"memories"`
	Total         int         `json:"total"`
	MemorySpaceID string      `json:"memory_space_id"`
}

// Citation is an episode a belief cites.
type Citation struct {
	EpisodeID      string  `json:"episode_id"`
	ContentPreview *string `json:"content_preview"` // nil when the episode was forgotten since
}

// Belief is a semantic memory that cites episodes.
type Belief struct {
	ID               string     `json:"id"`
	Content          string     `json:"content"`
	Strength         float32    `json:"strength"`
	SchemaConfidence float32    `json:"schema_confidence"`
	LastConsolidated time.Time  `json:"last_consolidated"`
	Citations        []Citation `json:"citations"`
	Stats            struct {
		EpisodeCount int `json:"episode_count"`
	} `json:"stats"`
}

// ConsolidationsResponse lists a space's beliefs.
type ConsolidationsResponse struct {
	GeneratedAt time.Time `json:"generated_at"`
	Beliefs     []Belief  `json:"beliefs"`
	Stats       struct {
		Beliefs           int     `json:"beliefs"`
		EpisodesCited     int     `json:"episodes_cited"`
		ConsolidationRate float64 `json:"consolidation_rate"`
		Memories          int     `json:"memories"`
	} `json:"stats"`
	MemorySpaceID string `json:"memory_space_id"`
}

// SpaceSettings are a space's settings; zero fields take the server's defaults.
type SpaceSettings struct {
	HotCapacity     int     `json:"hot_capacity,omitempty"`
	WarmCapacity    int     `json:"warm_capacity,omitempty"`
	ColdCapacity    int     `json:"cold_capacity,omitempty"`
	Dimension       int     `json:"dimension,omitempty"`
	RateLimit       float64 `json:"rate_limit,omitempty"`
	WALSync         string  `json:"wal_sync,omitempty"`
	WALSegmentBytes int64   `json:"wal_segment_bytes,omitempty"`
	HTTPListen      string  `json:"http_listen,omitempty"` // read only: from the configuration file
}

// SpaceEntry is one space of Spaces.
type SpaceEntry struct {
	ID              string    `json:"id"`
	Memories        int       `json:"memories"`
	CreatedAt       time.Time `json:"created_at"`
	PersistenceRoot string    `json:"persistence_root"`
}

// SpaceStats are a space's live figures.
type SpaceStats struct {
	Hot               int     `json:"hot"`
	Warm              int     `json:"warm"`
	Cold              int     `json:"cold"`
	HotCapacity       int     `json:"hot_capacity"`
	Pressure          float64 `json:"pressure"`
	WALLagMS          float64 `json:"wal_lag_ms"`
	WALBytes          int64   `json:"wal_bytes"`
	WALSegments       int     `json:"wal_segments"`
	LSN               uint64  `json:"lsn"`
	DurableLSN        uint64  `json:"durable_lsn"`
	ConsolidationRate float64 `json:"consolidation_rate"`
	LinkQueue         int     `json:"link_queue"`
	LinkLagMS         float64 `json:"link_lag_ms"`
	IndexLag          int     `json:"index_lag"`
	IndexedRows       int     `json:"indexed_rows"`
	IndexLagWorkMS    float64 `json:"index_lag_work_ms"` // index_lag in ms of the index lane's recent CPU time per row
	LinkLagWorkMS     float64 `json:"link_lag_work_ms"`  // link_queue in ms of the edge lane's recent CPU time per job
	BackgroundShare   float64 `json:"background_share"`  // share of the CPUs the background lanes may use now
	Edges             int     `json:"edges"`
	Dimension         int     `json:"dimension"`
	Open              bool    `json:"open"`
}

// SpaceDetails is one space with its settings and statistics.
type SpaceDetails struct {
	SpaceEntry
	Settings SpaceSettings `json:"settings"`
	Stats    SpaceStats    `json:"stats"`
	// Created is set by CreateSpace: true when the space was created, false when it existed.
	Created *bool `json:"created,omitempty"`
}

// DeleteSpaceResponse is the answer of DeleteSpace.
type DeleteSpaceResponse struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// SpaceHealth is one space of SystemHealth.
type SpaceHealth struct {
	Space             string  `json:"space"`
	Memories          int     `json:"memories"`
	Pressure          float64 `json:"pressure"`
	WALLagMS          float64 `json:"wal_lag_ms"`
	ConsolidationRate float64 `json:"consolidation_rate"`
	Tiers             struct {
		Hot  int `json:"hot"`
		Warm int `json:"warm"`
		Cold int `json:"cold"`
	} `json:"tiers"`
}

// SystemHealth is the answer of SystemHealth. Status is "healthy" or "unhealthy".
type SystemHealth struct {
	Status    string        `json:"status"`
	Timestamp time.Time     `json:"timestamp"`
	Spaces    []SpaceHealth `json:"spaces"`
}

// Health is the answer of Health.
type Health struct {
	Status    string    `json:"status"`
	Service   string    `json:"service"`
	Version   string    `json:"version"`
	Timestamp time.Time `json:"timestamp"`
}

// ImportResponse is the answer of Import: what was stored and the refused lines
// (transfer.Result, the server's own type), and the space.
type ImportResponse struct {
	transfer.Result
	MemorySpaceID string `json:"memory_space_id"`
}

// Event is one event of a stream. Data holds the whole JSON payload; the common fields
// are decoded beside it.
type Event struct {
	ID            uint64          `json:"-"` // the SSE id
	Type          string          `json:"event_type"`
	MemorySpaceID string          `json:"memory_space_id"`
	MemoryID      string          `json:"memory_id,omitempty"`
	Timestamp     time.Time       `json:"timestamp"`
	Importance    float32         `json:"importance"`
	Data          json.RawMessage `json:"-"`
}

// Warning is a stream's notice that events were missed ("missed"), ids restarted
// ("reset") or the subscriber fell behind and was cut ("lagged"; Subscribe reconnects).
type Warning struct {
	Reason        string `json:"reason"`
	Missed        uint64 `json:"missed"`
	MemorySpaceID string `json:"memory_space_id"`
	Message       string `json:"message"`
	LastEventID   uint64 `json:"last_event_id"`
}

// TransferLine is one memory of the transfer format (export and import; see
// docs/formats/transfer.md). Export writes every field.
type TransferLine struct {
	ID          string     `json:"id"`
	Content     string     `json:"content"`
	Embedding   []float32  `json:"embedding"`
	Confidence  float32    `json:"confidence"`
	ObservedAt  *time.Time `json:"observed_at"`
	StoredAt    *time.Time `json:"stored_at"`
	LastAccess  *time.Time `json:"last_access"`
	AccessCount uint32     `json:"access_count"`
	Tags        []string   `json:"tags"`
	MemoryType  string     `json:"memory_type"`
	Episode     *Episode   `json:"episode"`
	Citations   []string   `json:"citations"`
}
