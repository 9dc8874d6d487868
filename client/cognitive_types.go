package client

import "time"

// The answer types of the cognitive routes (pattern completion, recognition, association,
// consolidation, replay) and of introspection and maintenance; their names match the
// OpenAPI document's schemas.

// CompleteRequest is a partial episode whose missing fields Complete fills. KnownFields
// maps field names (what, when as RFC 3339, where_location, who and tags as comma lists,
// why, how) to their values; MissingFields empty means every field not known.
type CompleteRequest struct {
	KnownFields   map[string]string `json:"known_fields,omitempty"`
	MissingFields []string          `json:"missing_fields,omitempty"`
	// CompletionThreshold is the confidence a value needs to fill a field; nil = 0.5.
	CompletionThreshold *float32  `json:"completion_threshold,omitempty"`
	Embedding           []float32 `json:"embedding,omitempty"` // a partial embedding
}

// Sources of a completed field.
const (
	SourceRecalled      = "recalled"      // a direct match
	SourceReconstructed = "reconstructed" // reached over the association graph
	SourceConsolidated  = "consolidated"  // a semantic memory
)

// FieldValue is a candidate value of a field and the memories that support it,
// strongest first.
type FieldValue struct {
	Value          string   `json:"value"`
	Confidence     float32  `json:"confidence"`
	Source         string   `json:"source"`
	SourceMemories []string `json:"source_memories"`
}

// FieldCompletion is a filled field: the chosen value and up to 3 alternatives it beat.
type FieldCompletion struct {
	Field string `json:"field"`
	FieldValue
	Alternatives []FieldValue `json:"alternatives"`
}

// CompleteResponse is the answer of Complete.
type CompleteResponse struct {
	CompletedEpisode     map[string]string  `json:"completed_episode"` // known and filled fields
	Fields               []FieldCompletion  `json:"fields"`
	UnresolvedFields     []string           `json:"unresolved_fields"`
	CompletionConfidence ConfidenceInfo     `json:"completion_confidence"`
	FieldConfidences     map[string]float32 `json:"field_confidences"`
	Evidence             []MemoryResult     `json:"evidence"`
	MemorySpaceID        string             `json:"memory_space_id"`
}

// RecognizeRequest is what Recognize compares with the space's memories: content, a
// vector or both.
type RecognizeRequest struct {
	Content   string    `json:"content,omitempty"`
	Embedding []float32 `json:"embedding,omitempty"`
	// RecognitionThreshold is the familiarity at which the input counts as recognized;
	// nil = 0.7.
	RecognitionThreshold *float32 `json:"recognition_threshold,omitempty"`
}

// RecognizeResponse is the answer of Recognize.
type RecognizeResponse struct {
	Recognized            bool           `json:"recognized"`
	FamiliarityScore      float32        `json:"familiarity_score"`
	RecognitionConfidence ConfidenceInfo `json:"recognition_confidence"`
	SimilarMemories       []MemoryResult `json:"similar_memories"` // up to 5, most similar first
	MemorySpaceID         string         `json:"memory_space_id"`
}

// AssociateRequest names two memories of the space to associate.
type AssociateRequest struct {
	SourceMemory string   `json:"source_memory"`
	TargetMemory string   `json:"target_memory"`
	Strength     *float32 `json:"strength,omitempty"` // 0..1; nil = 0.5
	// AssociationType (semantic, temporal, causal, spatial, emotional) and Reason are
	// checked and not stored.
	AssociationType string `json:"association_type,omitempty"`
	Reason          string `json:"reason,omitempty"`
}

// AssociateResponse is the answer of Associate: Created is false when an existing edge
// was strengthened.
type AssociateResponse struct {
	Created          bool     `json:"created"`
	FinalStrength    float32  `json:"final_strength"`
	PreviousStrength float32  `json:"previous_strength"`
	AffectedPaths    []string `json:"affected_paths"`
	MemorySpaceID    string   `json:"memory_space_id"`
}

// ConsolidateResponse is the answer of ConsolidateNow: the semantic memories formed and
// the episodes they cite.
type ConsolidateResponse struct {
	MemoriesConsolidated int               `json:"memories_consolidated"`
	NewAssociations      int               `json:"new_associations"`
	Formed               []Belief          `json:"formed"`
	StateChanges         map[string]string `json:"state_changes"` // episode id → "Consolidated"
	MemorySpaceID        string            `json:"memory_space_id"`
}

// ReplayRequest selects episodes by at least one cue: a time (Around, within ±Window,
// default 24 h), a place, people or a topic.
type ReplayRequest struct {
	Around           *time.Time
	Window           time.Duration
	Where            string
	Who              []string
	Topic            string
	From, To         *time.Time // inclusive
	Limit            int        // 1..1000; 0 = the server's default, 20
	IncludeEmotional bool
}

// ReplayedEpisode is a stored episode and its place on the forgetting curve now.
type ReplayedEpisode struct {
	Memory
	Retention float64 `json:"retention"`
}

