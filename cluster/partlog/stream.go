package partlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the name of partition p's stream.
func StreamName(p int) string { return "ENGRAM_P" + strconv.Itoa(p) }

// Subject is the subject partition p's batches are published on.
func Subject(p int) string { return "engram.wal." + strconv.Itoa(p) }

// duplicateWindow is the stream's window for Nats-Msg-Id de-duplication.
const duplicateWindow = 2 * time.Minute

// StreamConfig is the configuration of partition p's stream: file storage, limits
// retention that never discards history (DiscardNew: a full stream refuses writes rather
// than dropping what no node may have copied yet), replicas copies.
func StreamConfig(p, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:       StreamName(p),
		Subjects:   []string{Subject(p)},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardNew,
		Replicas:   replicas,
		Duplicates: duplicateWindow,
	}
}

// EnsureStream creates partition p's stream, or returns it when it exists.
func EnsureStream(ctx context.Context, js jetstream.JetStream, p, replicas int) (jetstream.Stream, error) {
	s, err := js.CreateStream(ctx, StreamConfig(p, replicas))
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		s, err = js.Stream(ctx, StreamName(p))
	}
	if err != nil {
		return nil, fmt.Errorf("partlog: stream %s: %w", StreamName(p), err)
	}
	return s, nil
}

// LastSequence is the sequence of the last message of partition p's stream (0 when empty).
func LastSequence(ctx context.Context, js jetstream.JetStream, p int) (uint64, error) {
	s, err := js.Stream(ctx, StreamName(p))
	if err != nil {
		return 0, fmt.Errorf("partlog: stream %s: %w", StreamName(p), err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("partlog: stream %s: %w", StreamName(p), err)
	}
	return info.State.LastSeq, nil
}
