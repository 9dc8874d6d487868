package partlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
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
	var s jetstream.Stream
	err := askAgain(ctx, func(ctx context.Context) (err error) {
		s, err = js.CreateStream(ctx, StreamConfig(p, replicas))
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = js.Stream(ctx, StreamName(p))
		}
		return err
	})
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
	var info *jetstream.StreamInfo
	err := askAgain(ctx, func(ctx context.Context) error {
		s, err := js.Stream(ctx, StreamName(p))
		if err == nil {
			info, err = s.Info(ctx)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("partlog: stream %s: %w", StreamName(p), err)
	}
	if info.Cluster != nil && info.Cluster.Leader == "" {
		return info.State.LastSeq, fmt.Errorf("%w (stream %s, last sequence %d at the replica that answered)", ErrNoLeader, StreamName(p), info.State.LastSeq)
	}
	return info.State.LastSeq, nil
}

// askAgain runs call until it is answered or ctx ends, each attempt with a limit of its
// own: 1 s at first, doubling up to the client's usual 5 s. While a stream or JetStream's
// meta layer has no leader — an election takes 4-9 s after the server leading it is lost —
// requests go unanswered or are refused as unavailable; a request asked again soon after
// the election ends is answered seconds before one that waits out a long limit set before
// it. Answers that are not about availability (a refusal, not found) return at once.
func askAgain(ctx context.Context, call func(context.Context) error) error {
	for limit := time.Second; ; limit = min(2*limit, 5*time.Second) {
		actx, cancel := context.WithTimeout(ctx, limit)
		start := time.Now()
		err := call(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !unanswered(err) {
			return err
		}
		// A refusal as unavailable comes at once: do not ask again at once.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(max(0, 200*time.Millisecond-time.Since(start))):
		}
	}
}

// unanswered reports whether err says a JetStream request was not answered, or refused
// because the API or the stream has no leader yet.
func unanswered(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.Code == 503
}
