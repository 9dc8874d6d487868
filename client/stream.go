package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Streams of Subscribe.
const (
	// StreamActivities carries storage, recall, activation, forget and consolidation.
	StreamActivities = "activities"
	// StreamMemories carries formation and retrieval.
	StreamMemories = "memories"
	// StreamConsolidation carries consolidation: each semantic memory formed.
	StreamConsolidation = "consolidation"
	// StreamMonitorEvents carries every event type of the space.
	StreamMonitorEvents = "monitoring/events"
	// StreamMonitorActivations carries retrieval and activation: every memory a recall
	// activated, directly or by spreading.
	StreamMonitorActivations = "monitoring/activations"
	// StreamMonitorCausality carries activation alone: the spreading chains.
	StreamMonitorCausality = "monitoring/causality"
)

// streamPath is the route of a stream.
func streamPath(stream string) (string, bool) {
	switch stream {
	case StreamActivities, StreamMemories, StreamConsolidation:
		return "/api/v1/stream/" + stream, true
	case StreamMonitorEvents, StreamMonitorActivations, StreamMonitorCausality:
		return "/api/v1/" + stream, true
	}
	return "", false
}

// StreamOptions select a stream's events and its starting point.
type StreamOptions struct {
	EventTypes    []string // of the stream's types; empty = all
	MinImportance float32
	// After, when set, replays the buffered events after this id (0: the whole buffer);
	// nil starts with new events only.
	After *uint64
}

// streamTuning bounds reconnection.
type streamTuning struct {
	minDelay, maxDelay time.Duration
	maxFailures        int // consecutive failed reconnections before Next gives up
}

var defaultStreamTuning = streamTuning{minDelay: 100 * time.Millisecond, maxDelay: 5 * time.Second, maxFailures: 10}

// Message is one item of a stream: an Event or a Warning.
type Message struct {
	Event   *Event
	Warning *Warning
}

// Subscription is an open event stream of one space. It is used by one goroutine.
type Subscription struct {
	c      *Client
	ctx    context.Context
	cancel context.CancelFunc
	path   string
	query  url.Values
	last   uint64 // id of the last event received
	resume bool   // last is a resume point
	body   io.ReadCloser
	rd     *bufio.Reader
	// Reconnects counts the connections made after the first.
	Reconnects int
}

// Subscribe opens a stream (one of the Stream constants) of the client's space.
// Next reads it; after a dropped connection Next reconnects with Last-Event-ID set to
// the last event it returned, so that the server replays what was missed from its
// buffer (or sends a Warning saying what was lost). A stream opened without After that
// drops before its first event reconnects for new events only: it has no id to resume
// from. Close ends it, as does ctx.
func (c *Client) Subscribe(ctx context.Context, stream string, opts StreamOptions) (*Subscription, error) {
	path, ok := streamPath(stream)
	if !ok {
		return nil, fmt.Errorf("client: unknown stream %q (want one of %s)", stream, strings.Join([]string{StreamActivities, StreamMemories,
			StreamConsolidation, StreamMonitorEvents, StreamMonitorActivations, StreamMonitorCausality}, ", "))
	}
	q := url.Values{}
	if len(opts.EventTypes) > 0 {
		q.Set("event_types", strings.Join(opts.EventTypes, ","))
	}
	if opts.MinImportance > 0 {
		q.Set("min_importance", strconv.FormatFloat(float64(opts.MinImportance), 'g', -1, 32))
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Subscription{c: c, ctx: ctx, cancel: cancel, path: path, query: q}
	if opts.After != nil {
		s.last, s.resume = *opts.After, true
	}
	if err := s.connect(); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// LastEventID is the id of the last event Next returned (or the starting point).
func (s *Subscription) LastEventID() uint64 { return s.last }

// Close ends the stream.
func (s *Subscription) Close() error {
	s.cancel()
	if s.body != nil {
		return s.body.Close()
	}
	return nil
}

func (s *Subscription) connect() error {
	cl := call{method: http.MethodGet, path: s.path, query: s.query}
	if s.resume {
		cl.header = http.Header{"Last-Event-Id": {strconv.FormatUint(s.last, 10)}}
	}
	resp, err := s.c.send(s.ctx, cl)
	if err != nil {
		return err
	}
	if s.body != nil {
		s.body.Close()
	}
	s.body, s.rd = resp.Body, bufio.NewReader(resp.Body)
	return nil
}

// Next returns the next event or warning, reconnecting after a dropped connection. It
// returns an error when ctx ends, Close was called, the server refuses the stream (an
// *Error) or reconnecting failed too many times in a row.
func (s *Subscription) Next() (Message, error) {
	failures := 0
	delay := s.c.events.minDelay
	for {
		m, err := s.read()
		if err == nil {
			return m, nil
		}
		if s.ctx.Err() != nil {
			return Message{}, s.ctx.Err()
		}
		// The stream ended or broke: reconnect from the last event.
		for {
			if failures >= s.c.events.maxFailures {
				return Message{}, fmt.Errorf("client: stream %s: %d reconnections failed: %w", s.path, failures, err)
			}
			if serr := s.c.sleep(s.ctx, delay); serr != nil {
				return Message{}, serr
			}
			delay = min(2*delay, s.c.events.maxDelay)
			if err = s.connect(); err == nil {
				s.Reconnects++
				break
			}
			var apiErr *Error
			if errors.As(err, &apiErr) {
				return Message{}, err // refused, not dropped
			}
			failures++
		}
	}
}

// read parses frames until one event or warning is complete.
func (s *Subscription) read() (Message, error) {
	var id, typ string
	var data strings.Builder
	hasID := false
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			return Message{}, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if data.Len() == 0 && typ == "" {
				continue // a comment's end, or a frame without data
			}
			return s.dispatch(typ, id, hasID, data.String())
		case strings.HasPrefix(line, ":"):
			// comment: the greeting and keep-alives
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				id, hasID = value, true
			case "event":
				typ = value
			case "data":
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.WriteString(value)
			}
		}
	}
}

func (s *Subscription) dispatch(typ, id string, hasID bool, data string) (Message, error) {
	if typ == "warning" {
		var w Warning
		if err := json.Unmarshal([]byte(data), &w); err != nil {
			return Message{}, fmt.Errorf("client: stream %s: bad warning %q: %w", s.path, data, err)
		}
		return Message{Warning: &w}, nil
	}
	ev := Event{Data: json.RawMessage(data)}
	if err := json.Unmarshal([]byte(data), &ev); err != nil {
		return Message{}, fmt.Errorf("client: stream %s: bad event %q: %w", s.path, data, err)
	}
	if hasID {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return Message{}, fmt.Errorf("client: stream %s: bad event id %q", s.path, id)
		}
		ev.ID = n
		s.last, s.resume = n, true
	}
	if ev.Type == "" {
		ev.Type = typ
	}
	return Message{Event: &ev}, nil
}
