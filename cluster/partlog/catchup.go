package partlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/engram-go/engram/engine"
)

// CatchUpStats describes one catch-up.
type CatchUpStats struct {
	From, To uint64 // stream sequences copied: From+1 to To (none when equal)
	Messages int
	Frames   int // frames copied into local logs; frames the logs held already are not counted
}

// CatchUp copies partition p's stream into e's local spaces, from the message after the
// applied sequence recorded under dataRoot to the stream's last message at the time of the
// call: creations and deletions of spaces, and frames appended to the spaces' logs (those
// whose LSN a log holds already skipped). The spaces of p must be closed here (p not led by
// this node); they open later through the engine's ordinary recovery. The applied sequence
// is recorded only after everything copied is durable, so an interrupted catch-up is
// simply done again.
func CatchUp(ctx context.Context, js jetstream.JetStream, e *engine.Engine, dataRoot string, p int, logger *slog.Logger) (CatchUpStats, error) {
	var st CatchUpStats
	applied, err := ReadApplied(dataRoot, p)
	if err != nil {
		return st, err
	}
	last, err := lastAtLeast(ctx, js, p, applied)
	if err != nil {
		return st, err
	}
	logger.Debug("stream's end read", "partition", p, "applied", applied, "last", last)
	st.From, st.To = applied, applied
	if last == applied {
		return st, nil
	}
	var cons jetstream.Consumer
	err = askAgain(ctx, func(ctx context.Context) error {
		s, err := js.Stream(ctx, StreamName(p))
		if err == nil {
			cons, err = s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
				FilterSubjects: []string{Subject(p)},
				DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
				OptStartSeq:    applied + 1,
			})
		}
		return err
	})
	if err != nil {
		return st, fmt.Errorf("partlog: read stream %s: %w", StreamName(p), err)
	}
	logger.Debug("reading stream", "partition", p, "from", applied+1, "to", last)
	asked := time.Now()
	it, err := cons.Messages(jetstream.PullHeartbeat(catchUpHeartbeat))
	if err != nil {
		return st, fmt.Errorf("partlog: read stream %s: %w", StreamName(p), err)
	}
	defer it.Stop()

	cu := e.BeginCatchUp()
	copied := func() error { return cu.Close() }
	for st.To < last {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return st, errors.Join(fmt.Errorf("partlog: read stream %s after %d: %w", StreamName(p), st.To, err), copied())
		}
		md, err := msg.Metadata()
		if err != nil {
			return st, errors.Join(fmt.Errorf("partlog: stream %s: %w", StreamName(p), err), copied())
		}
		seq := md.Sequence.Stream
		if st.Messages == 0 {
			// Over a heartbeat means the first pull went unanswered (catchUpHeartbeat).
			logger.Debug("stream's first message read", "partition", p, "sequence", seq, "after", time.Since(asked).Round(time.Millisecond))
		}
		n, err := apply(cu, e, msg.Data(), logger)
		if err != nil {
			return st, errors.Join(fmt.Errorf("partlog: stream %s message %d: %w", StreamName(p), seq, err), copied())
		}
		st.To = seq
		st.Messages++
		st.Frames += n
	}
	if err := copied(); err != nil {
		return st, err
	}
	if err := writeApplied(dataRoot, p, st.To); err != nil {
		return st, err
	}
	return st, nil
}

// catchUpHeartbeat is the idle heartbeat asked of the server while reading a stream, the
// shortest the client accepts. The first pull of a consumer just created can find no
// responder at this node's server (the consumer's host, another server, has answered the
// create before its interest in pulls arrived here): the client passes the "no responders"
// status over and waits for messages that never come. Such a pull is taken for lost after
// two heartbeats, and the ordered consumer is then recreated from the last sequence read.
// With the client's default of 5 s for ordered consumers, each such pull held a catch-up,
// and so a drain or failover, for 10 s.
const catchUpHeartbeat = 500 * time.Millisecond

// shortReadFor bounds how long a stream answering a last sequence below what this node
// applied is read again before that is taken for a stream recreated or purged.
const shortReadFor = 5 * time.Second

// lastAtLeast is the stream's last sequence as its leader knows it, which must not be
// below applied. A replica answering for a leaderless stream (ErrNoLeader) is asked again
// until a leader answers or ctx ends: catching up only to what a replica holds would let
// this node serve the partition without writes the stream acknowledged. And right after a
// NATS server rejoined with an empty store (a replaced machine), a short answer was seen
// as well: lower than what this node already copied from the stream, and higher again a
// moment later. So a short answer is read again for a while; only one that stays short
// means the stream was recreated or purged.
func lastAtLeast(ctx context.Context, js jetstream.JetStream, p int, applied uint64) (uint64, error) {
	deadline := time.Now().Add(shortReadFor)
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		last, err := LastSequence(ctx, js, p)
		switch {
		case errors.Is(err, ErrNoLeader):
		case err != nil || last >= applied:
			return last, err
		case time.Now().After(deadline):
			return last, fmt.Errorf("partlog: stream %s ends at sequence %d, before the %d applied here: it was recreated or purged", StreamName(p), last, applied)
		default:
			err = fmt.Errorf("partlog: stream %s ends at sequence %d, before the %d applied here", StreamName(p), last, applied)
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%w: %w", err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// apply copies one message's sections into the local spaces and returns the frames copied.
func apply(cu *engine.CatchUp, e *engine.Engine, msg []byte, logger *slog.Logger) (int, error) {
	sections, err := DecodeBatch(msg)
	if err != nil {
		return 0, err
	}
	copied := 0
	for _, s := range sections {
		switch s.Kind {
		case KindCreate:
			var settings engine.SpaceSettings
			if err := json.Unmarshal(s.Settings, &settings); err != nil {
				return copied, fmt.Errorf("space %q: settings: %w", s.Space, err)
			}
			if err := cu.Create(s.Space, settings); err != nil {
				return copied, err
			}
		case KindDelete:
			if err := cu.Delete(s.Space); err != nil {
				return copied, err
			}
		case KindFrames:
			if _, err := e.Space(s.Space); errors.Is(err, engine.ErrSpaceNotFound) {
				// Its creation is not in the part of the stream this node reads: keep the
				// records under the defaults rather than lose them.
				logger.Warn("stream holds records of a space it never created; creating it with the defaults", "space", s.Space)
				if err := cu.Create(s.Space, engine.SpaceSettings{}); err != nil {
					return copied, err
				}
			}
			n, err := cu.Append(s.Space, s.Frames)
			copied += n
			if err != nil {
				return copied, err
			}
		}
	}
	return copied, nil
}
