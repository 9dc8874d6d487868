package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
	"github.com/spf13/cobra"
)

// dumpFlags select and shape the records of a dump.
type dumpFlags struct {
	from, to uint64 // inclusive LSN bounds; 0 = open
	typ      string
	json     bool
	raw      bool
}

// hexBytes is how many bytes of a damaged frame a dump shows.
const hexBytes = 32

func newDumpCommand(o *options) *cobra.Command {
	var d dumpFlags
	cmd := &cobra.Command{
		Use:   "dump DIR",
		Short: "One line per record: LSN, time, type, memory id, content preview",
		Long: `dump prints one line per record: LSN, append time, type, memory id and a quoted
preview of the content (60 bytes). For a data root every line starts with the space.

Without --raw the dump stops at the first damaged frame with exit status 2 and names
the segment and byte offset; with --raw it goes on, prints each damaged frame (offset,
error, the first bytes in hex) and prefixes every record with its segment and offset.`,
		Args: oneDir,
		RunE: func(_ *cobra.Command, args []string) error { return o.dump(args[0], d) },
	}
	f := cmd.Flags()
	f.Uint64Var(&d.from, "from", 0, "first LSN to print")
	f.Uint64Var(&d.to, "to", 0, "last LSN to print (0: to the end)")
	f.StringVar(&d.typ, "type", "", "only records of this type: "+typeNames()+" (or a number)")
	f.BoolVar(&d.json, "json", false, "one JSON object per line; remember records carry the decoded memory")
	f.BoolVar(&d.raw, "raw", false, "go on after damage, show damaged frames and where each record lies")
	return cmd
}

// typeNames lists the names of the record types, for help and errors.
func typeNames() string {
	var names []string
	for _, t := range record.Types() {
		names = append(names, record.TypeName(t))
	}
	return strings.Join(names, ", ")
}

// parseTypeFilter accepts a record type name, "typeN" or a number 1-255.
func parseTypeFilter(s string) (wal.RecordType, error) {
	if t, ok := record.ParseType(s); ok {
		return t, nil
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "type"), 10, 8)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%w: --type %q is not %s or a number 1-255", errUsage, s, typeNames())
	}
	return wal.RecordType(n), nil
}

// dump prints the records of every log in dir.
func (o *options) dump(dir string, d dumpFlags) error {
	var typ wal.RecordType
	if d.typ != "" {
		var err error
		if typ, err = parseTypeFilter(d.typ); err != nil {
			return err
		}
	}
	if d.to > 0 && d.from > d.to {
		return fmt.Errorf("%w: --from %d is above --to %d", errUsage, d.from, d.to)
	}
	t, err := o.open(dir, false)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(o.stdout)
	p := &dumpPrinter{out: out, times: o.times, flags: d, withSpace: t.kind == kindDataRoot}
	for _, l := range t.logs {
		_, err := walkLog(l, func(e *entry) error {
			switch {
			case e.damage == wal.Intact:
				if d.to > 0 && e.frame.LSN > d.to {
					return errStopWalk // LSNs only grow
				}
				if e.frame.LSN < d.from || (typ != 0 && e.frame.Type != typ) {
					return nil
				}
				return p.record(l, e)
			case e.lsnKnown() && (e.frame.LSN < d.from || (d.to > 0 && e.frame.LSN > d.to)):
				return nil
			case !d.raw:
				return &exitStatus{code: exitDamaged, err: fmt.Errorf("%w in %s at offset %d (%s): %v; --raw shows it and goes on",
					errDamaged, e.seg.path, e.frame.Offset, e.damage, e.err)}
			}
			return p.damaged(l, e)
		})
		if err != nil {
			return flushThen(out, err)
		}
	}
	return out.Flush()
}

// flushThen writes out what was printed before err ended the dump.
func flushThen(out *bufio.Writer, err error) error {
	out.Flush()
	return err
}

// dumpPrinter writes dump lines in text or JSON.
type dumpPrinter struct {
	out       io.Writer
	times     timeFormat
	flags     dumpFlags
	withSpace bool // a data root: lines say which space they belong to
}

// record prints one intact record.
func (p *dumpPrinter) record(l *walLog, e *entry) error {
	info, decodeErr := engine.DescribeRecord(e.frame.Type, e.frame.Payload)
	if p.flags.json {
		return p.writeJSON(recordJSON(l, e, p.times, p.flags.raw, info, decodeErr))
	}
	var b strings.Builder
	p.prefix(&b, l, e)
	fmt.Fprintf(&b, "%d ", e.frame.LSN)
	if p.times.shown() {
		b.WriteString(p.times.text(e.frame.Time) + " ")
	}
	fmt.Fprintf(&b, "%-8s %s", record.TypeName(e.frame.Type), orDash(info.MemoryID))
	switch {
	case decodeErr != nil:
		fmt.Fprintf(&b, " undecodable: %v", decodeErr)
	case info.Memory != nil:
		b.WriteString(" " + strconv.Quote(info.Preview))
	case info.Preview != "":
		b.WriteString(" " + info.Preview)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(p.out, b.String())
	return err
}

// damaged prints one damaged frame or header (--raw).
func (p *dumpPrinter) damaged(l *walLog, e *entry) error {
	if p.flags.json {
		return p.writeJSON(damageJSON(l, e))
	}
	var b strings.Builder
	p.prefix(&b, l, e)
	what := "frame"
	if e.header {
		what = "header"
	}
	fmt.Fprintf(&b, "DAMAGED %s %s, %s", e.damage, what, plural(int64(len(e.frame.Raw)), "byte", "bytes"))
	if e.lsnKnown() {
		fmt.Fprintf(&b, ", LSN %d %s", e.frame.LSN, record.TypeName(e.frame.Type))
	}
	fmt.Fprintf(&b, ": %v: %s\n", e.err, hexPrefix(e.frame.Raw, hexBytes))
	_, err := io.WriteString(p.out, b.String())
	return err
}

// prefix starts a line with the space (data root) and, with --raw, the segment and offset.
func (p *dumpPrinter) prefix(b *strings.Builder, l *walLog, e *entry) {
	if p.withSpace {
		b.WriteString(l.space + " ")
	}
	if p.flags.raw {
		fmt.Fprintf(b, "%s:%d ", e.seg.name, e.frame.Offset)
	}
}

func (p *dumpPrinter) writeJSON(v any) error {
	enc := json.NewEncoder(p.out)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
