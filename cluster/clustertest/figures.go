package clustertest

import (
	"fmt"
	"strings"
	"time"
)

// Figures are a scenario's measurements. Zero durations and rates mean "not measured in
// this scenario".
type Figures struct {
	Scenario     string
	Nodes        int
	Acked        int
	AckedGRPC    int // of Acked, over the gRPC API
	Elapsed      time.Duration
	P50, P99     time.Duration // acknowledged writes, first attempt to acknowledgement
	CPU          time.Duration // every node process, over the load and its settling
	Retries      int           // attempts beyond the first of acknowledged writes
	Reads        int           // reads of acknowledged memories that got an answer
	Unanswered   int           // reads that got none (timeout, 5xx)
	Outcomes     map[string]int
	GRPCRecall   GRPCRecalls
	Events       []EventCount             // SSE subscribers' events, when the scenario had any
	OwnedAfter   map[string]time.Duration // event ("SIGKILL n2") → until every partition had a serving owner
	CatchUp      float64                  // records/s a restarted node caught up before leading again
	CatchUpNote  string
	Verdicts     []Verdict
	SingleWrites float64       // writes/s of the one-node comparison run, when made
	LeaseTTL     time.Duration // the nodes' lease TTL (0: one plain node)
}

// Measure fills the load's figures from its result.
func Measure(name string, nodes int, r *Result, cpu time.Duration) Figures {
	f := Figures{Scenario: name, Nodes: nodes, Acked: len(r.Acks), Elapsed: r.Elapsed(), CPU: cpu,
		Outcomes: r.Outcomes, OwnedAfter: map[string]time.Duration{}, Reads: r.Reads, Unanswered: r.Unanswered, GRPCRecall: r.GRPCRecall}
	lat := r.Latencies()
	if len(lat) > 0 {
		f.P50, f.P99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	for _, a := range r.Acks {
		f.Retries += a.Attempts - 1
		if a.Proto == "grpc" {
			f.AckedGRPC++
		}
	}
	return f
}

// WritesPerSec is acknowledged writes per second of writing time.
func (f Figures) WritesPerSec() float64 {
	if f.Elapsed <= 0 {
		return 0
	}
	return float64(f.Acked) / f.Elapsed.Seconds()
}

// CPUPerWrite is the CPU time of every node process per acknowledged write.
func (f Figures) CPUPerWrite() time.Duration {
	if f.Acked == 0 {
		return 0
	}
	return f.CPU / time.Duration(f.Acked)
}

func (f Figures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s (%d nodes): %d acknowledged in %.1fs = %.0f writes/s, p50 %v p99 %v, CPU %v per write, %d retries",
		f.Scenario, f.Nodes, f.Acked, f.Elapsed.Seconds(), f.WritesPerSec(), f.P50.Round(100*time.Microsecond),
		f.P99.Round(100*time.Microsecond), f.CPUPerWrite().Round(time.Microsecond), f.Retries)
	if f.SingleWrites > 0 {
		fmt.Fprintf(&b, "; one node %.0f writes/s (cluster %.2fx)", f.SingleWrites, f.WritesPerSec()/f.SingleWrites)
	}
	for ev, d := range f.OwnedAfter {
		fmt.Fprintf(&b, "; every partition owned %.2fs after %s (lease TTL %v)", d.Seconds(), ev, f.LeaseTTL)
	}
	if f.CatchUp > 0 || f.CatchUpNote != "" {
		fmt.Fprintf(&b, "; catch-up %.0f records/s %s", f.CatchUp, f.CatchUpNote)
	}
	fmt.Fprintf(&b, "\n  write attempts %v (%d acknowledged over gRPC); %d reads answered, %d not; gRPC recalls: %d answered (%d held the memory), failed %v",
		f.Outcomes, f.AckedGRPC, f.Reads, f.Unanswered, f.GRPCRecall.Answered, f.GRPCRecall.Found, f.GRPCRecall.Errors)
	if len(f.Events) > 0 {
		sum := EventCount{Space: fmt.Sprintf("%d spaces", len(f.Events))}
		for _, e := range f.Events {
			sum.add(e)
		}
		fmt.Fprintf(&b, "\n  %s", sum)
	}
	for _, v := range f.Verdicts {
		fmt.Fprintf(&b, "\n  %s", v)
	}
	return b.String()
}
