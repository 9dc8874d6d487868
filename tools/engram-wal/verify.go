package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
	"github.com/spf13/cobra"
)

func newVerifyCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "verify DIR",
		Short: "Check every frame; exit 0 clean, 1 torn tail only, 2 corruption, 3 other error",
		Long: `verify reads every segment and checks every frame as recovery would, and that every
intact record decodes. It prints the segment and byte offset of each damaged frame, one
line per space and a summary.

Exit status: 0 clean; 1 only a torn tail at the end of a space's last segment (recovery
cuts it off); 2 corruption: a damaged frame with intact ones after it, a torn end of a
segment that is not the last, a damaged header or an undecodable record (recovery drops
them); 3 any other error, such as an unreadable folder.`,
		Args: oneDir,
		RunE: func(_ *cobra.Command, args []string) error { return o.verify(args[0]) },
	}
}

// logVerdict is what verify found in one log.
type logVerdict struct {
	segments    int
	records     int
	firstLSN    uint64
	lastLSN     uint64
	corrupted   int // damaged frames that are corruption
	headers     int // damaged segment headers that are corruption
	undecodable int
	tornBytes   int64
	err         error // the log could not be read to the end
}

func (v *logVerdict) status() int {
	switch {
	case v.err != nil:
		return exitError
	case v.corrupted > 0 || v.headers > 0 || v.undecodable > 0:
		return exitDamaged
	case v.tornBytes > 0:
		return exitTorn
	}
	return exitOK
}

// verify checks every log in dir and exits with the worst status found.
func (o *options) verify(dir string) error {
	t, err := o.open(dir, false)
	if err != nil {
		return err
	}
	segments, records := 0, 0
	worst := exitOK
	for _, l := range t.logs {
		v := verifyLog(o.stdout, l)
		fmt.Fprintf(o.stdout, "%s: %s\n", l.space, v.describe())
		worst = max(worst, v.status())
		segments += v.segments
		records += v.records
	}
	fmt.Fprintf(o.stdout, "%s, %s, %s: %s\n", plural(int64(len(t.logs)), "space", "spaces"),
		plural(int64(segments), "segment", "segments"), plural(int64(records), "record", "records"), verdictName(worst))
	return &exitStatus{code: worst}
}

// verifyLog walks one log, printing each damaged frame and undecodable record.
func verifyLog(w io.Writer, l *walLog) logVerdict {
	var v logVerdict
	reports, err := walkLog(l, func(e *entry) error {
		if e.damage == wal.Intact {
			if v.records == 0 {
				v.firstLSN = e.frame.LSN
			}
			v.records++
			v.lastLSN = e.frame.LSN
			if _, derr := engine.DescribeRecord(e.frame.Type, e.frame.Payload); derr != nil {
				v.undecodable++
				fmt.Fprintf(w, "%s: offset %d: undecodable record, LSN %d %s: %v\n",
					e.seg.path, e.frame.Offset, e.frame.LSN, record.TypeName(e.frame.Type), derr)
			}
			return nil
		}
		what := "frame"
		if e.header {
			what = "header"
		}
		_, err := fmt.Fprintf(w, "%s: offset %d: %s %s, %s: %v\n", e.seg.path, e.frame.Offset, e.damage, what,
			plural(int64(len(e.frame.Raw)), "byte", "bytes"), e.err)
		return err
	})
	v.err = err
	v.segments = len(reports)
	for i := range reports {
		r := &reports[i]
		v.tornBytes += r.tornBytes
		v.corrupted += r.corrupted
		if r.headerDamage == wal.Corrupt {
			v.headers++
		}
	}
	return v
}

// describe is the one-line verdict of a log.
func (v *logVerdict) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s", plural(int64(v.segments), "segment", "segments"), plural(int64(v.records), "record", "records"))
	if v.records > 0 {
		fmt.Fprintf(&b, ", LSN %d-%d", v.firstLSN, v.lastLSN)
	}
	var problems []string
	if v.corrupted > 0 {
		problems = append(problems, fmt.Sprintf("%s in the middle of the log (recovery drops %s)",
			plural(int64(v.corrupted), "damaged frame", "damaged frames"), itThem(v.corrupted)))
	}
	if v.headers > 0 {
		problems = append(problems, fmt.Sprintf("%s (recovery rebuilds %s)",
			plural(int64(v.headers), "damaged segment header", "damaged segment headers"), itThem(v.headers)))
	}
	if v.undecodable > 0 {
		problems = append(problems, fmt.Sprintf("%s (recovery skips %s)",
			plural(int64(v.undecodable), "undecodable record", "undecodable records"), itThem(v.undecodable)))
	}
	if v.tornBytes > 0 {
		problems = append(problems, fmt.Sprintf("torn tail of %s (recovery cuts it off)", plural(v.tornBytes, "byte", "bytes")))
	}
	if v.err != nil {
		problems = append(problems, fmt.Sprintf("error: %v", v.err))
	}
	if len(problems) == 0 {
		b.WriteString(": ok")
	} else {
		b.WriteString(": " + strings.Join(problems, "; "))
	}
	return b.String()
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// verdictName names an exit status in the summary line.
func verdictName(status int) string {
	switch status {
	case exitOK:
		return "clean"
	case exitTorn:
		return "torn tail only (exit 1)"
	case exitDamaged:
		return "corruption found (exit 2)"
	}
	return "errors (exit 3)"
}
