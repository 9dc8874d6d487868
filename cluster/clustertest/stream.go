package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/engram-go/engram/cluster"
	"github.com/engram-go/engram/cluster/partlog"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
)

// streamName is the stream of partition p (docs/cluster.md).
func streamName(p int) string { return fmt.Sprintf("ENGRAM_P%d", p) }

// streamFold is the state a node rebuilding from the streams would reach: per space, the
// memories its frames leave, applied as catch-up applies them (a frame whose LSN the space
// already has is skipped).
type streamFold struct {
	lastLSN  map[string]uint64
	frames   map[string]map[uint64][]byte // space → LSN → raw frame, to tell a repeat from a conflict
	memories map[string]map[string]Memory // space → id → memory
	view     View
}

func newStreamFold() *streamFold {
	return &streamFold{lastLSN: map[string]uint64{}, frames: map[string]map[uint64][]byte{},
		memories: map[string]map[string]Memory{}, view: View{Name: "streams"}}
}

// message folds one stream message of partition p.
func (f *streamFold) message(p, partitions int, seq uint64, data []byte) error {
	sections, err := partlog.DecodeBatch(data)
	if err != nil {
		return fmt.Errorf("clustertest: %s seq %d: %w", streamName(p), seq, err)
	}
	for _, s := range sections {
		if got := cluster.PartitionOf(s.Space, partitions); got != p {
			f.view.WrongPartition++
			f.view.examples = append(f.view.examples, fmt.Sprintf("space %s (partition %d) in %s seq %d", s.Space, got, streamName(p), seq))
		}
		switch s.Kind {
		case partlog.KindDelete:
			delete(f.memories, s.Space)
			delete(f.frames, s.Space)
			delete(f.lastLSN, s.Space)
		case partlog.KindFrames:
			if err := wal.EachFrame(s.Frames, func(fr wal.Frame) error { return f.frame(p, seq, s.Space, fr) }); err != nil {
				return fmt.Errorf("clustertest: %s seq %d space %s: %w", streamName(p), seq, s.Space, err)
			}
		}
	}
	return nil
}

func (f *streamFold) frame(p int, seq uint64, space string, fr wal.Frame) error {
	if f.frames[space] == nil {
		f.frames[space] = map[uint64][]byte{}
	}
	if fr.LSN <= f.lastLSN[space] {
		if prev, ok := f.frames[space][fr.LSN]; ok && bytes.Equal(prev, fr.Raw) {
			f.view.Rerecorded++
		} else {
			// Another record under an LSN the space already has: a node applying the
			// stream skips it, so whatever it holds is not in the fold.
			f.view.Conflicts++
			f.view.examples = append(f.view.examples, fmt.Sprintf("space %s LSN %d written twice with different records", space, fr.LSN))
		}
		return nil
	}
	f.lastLSN[space] = fr.LSN
	f.frames[space][fr.LSN] = bytes.Clone(fr.Raw)
	switch fr.Type {
	case record.TypeRemember:
		m, err := record.DecodeMemory(fr.Payload)
		if err != nil {
			return fmt.Errorf("remember at LSN %d: %w", fr.LSN, err)
		}
		if f.memories[space] == nil {
			f.memories[space] = map[string]Memory{}
		}
		f.memories[space][m.ID] = Memory{Space: space, ID: m.ID, Content: m.Content, Partition: p, Seq: seq}
	case record.TypeForget:
		id, err := record.DecodeForget(fr.Payload)
		if err != nil {
			return fmt.Errorf("forget at LSN %d: %w", fr.LSN, err)
		}
		delete(f.memories[space], id)
	}
	return nil
}

// StreamView reads every partition stream from its first message to its last and folds
// it. A stream whose first sequence is not 1 has lost history, which is an error: the
// streams discard nothing (DiscardNew).
func StreamView(ctx context.Context, c *Cluster) (View, error) {
	js, err := c.JetStream()
	if err != nil {
		return View{}, err
	}
	f := newStreamFold()
	for p := range c.Partitions() {
		if err := readStream(ctx, js, p, c.Partitions(), f); err != nil {
			return f.view, err
		}
	}
	for _, ms := range f.memories {
		for _, m := range ms {
			f.view.Memories = append(f.view.Memories, m)
		}
	}
	return f.view, nil
}

func readStream(ctx context.Context, js jetstream.JetStream, p, partitions int, f *streamFold) error {
	name := streamName(p)
	st, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil // nothing was ever written to this partition
	}
	if err != nil {
		return fmt.Errorf("clustertest: %s: %w", name, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("clustertest: %s: %w", name, err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	if info.State.FirstSeq != 1 {
		return fmt.Errorf("clustertest: %s starts at sequence %d: history was removed", name, info.State.FirstSeq)
	}
	// A fetch can fail while the cluster settles (no responders while a stream's leader
	// moves): the reader then starts a new consumer where it stopped.
	var last error
	for next := uint64(1); next <= info.State.LastSeq; {
		if ctx.Err() != nil {
			return fmt.Errorf("clustertest: %s: read up to %d of %d: %w (last error: %v)", name, next-1, info.State.LastSeq, ctx.Err(), last)
		}
		n, err := readFrom(ctx, st, next, p, partitions, f)
		next += n
		if err != nil {
			var fold *foldError
			if errors.As(err, &fold) {
				return err
			}
			last = err
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

// foldError is a message that does not fold: no retry reads it otherwise.
type foldError struct{ err error }

func (e *foldError) Error() string { return e.err.Error() }
func (e *foldError) Unwrap() error { return e.err }

// readFrom folds messages from sequence next on until a fetch comes back empty or fails,
// and returns how many it folded.
func readFrom(ctx context.Context, st jetstream.Stream, next uint64, p, partitions int, f *streamFold) (uint64, error) {
	name := streamName(p)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: next})
	if err != nil {
		return 0, fmt.Errorf("clustertest: %s: consumer at %d: %w", name, next, err)
	}
	var folded uint64
	for {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return folded, fmt.Errorf("clustertest: %s: fetch at %d: %w", name, next+folded, err)
		}
		got := 0
		for msg := range batch.Messages() {
			md, err := msg.Metadata()
			if err != nil {
				return folded, fmt.Errorf("clustertest: %s: %w", name, err)
			}
			if seq := md.Sequence.Stream; seq != next+folded {
				return folded, fmt.Errorf("clustertest: %s: sequence %d where %d was due", name, seq, next+folded)
			}
			if err := f.message(p, partitions, next+folded, msg.Data()); err != nil {
				return folded, &foldError{err}
			}
			folded++
			got++
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return folded, fmt.Errorf("clustertest: %s: fetch at %d: %w", name, next+folded, err)
		}
		if got == 0 || ctx.Err() != nil {
			return folded, nil
		}
	}
}
