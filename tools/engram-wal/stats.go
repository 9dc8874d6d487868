package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
	"github.com/spf13/cobra"
)

func newStatsCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "stats DIR",
		Short: "Per space: records and bytes by type, memories, tombstones, live memories, damage",
		Args:  oneDir,
		RunE:  func(_ *cobra.Command, args []string) error { return o.stats(args[0]) },
	}
}

// typeCount counts the records of one type and their frame bytes.
type typeCount struct {
	records int
	bytes   int64
}

// spaceStats summarises one space's log.
type spaceStats struct {
	segments      int
	bytes         int64 // segment file sizes
	records       int
	firstLSN      uint64
	lastLSN       uint64
	byType        map[wal.RecordType]*typeCount
	remembered    map[string]struct{} // ids with at least one remember record
	tombstones    int                 // forget records
	live          map[string]struct{} // ids alive after replaying remember and forget
	undecodable   int                 // intact records the engine cannot decode
	corrupted     int
	damagedHeader int
	tornBytes     int64
}

// collect walks l and gathers its statistics.
func collectStats(l *walLog) (*spaceStats, error) {
	s := &spaceStats{byType: map[wal.RecordType]*typeCount{}, remembered: map[string]struct{}{}, live: map[string]struct{}{}}
	reports, err := walkLog(l, func(e *entry) error {
		if e.damage == wal.Intact {
			s.add(e.frame)
		}
		return nil
	})
	for i := range reports {
		r := &reports[i]
		s.segments++
		s.bytes += r.size
		s.corrupted += r.corrupted
		s.tornBytes += r.tornBytes
		if r.headerDamage == wal.Corrupt {
			s.damagedHeader++
		}
	}
	return s, err
}

// add counts one intact record and replays it on the set of live ids.
func (s *spaceStats) add(f wal.Frame) {
	if s.records == 0 {
		s.firstLSN = f.LSN
	}
	s.records++
	s.lastLSN = f.LSN
	c := s.byType[f.Type]
	if c == nil {
		c = &typeCount{}
		s.byType[f.Type] = c
	}
	c.records++
	c.bytes += int64(len(f.Raw))
	info, err := engine.DescribeRecord(f.Type, f.Payload)
	if err != nil {
		s.undecodable++
		return
	}
	switch info.Type {
	case record.TypeRemember:
		s.remembered[info.MemoryID] = struct{}{}
		s.live[info.MemoryID] = struct{}{}
	case record.TypeForget:
		s.tombstones++
		delete(s.live, info.MemoryID)
	}
}

// stats prints the statistics of every log in dir.
func (o *options) stats(dir string) error {
	t, err := o.open(dir, false)
	if err != nil {
		return err
	}
	for i, l := range t.logs {
		s, err := collectStats(l)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(o.stdout)
		}
		if err := s.print(o.stdout, l); err != nil {
			return err
		}
	}
	return nil
}

func (s *spaceStats) print(w io.Writer, l *walLog) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "space\t%s\n", l.space)
	fmt.Fprintf(tw, "wal\t%s\n", l.dir)
	fmt.Fprintf(tw, "segments\t%d\n", s.segments)
	fmt.Fprintf(tw, "bytes\t%d\n", s.bytes)
	if s.records > 0 {
		fmt.Fprintf(tw, "lsn range\t%d-%d\n", s.firstLSN, s.lastLSN)
	} else {
		fmt.Fprintf(tw, "lsn range\t-\n")
	}
	fmt.Fprintf(tw, "records\t%d\n", s.records)
	types := record.Types()
	known := len(types)
	for t := range s.byType {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	slices.Sort(types[known:])
	for _, t := range types {
		c := s.byType[t]
		if c == nil {
			c = &typeCount{}
		}
		fmt.Fprintf(tw, "  %s\t%s, %d bytes\n", record.TypeName(t), plural(int64(c.records), "record", "records"), c.bytes)
	}
	fmt.Fprintf(tw, "memories\t%d distinct ids remembered\n", len(s.remembered))
	fmt.Fprintf(tw, "tombstones\t%d\n", s.tombstones)
	fmt.Fprintf(tw, "live\t%d memories after replay\n", len(s.live))
	fmt.Fprintf(tw, "undecodable\t%s\n", plural(int64(s.undecodable), "record", "records"))
	fmt.Fprintf(tw, "corrupted\t%s\n", plural(int64(s.corrupted), "frame", "frames"))
	if s.damagedHeader > 0 {
		fmt.Fprintf(tw, "damaged headers\t%d\n", s.damagedHeader)
	}
	fmt.Fprintf(tw, "torn\t%s\n", plural(s.tornBytes, "byte", "bytes"))
	return tw.Flush()
}