// EmotionalSummary is the mean valence of replayed episodes and the fractions of
// positive (> 0.1), negative (< -0.1) and neutral ones.
type EmotionalSummary struct {
	MeanValence float64 `json:"mean_valence"`
	Positive    float64 `json:"positive"`
	Negative    float64 `json:"negative"`
	Neutral     float64 `json:"neutral"`
}

// ReplayResponse is the answer of Replay.
type ReplayResponse struct {
	Episodes         []ReplayedEpisode `json:"episodes"`
	RecallVividness  ConfidenceInfo    `json:"recall_vividness"`
	EmotionalSummary *EmotionalSummary `json:"emotional_summary"` // with IncludeEmotional
	MemoryThemes     []string          `json:"memory_themes"`
	MemorySpaceID    string            `json:"memory_space_id"`
}

// IntrospectOptions narrow Introspect's answer.
type IntrospectOptions struct {
	Metrics        []string // metric names to keep; empty = all
	SkipHealth     bool
	SkipStatistics bool
}

// ComponentHealth is the state of one part of a space's machinery (wal, index, linker);
// Performance is the fraction of its work caught up.
type ComponentHealth struct {
	Operational   bool    `json:"operational"`
	Performance   float64 `json:"performance"`
	StatusMessage string  `json:"status_message"`
}

// IntrospectHealth is the health part of Introspect's answer.
type IntrospectHealth struct {
	Healthy    bool                       `json:"healthy"`
	Summary    string                     `json:"summary"`
	Components map[string]ComponentHealth `json:"components"`
}

// MemoryStatistics is the statistics part of Introspect's answer.
type MemoryStatistics struct {
	TotalMemories     int            `json:"total_memories"`
	ByType            map[string]int `json:"by_type"`
	AvgActivation     float64        `json:"avg_activation"` // mean forgetting-curve retention
	AvgConfidence     float64        `json:"avg_confidence"`
	TotalAssociations int            `json:"total_associations"`
	OldestMemory      *time.Time     `json:"oldest_memory"`
	NewestMemory      *time.Time     `json:"newest_memory"`
	Tiers             struct {
		Hot  int `json:"hot"`
		Warm int `json:"warm"`
		Cold int `json:"cold"`
	} `json:"tiers"`
}

// IntrospectResponse is the answer of Introspect: the space's live figures. Health and
// Statistics are nil when skipped.
type IntrospectResponse struct {
	MemorySpaceID   string             `json:"memory_space_id"`
	Metrics         map[string]float64 `json:"metrics"`
	Health          *IntrospectHealth  `json:"health"`
	Statistics      *MemoryStatistics  `json:"statistics"`
	ActiveProcesses []string           `json:"active_processes"`
}

// CompactFigures are a space's sizes before or after Compact.
type CompactFigures struct {
	Memories    int   `json:"memories"`
	Hot         int   `json:"hot"`
	Warm        int   `json:"warm"`
	Cold        int   `json:"cold"`
	WALBytes    int64 `json:"wal_bytes"`
	WALSegments int   `json:"wal_segments"`
}

// CompactResponse is the answer of Compact.
type CompactResponse struct {
	Before        CompactFigures `json:"before"`
	After         CompactFigures `json:"after"`
	CheckpointLSN uint64         `json:"checkpoint_lsn"`
	TookMS        float64        `json:"took_ms"`
	MemorySpaceID string         `json:"memory_space_id"`
}

// SpreadParams are the parameters of one use of spreading activation.
type SpreadParams struct {
	MaxHops    int     `json:"max_hops"`
	Decay      float32 `json:"decay"`
	Threshold  float32 `json:"threshold"`
	Budget     int     `json:"budget"`
	MaxFanout  int     `json:"max_fanout"`
	RaiseSeeds bool    `json:"raise_seeds"`
}

// SpreadingConfig is the answer of SpreadingConfig: the parameters of hybrid recall,
// spreading recall and SPREAD FROM without clauses, the same for every space.
type SpreadingConfig struct {
	HybridRecall    SpreadParams `json:"hybrid_recall"`
	SpreadingRecall SpreadParams `json:"spreading_recall"`
	QuerySpread     SpreadParams `json:"query_spread"`
	MaxSpreadHops   int          `json:"max_spread_hops"`
	CrossesSpaces   bool         `json:"crosses_spaces"`
}

// SpreadingHealth is the answer of SpreadingHealth, summed over the open spaces.
type SpreadingHealth struct {
	Status           string    `json:"status"` // healthy, unhealthy
	Timestamp        time.Time `json:"timestamp"`
	OpenSpaces       int       `json:"open_spaces"`
	FailedSpaces     int       `json:"failed_spaces"`
	Edges            int       `json:"edges"`
	LinkQueue        int       `json:"link_queue"`
	OldestLinkWaitMS float64   `json:"oldest_link_wait_ms"`
}
