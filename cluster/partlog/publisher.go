package partlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/wal"
)

// Publisher limits.
const (
	// DefaultMaxRecords caps the records of one message: the measured batch size of a
	// saturated partition (docs/cluster.md, "Decisions").
	DefaultMaxRecords = 64
	// DefaultMaxBytes keeps a message below the NATS server's default max_payload (1 MiB).
	DefaultMaxBytes = 1<<20 - 4<<10
	// DefaultPublishTimeout bounds one publish; past it the outcome is unknown.
	DefaultPublishTimeout = 10 * time.Second
	// NodeHeader names the publishing node on every message.
	NodeHeader = "Engram-Node"
)

// ErrFenced: the stream's last sequence was not the one this publisher wrote last, so
// another node has written the partition. It wraps engine.ErrNotOwner.
var ErrFenced = fmt.Errorf("%w: another node wrote the partition's stream", engine.ErrNotOwner)

// ErrOutcomeUnknown: a publish got no answer (the stream lost its leader, or this node its
// server), so its records may or may not be in the stream. The partition is resigned and
// caught up again before this node writes it, as after ErrFenced, so to the client it is a
// partition on the move: it wraps engine.ErrNotOwner (503 with Retry-After), and a remember
// retried with the same Idempotency-Key is stored once.
var ErrOutcomeUnknown = fmt.Errorf("%w: the partition's stream did not answer a publish, its outcome is unknown", engine.ErrNotOwner)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	Partition int
	NodeID    string
	// LastSeq is the stream's last sequence when the partition was taken, everything up to
	// it copied into the local logs: the first message expects it.
	LastSeq    uint64
	MaxRecords int           // 0 is DefaultMaxRecords
	MaxBytes   int           // 0 is DefaultMaxBytes
	Timeout    time.Duration // 0 is DefaultPublishTimeout
	// OnLost is called once, on its own goroutine, when the publisher stops by itself: a
	// publish was fenced (another node writes the partition) or failed with an unknown
	// outcome, or a local log diverged from the stream. The partition must be resigned and
	// caught up again before this node writes it.
	OnLost func(err error)
	Logger *slog.Logger
}

// Publisher is the only writer of a partition's stream while this node leads it. Spaces'
// logs hand it their batches (Replicator); it gathers what waits from all of them into one
// message of at most MaxRecords records and MaxBytes bytes, publishes it with
// Nats-Expected-Last-Sequence set to the last sequence it knows, and has one message in
// flight at a time. A log's batch larger than a message is split at frame boundaries.
type Publisher struct {
	js  jetstream.JetStream
	cfg PublisherConfig

	mu      sync.Mutex
	queue   []*request
	lastSeq uint64
	err     error // why the publisher takes nothing more; set once
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	messages, records uint64
}

// request is one log batch, creation or deletion waiting to be published.
type request struct {
	kind    Kind
	space   string
	rest    []byte // frames or settings not yet taken into a message
	records int    // frames in rest
	taken   bool   // part of it went into a message already
	done    chan error
}

// StartPublisher starts the publisher of a partition this node has just taken.
func StartPublisher(js jetstream.JetStream, cfg PublisherConfig) *Publisher {
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = DefaultMaxRecords
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultPublishTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Publisher{js: js, cfg: cfg, lastSeq: cfg.LastSeq,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

// LastSeq is the sequence of the last message this publisher had acknowledged (or the
// sequence it started from).
func (p *Publisher) LastSeq() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastSeq
}

// Stats counts the messages and records published.
func (p *Publisher) Stats() (messages, records uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.messages, p.records
}

// Err is why the publisher stopped, or nil while it runs.
func (p *Publisher) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop stops the publisher at once: what waits fails with engine.ErrNotOwner; a message
// in flight is waited for, and its writers get its outcome. Stop is idempotent.
func (p *Publisher) Stop() {
	p.fail(fmt.Errorf("%w: partition %d resigned", engine.ErrNotOwner, p.cfg.Partition), false)
	<-p.done
}

// Replicator returns the wal.Replicator of space's log.
func (p *Publisher) Replicator(space string) wal.Replicator { return replicator{p, space} }

type replicator struct {
	p     *Publisher
	space string
}

func (r replicator) Replicate(frames []byte, records int, _, _ uint64) error {
	return r.p.submit(KindFrames, r.space, frames, records)
}

func (r replicator) Diverged(err error) {
	r.p.fail(fmt.Errorf("partlog: space %q: the local log lacks records the stream has: %w", r.space, err), true)
}

// Create publishes the creation of space with settings and returns once it is in the stream.
func (p *Publisher) Create(space string, settings engine.SpaceSettings) error {
	b, err := json.Marshal(settings)
	if err != nil {
		return fmt.Errorf("partlog: settings of %q: %w", space, err)
	}
	return p.submit(KindCreate, space, b, 0)
}

// Delete publishes the deletion of space and returns once it is in the stream.
func (p *Publisher) Delete(space string) error { return p.submit(KindDelete, space, nil, 0) }

// submit queues a section and waits until the messages holding it are acknowledged.
func (p *Publisher) submit(kind Kind, space string, body []byte, records int) error {
	r := &request{kind: kind, space: space, rest: body, records: records, done: make(chan error, 1)}
	p.mu.Lock()
	if p.err != nil {
		err := p.err
		p.mu.Unlock()
		return err
	}
	p.queue = append(p.queue, r)
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return <-r.done
}

// fail stops the publisher with err: queued requests get it, later ones too (a request
// whose last part is in the message in flight gets that message's outcome). lost says the
// publisher stopped by itself, so OnLost is told.
func (p *Publisher) fail(err error, lost bool) {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return
	}
	p.err = err
	queue := p.queue
	p.queue = nil
	close(p.stop)
	p.mu.Unlock()
	for _, r := range queue {
		// A request split over messages may have parts in the stream: its writers learn
		// only that it failed, and the partition is caught up again before it is written.
		r.done <- err
	}
	if lost {
		p.cfg.Logger.Error("partition lost", "partition", p.cfg.Partition, "err", err)
		if p.cfg.OnLost != nil {
			go p.cfg.OnLost(err)
		}
	}
}

