package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/engram-go/engram/engine/wal"
	"github.com/spf13/cobra"
)

func newLsCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "ls DIR",
		Short: "List segments: LSN range, size, record count, time range and damage",
		Args:  oneDir,
		RunE:  func(_ *cobra.Command, args []string) error { return o.ls(args[0]) },
	}
}

// ls prints one line per segment of every log in dir.
func (o *options) ls(dir string) error {
	t, err := o.open(dir, false)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(o.stdout, 0, 0, 2, ' ', 0)
	cols := []string{"SPACE", "SEGMENT", "FIRST_LSN", "LAST_LSN", "SIZE", "RECORDS"}
	if o.times.shown() {
		cols = append(cols, "FIRST_TIME", "LAST_TIME")
	}
	fmt.Fprintln(tw, strings.Join(append(cols, "DAMAGE"), "\t"))
	for _, l := range t.logs {
		reports, err := walkLog(l, nil)
		for i := range reports {
			r := &reports[i]
			row := []string{l.space, r.seg.name, lsnText(r.records, r.firstLSN), lsnText(r.records, r.lastLSN),
				strconv.FormatInt(r.size, 10), strconv.Itoa(r.records)}
			if o.times.shown() {
				row = append(row, o.times.text(r.firstTime), o.times.text(r.lastTime))
			}
			fmt.Fprintln(tw, strings.Join(append(row, r.damageFlag()), "\t"))
		}
		if err != nil {
			tw.Flush()
			return err
		}
	}
	return tw.Flush()
}

// lsnText prints an LSN, or "-" for a segment without records.
func lsnText(records int, lsn uint64) string {
	if records == 0 {
		return "-"
	}
	return strconv.FormatUint(lsn, 10)
}

// damageFlag summarises a segment's damage: "ok", or parts such as "header,corrupt:2,torn:57B".
func (r *segmentReport) damageFlag() string {
	var parts []string
	if r.headerDamage != wal.Intact {
		parts = append(parts, "header")
	}
	if r.corrupted > 0 {
		parts = append(parts, fmt.Sprintf("corrupt:%d", r.corrupted))
	}
	if r.tornBytes > 0 {
		parts = append(parts, fmt.Sprintf("torn:%dB", r.tornBytes))
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, ",")
}
