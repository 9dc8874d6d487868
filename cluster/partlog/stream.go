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

// ErrNoLeader is returned by LastSequence when the stream's state was answered by a
// replica while the stream had no leader: an election in progress, or the answering
// server not yet back in touch with the others after a restart or a network cut. Such a
// replica may miss messages the stream acknowledged, so what it holds is no end to catch
// up to.
var ErrNoLeader = errors.New("partlog: the stream has no leader; a replica's state is not the stream's")

// LastSequence is the sequence of the last message of partition p's stream (0 when empty),
// as the stream's leader knows it. JetStream lets every replica of a leaderless stream
// answer an info request with its own state, and the client takes the first answer, often
// that of the local server; such an answer (no leader named) fails with ErrNoLeader, its
// sequence returned alongside for display only.
func LastSequence(ctx context.Context, js jetstream.JetStream, p int) (uint64, error) {
	s, err := js.Stream(ctx, StreamName(p))
	if err != nil {
		return 0, fmt.Errorf("partlog: stream %s: %w", StreamName(p), err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("partlog: stream %s: %w", StreamName(p), err)
	}
	if info.Cluster != nil && info.Cluster.Leader == "" {
		return info.State.LastSeq, fmt.Errorf("%w (stream %s, last sequence %d at the replica that answered)", ErrNoLeader, StreamName(p), info.State.LastSeq)
	}
	return info.State.LastSeq, nil
}