// run publishes what waits, one message at a time, until the publisher stops.
func (p *Publisher) run() {
	defer close(p.done)
	var buf []byte
	for {
		select {
		case <-p.stop:
			return
		case <-p.kick:
		}
		for {
			sections, taken, finished, lost := p.take()
			if lost != nil {
				p.fail(lost, true)
				return
			}
			if len(sections) == 0 {
				break
			}
			buf = AppendBatch(buf[:0], sections)
			err := p.publish(buf, taken)
			p.complete(finished, err)
			if err != nil {
				return
			}
		}
	}
}

// take builds the next message from the queue: its sections, the records in it, and the
// requests it finishes (those whose last part it holds). lost is set when a request that
// cannot be published has parts in the stream already.
func (p *Publisher) take() (sections []Section, records int, finished []*request, lost error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, 0, nil, nil
	}
	size := batchHeader + batchTrailer
	for len(p.queue) > 0 {
		r := p.queue[0]
		over := size + sectionHeader + len(r.space) + 4
		n, recs := len(r.rest), r.records
		if records+recs > p.cfg.MaxRecords || over+n > p.cfg.MaxBytes {
			// Only part of it fits: whole frames, as many as the limits allow.
			n, recs = 0, 0
			for n < len(r.rest) && records+recs < p.cfg.MaxRecords {
				l := wal.FrameLen(r.rest[n:])
				if over+n+l > p.cfg.MaxBytes {
					break
				}
				n += l
				recs++
			}
			if r.kind != KindFrames || n == 0 {
				if len(sections) > 0 {
					break // it goes first into the next message
				}
				// Alone, it still does not fit: refuse it rather than publish a message
				// the server would reject.
				err := fmt.Errorf("%w: a %s section of %d bytes does not fit a message of %d bytes", engine.ErrInvalidInput, r.kind, len(r.rest), p.cfg.MaxBytes)
				if r.taken {
					return nil, 0, nil, err
				}
				p.queue = p.queue[1:]
				r.done <- err
				continue
			}
		}
		s := Section{Kind: r.kind, Space: r.space}
		if r.kind == KindCreate {
			s.Settings = r.rest[:n]
		} else {
			s.Frames = r.rest[:n]
		}
		sections = append(sections, s)
		r.rest, r.records = r.rest[n:], r.records-recs
		r.taken = true
		records += recs
		size = over + n
		if r.records > 0 || (r.kind == KindFrames && len(r.rest) > 0) {
			break // the rest of it goes into the next message
		}
		p.queue = p.queue[1:]
		finished = append(finished, r)
	}
	return sections, records, finished, nil
}

// publish sends one message expecting the last sequence known, and notes the new one.
func (p *Publisher) publish(msg []byte, records int) error {
	p.mu.Lock()
	last := p.lastSeq
	p.mu.Unlock()
	m := nats.NewMsg(Subject(p.cfg.Partition))
	m.Data = msg
	m.Header.Set(NodeHeader, p.cfg.NodeID)
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
	ack, err := p.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequence(last))
	cancel()
	if err != nil {
		if isWrongLastSequence(err) {
			err = fmt.Errorf("%w (partition %d, expected last sequence %d): %v", ErrFenced, p.cfg.Partition, last, err)
		} else {
			// The message may or may not be in the stream: only a catch-up can tell.
			err = fmt.Errorf("%w (partition %d): %v", ErrOutcomeUnknown, p.cfg.Partition, err)
		}
		p.fail(err, true)
		return err
	}
	p.mu.Lock()
	p.lastSeq = ack.Sequence
	p.messages++
	p.records += uint64(records)
	p.mu.Unlock()
	return nil
}

// complete answers the requests a message finished with its outcome.
func (p *Publisher) complete(finished []*request, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range finished {
		r.done <- err
	}
}

func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}
