package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engram-go/engram/engine"
)

// sseEvent is one parsed frame.
type sseEvent struct {
	id    string
	event string
	data  map[string]any
}

// sseStream reads frames of an open stream.
type sseStream struct {
	t        *testing.T
	resp     *http.Response
	sc       *bufio.Scanner
	comments []string
}

func (ts *testServer) stream(t *testing.T, path string, header ...string) *sseStream {
	t.Helper()
	hr, err := http.NewRequest(http.MethodGet, "http://engram.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range pairs(header) {
		hr.Header.Set(k, v)
	}
	resp, err := ts.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	s := &sseStream{t: t, resp: resp, sc: bufio.NewScanner(resp.Body)}
	s.sc.Buffer(make([]byte, 64<<10), 1<<20)
	return s
}

// next returns the next event frame, collecting comments on the way; ok is false when the
// stream ended.
func (s *sseStream) next() (sseEvent, bool) {
	s.t.Helper()
	var ev sseEvent
	have := false
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if have {
				return ev, true
			}
		case strings.HasPrefix(line, ":"):
			s.comments = append(s.comments, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "id: "):
			ev.id, have = line[4:], true
		case strings.HasPrefix(line, "event: "):
			ev.event, have = line[7:], true
		case strings.HasPrefix(line, "data: "):
			have = true
			if err := json.Unmarshal([]byte(line[6:]), &ev.data); err != nil {
				s.t.Fatalf("data is not JSON: %v: %s", err, line)
			}
		}
	}
	return ev, false
}

func (s *sseStream) mustNext() sseEvent {
	s.t.Helper()
	ev, ok := s.next()
	if !ok {
		s.t.Fatalf("stream ended: %v", s.sc.Err())
	}
	return ev
}

func TestStreamIsolation(t *testing.T) {
	ts := newTestServer(t)
	ts.remember(t, "creates space-a", "X-Memory-Space", "space-a")
	a := ts.stream(t, "/api/v1/stream/activities", "X-Memory-Space", "space-a")
	mem := ts.stream(t, "/api/v1/stream/memories?space=space-a")

	ts.remember(t, "written in b first", "X-Memory-Space", "space-b")
	idA := ts.remember(t, "written in a", "X-Memory-Space", "space-a")

	ev := a.mustNext()
	if ev.event != "storage" {
		t.Fatalf("event %q, want storage", ev.event)
	}
	if ev.data["memory_space_id"] != "space-a" || ev.data["memory_id"] != idA {
		t.Fatalf("first activity %v: space-b's write leaked or space-a's is missing", ev.data)
	}
	if _, err := strconv.ParseUint(ev.id, 10, 64); err != nil {
		t.Fatalf("id %q", ev.id)
	}
	f := mem.mustNext()
	if f.event != "formation" || f.data["memory_space_id"] != "space-a" || f.data["memory_id"] != idA {
		t.Fatalf("memories stream %q %v", f.event, f.data)
	}
	// Both events describe the stored memory.
	confidence := strconv.FormatFloat(float64(engine.DefaultConfid), 'g', -1, 32)
	for _, e := range []sseEvent{ev, f} {
		if e.data["content_preview"] != "written in a" || e.data["memory_type"] != "episodic" || fmt.Sprint(e.data["confidence"]) != confidence {
			t.Fatalf("%s event %v: want content_preview, memory_type and confidence of the memory", e.event, e.data)
		}
	}
}

func TestStreamResumeWithLastEventID(t *testing.T) {
	ts := newTestServer(t)
	h := []string{"X-Memory-Space", "resumable"}
	first := ts.remember(t, "one", h...)
	live := ts.stream(t, "/api/v1/stream/activities", h...)
	second := ts.remember(t, "two", h...)
	third := ts.remember(t, "three", h...)
	e2 := live.mustNext()
	if e2.data["memory_id"] != second {
		t.Fatalf("live stream got %v", e2.data)
	}
	e3 := live.mustNext()
	if e3.data["memory_id"] != third {
		t.Fatalf("live stream got %v", e3.data)
	}
	_ = first

	// Reconnect after e2: e3 is replayed from the buffer.
	for _, how := range []struct {
		name   string
		path   string
		header []string
	}{
		{"header", "/api/v1/stream/activities", []string{"X-Memory-Space", "resumable", "Last-Event-ID", e2.id}},
		{"query", "/api/v1/stream/activities?last_event_id=" + e2.id, h},
	} {
		t.Run(how.name, func(t *testing.T) {
			s := ts.stream(t, how.path, how.header...)
			ev := s.mustNext()
			if ev.id != e3.id || ev.data["memory_id"] != third {
				t.Fatalf("resumed with %s %v, want id %s (%s)", ev.id, ev.data, e3.id, third)
			}
		})
	}
	ts.get(t, "/api/v1/stream/activities?last_event_id=soon", h...).expectError(t, 400, "BAD_REQUEST", "last_event_id")
}

