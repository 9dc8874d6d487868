package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/frontend"
)

// handleStream serves an SSE stream of one space's events of the given types. Frames are
// "id: <n>\nevent: <type>\ndata: <json>\n\n"; a comment keeps the connection alive. A
// Last-Event-ID header (or ?last_event_id=) resumes from the space's bounded buffer, with
// a warning event when events were missed. A subscriber that falls behind is cut by the
// engine (writers never wait for it): it receives a final warning event, then the stream
// ends.
func (s *Server) handleStream(types []engine.EventType) handlerFunc {
	return func(rq *request) error {
		args := rq.ctx.QueryArgs()
		var names []string
		if v := string(args.Peek("event_types")); strings.TrimSpace(v) != "" {
			names = splitList(v)
		}
		minImportance := 0.0
		if v := args.Peek("min_importance"); len(v) > 0 {
			x, err := strconv.ParseFloat(strings.TrimSpace(string(v)), 32)
			if err != nil || !(x >= 0 && x <= 1) {
				return badRequest("min_importance must be a number between 0 and 1, got %q", v)
			}
			minImportance = x
		}
		f, err := frontend.NewEventFilter(types, names, minImportance)
		if err != nil {
			return err
		}
		after, resume, err := lastEventID(rq)
		if err != nil {
			return err
		}
		id, err := rq.spaceID("")
		if err == nil {
			err = rq.route(id)
		}
		if err != nil {
			return err
		}
		// A subscriber waits for writes: subscribing creates the space (when auto-create
		// is on) so that the events of its first writes are not lost. See docs/api.md.
		sp, err := frontend.SpaceForWrite(s.eng, id)
		if err != nil {
			return err
		}
		var sub *engine.Subscription
		if resume {
			sub = sp.Resume(after)
		} else {
			sub = sp.Subscribe(0)
		}
		reset := after > sp.LastEventID()

		h := &rq.ctx.Response.Header
		h.SetContentType("text/event-stream; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		h.Set("X-Memory-Space", sp.ID())
		rq.ctx.SetStatusCode(200)
		keepAlive := s.KeepAlive
		if keepAlive <= 0 {
			keepAlive = DefaultKeepAlive
		}
		rq.ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
			defer sub.Close()
			p := pump{w: w, space: sp.ID(), last: after}
			p.comment(fmt.Sprintf("engram event stream of space %s", sp.ID()))
			if reset {
				p.warning("reset", fmt.Sprintf("event id %d is ahead of the newest event %d of this space: ids restarted (server restart); earlier events are gone", after, sp.LastEventID()), 0)
			}
			if sub.Missed > 0 {
				p.warning("missed", fmt.Sprintf("%d events after id %d were no longer buffered and are lost", sub.Missed, after), sub.Missed)
			}
			if p.flush() != nil {
				return
			}
			tick := time.NewTicker(keepAlive)
			defer tick.Stop()
			for {
				select {
				case ev, ok := <-sub.C:
					if !ok {
						if sub.Lagged() {
							p.warning("lagged", "this subscriber fell behind and was disconnected; reconnect with Last-Event-ID to resume", 0)
							_ = p.flush()
						}
						return
					}
					p.event(&ev, f)
					// Send what is already queued in one write.
					for more := true; more; {
						select {
						case ev, ok := <-sub.C:
							if !ok {
								more = false
								break
							}
							p.event(&ev, f)
						default:
							more = false
						}
					}
					if p.flush() != nil {
						return
					}
				case <-tick.C:
					p.comment("keep-alive")
					if p.flush() != nil {
						return
					}
				case <-s.done:
					return
				}
			}
		})
		return nil
	}
}

// lastEventID reads the resume point: the Last-Event-ID header, else ?last_event_id=.
// resume is false when neither is given (live events only); "0" replays every buffered
// event.
func lastEventID(rq *request) (after uint64, resume bool, err error) {
	v := strings.TrimSpace(string(rq.ctx.Request.Header.Peek("Last-Event-ID")))
	src := "Last-Event-ID header"
	if v == "" {
		v = strings.TrimSpace(string(rq.ctx.QueryArgs().Peek("last_event_id")))
		src = "last_event_id parameter"
	}
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, badRequest("the %s must be an event id (a non-negative integer), got %q", src, v)
	}
	return n, true, nil
}

// pump writes SSE frames into the response stream.
type pump struct {
	w     *bufio.Writer
	space string
	last  uint64 // id of the last event sent
	err   error
}

func (p *pump) comment(text string) {
	p.write(": " + text + "\n\n")
}

func (p *pump) event(ev *engine.Event, f *frontend.EventFilter) {
	if ev.Space != p.space || !f.Want(ev) {
		return
	}
	payload := make(map[string]any, len(ev.Data)+8)
	ev.CopyFields(payload)
	payload["event_type"] = string(ev.Type)
	payload["memory_space_id"] = ev.Space
	if ev.MemoryID != "" {
		payload["memory_id"] = ev.MemoryID
	}
	payload["timestamp"] = jsonTime(ev.Time)
	payload["importance"] = finite32(ev.Importance)
	data, err := json.Marshal(payload)
	if err != nil {
		data, _ = json.Marshal(map[string]any{"event_type": string(ev.Type), "memory_space_id": ev.Space, "memory_id": ev.MemoryID})
	}
	p.last = ev.ID
	p.write("id: " + strconv.FormatUint(ev.ID, 10) + "\nevent: " + string(ev.Type) + "\ndata: " + string(data) + "\n\n")
}

// warning sends a warning event. It carries no id line, so that the client's
// Last-Event-ID stays at the last real event.
func (p *pump) warning(reason, message string, missed uint64) {
	data, _ := json.Marshal(map[string]any{
		"memory_space_id": p.space, "reason": reason, "message": message,
		"missed": missed, "last_event_id": p.last,
	})
	p.write("event: warning\ndata: " + string(data) + "\n\n")
}

func (p *pump) write(s string) {
	if p.err == nil {
		_, p.err = p.w.WriteString(s)
	}
}

func (p *pump) flush() error {
	if p.err == nil {
		p.err = p.w.Flush()
	}
	return p.err
}