func TestStreamMissedEventsWarning(t *testing.T) {
	ts := newTestServer(t)
	h := []string{"X-Memory-Space", "busy"}
	// Each remember publishes two events; 2,100 of them overflow the 4,096-event buffer.
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 2100; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"content":"bulk %d"}`, i)
	}
	b.WriteString("]")
	ts.post(t, "/api/v1/memories/batch", b.String(), h...).expectStatus(t, 200)
	s := ts.stream(t, "/api/v1/stream/activities", append(h, "Last-Event-ID", "1")...)
	ev := s.mustNext()
	if ev.event != "warning" || ev.id != "" {
		t.Fatalf("first frame %q id %q, want a warning without id", ev.event, ev.id)
	}
	if ev.data["reason"] != "missed" || ev.data["memory_space_id"] != "busy" {
		t.Fatalf("warning %v", ev.data)
	}
	if missed, _ := ev.data["missed"].(float64); missed <= 0 {
		t.Fatalf("missed %v", ev.data["missed"])
	}
	next := s.mustNext()
	if next.event != "storage" {
		t.Fatalf("after the warning %q", next.event)
	}
}

// TestStreamResumeFromZero: Last-Event-ID 0 (a client that has seen nothing yet) replays
// every buffered event of its space, and only of its space; without the header a stream
// only carries new events.
func TestStreamResumeFromZero(t *testing.T) {
	ts := newTestServer(t)
	h := []string{"X-Memory-Space", "zero"}
	id := ts.remember(t, "stored before anyone listened", h...)
	ts.remember(t, "another space's memory", "X-Memory-Space", "elsewhere")
	s := ts.stream(t, "/api/v1/stream/activities", append(h, "Last-Event-ID", "0")...)
	ev := s.mustNext()
	if ev.event != "storage" || ev.id != "1" || ev.data["memory_id"] != id || ev.data["memory_space_id"] != "zero" {
		t.Fatalf("first replayed frame %q id %q %v, want the storage event 1 of %s", ev.event, ev.id, ev.data, id)
	}
	live := ts.stream(t, "/api/v1/stream/activities", h...)
	later := ts.remember(t, "stored while both listen", h...)
	got := live.mustNext()
	if got.data["memory_id"] != later {
		t.Fatalf("live stream's first event is for %v, want the new memory %s", got.data["memory_id"], later)
	}
}

func TestStreamFiltersAndKeepAlive(t *testing.T) {
	ts := newTestServer(t)
	ts.srv.KeepAlive = 20 * time.Millisecond
	h := []string{"X-Memory-Space", "filtered"}
	id := ts.remember(t, "will be forgotten", h...)
	s := ts.stream(t, "/api/v1/stream/activities?event_types=forget", h...)
	ts.remember(t, "storage event not wanted", h...)
	ts.do(t, req{method: http.MethodDelete, path: "/api/v1/memories/" + id, header: pairs(h)}).expectStatus(t, 200)
	ev := s.mustNext()
	if ev.event != "forget" || ev.data["memory_id"] != id {
		t.Fatalf("filtered stream got %q %v", ev.event, ev.data)
	}
	// Keep-alives come between events: produce one forget event at a time until a
	// keep-alive comment has been read before one of them.
	for !contains(s.comments, "keep-alive") {
		time.Sleep(25 * time.Millisecond)
		gone := ts.remember(t, "gone", h...)
		ts.do(t, req{method: http.MethodDelete, path: "/api/v1/memories/" + gone, header: pairs(h)}).expectStatus(t, 200)
		if ev := s.mustNext(); ev.event != "forget" {
			t.Fatalf("filtered stream got %q", ev.event)
		}
	}
	if !contains(s.comments, "keep-alive") {
		t.Fatalf("no keep-alive comment; comments %v", s.comments)
	}

	imp := ts.stream(t, "/api/v1/stream/memories?min_importance=0.8", h...)
	ts.post(t, "/api/v1/memories/remember", `{"content":"unimportant","confidence":0.2}`, h...).expectStatus(t, 201)
	important := ts.post(t, "/api/v1/memories/remember", `{"content":"important","confidence":0.95}`, h...).object(t)["memory_id"]
	ev = imp.mustNext()
	if ev.data["memory_id"] != important {
		t.Fatalf("min_importance let through %v", ev.data)
	}

	for _, c := range []struct{ path, word string }{
		{"/api/v1/stream/activities?event_types=formation", "event_types"},
		{"/api/v1/stream/memories?event_types=storage", "event_types"},
		{"/api/v1/stream/memories?min_importance=2", "min_importance"},
	} {
		ts.get(t, c.path).expectError(t, 400, "BAD_REQUEST", c.word)
	}
	ts.get(t, "/api/v1/stream/activities", "X-Memory-Space", "Bad!").expectError(t, 400, "BAD_REQUEST", "X-Memory-Space header")
}

func TestStreamEndsOnStop(t *testing.T) {
	ts := newTestServer(t)
	s := ts.stream(t, "/api/v1/stream/activities")
	stopped := make(chan error, 1)
	go func() { stopped <- ts.srv.Stop(t.Context()) }()
	for {
		if _, ok := s.next(); !ok {
			break
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Stop with an open stream: %v", err)
	}
}

func TestStreamLaggedSubscriberIsCut(t *testing.T) {
	ts := newTestServer(t)
	h := []string{"X-Memory-Space", "flood"}
	ts.remember(t, "creates the space", h...)
	s := ts.stream(t, "/api/v1/stream/activities", h...)
	// The stream is not read while 3,000 memories publish 6,000 events: the connection's
	// buffers fill, the pump blocks, and the engine cuts the subscription when its queue
	// overflows, without slowing the writer.
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 3000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"content":"flood %d"}`, i)
	}
	b.WriteString("]")
	ts.post(t, "/api/v1/memories/batch", b.String(), h...).expectStatus(t, 200)

	var last sseEvent
	n := 0
	for {
		ev, ok := s.next()
		if !ok {
			break
		}
		last = ev
		n++
	}
	if last.event != "warning" || last.data["reason"] != "lagged" {
		t.Fatalf("after %d frames the stream ended with %q %v, want a lagged warning", n, last.event, last.data)
	}
	if n >= 3001 {
		t.Fatalf("%d frames: the subscriber was not cut", n)
	}
}
