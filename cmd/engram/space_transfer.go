package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/spf13/cobra"
	"github.com/valyala/fastjson"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/transfer"
)

// transferFlags are the flags shared by backup, restore and merge.
type transferFlags struct {
	clientFlags
	quiet      bool
	chunkBytes int
}

func (f *transferFlags) register(cmd *cobra.Command) {
	f.clientFlags.register(cmd, false)
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print a JSON summary instead of text")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	fl.IntVar(&f.chunkBytes, "chunk-bytes", defaultChunkBytes, "bytes of NDJSON per import request (halved automatically if the server refuses one as too large)")
}

// transferContext ends on SIGINT/SIGTERM, so that an interrupted run removes its
// temporary file and closes an offline data root cleanly.
func transferContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
}

// spaceArg checks a space id given on the command line.
func spaceArg(raw, what string) (string, error) {
	id, err := engine.NormalizeSpaceID(raw)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return id, nil
}

func (a *app) printSummary(asJSON bool, summary any, text string) error {
	if asJSON {
		b, err := json.MarshalIndent(summary, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", b)
		return err
	}
	_, err := io.WriteString(a.stdout, text)
	return err
}

// closeStore closes st and reports its error when the run had none: closing an offline
// data root syncs and closes every write-ahead log it wrote to.
func closeStore(st transferStore, err *error) {
	if cerr := st.close(); cerr != nil && *err == nil {
		*err = cerr
	}
}

// tidyError drops the leading "engram: " of an error, which the command line prints
// before every message anyway.
func tidyError(err *error) {
	var ee *exitError
	if *err == nil || errors.As(*err, &ee) {
		return
	}
	if msg, ok := strings.CutPrefix((*err).Error(), "engram: "); ok {
		*err = &exitError{code: 1, msg: msg}
	}
}

// importFailure is the error of a run in which some memories were refused: the summary
// is printed first, then the first refusals on stderr.
func (a *app) importFailure(t *importTotals) error {
	const shown = 10
	for i, e := range t.Errors {
		if i == shown {
			fmt.Fprintf(a.stderr, "  ... and %d more\n", t.Failed-shown)
			break
		}
		id := ""
		if e.ID != "" {
			id = " (" + e.ID + ")"
		}
		fmt.Fprintf(a.stderr, "  line %d%s: %s\n", e.Line, id, e.Error)
	}
	return &exitError{code: 1, msg: fmt.Sprintf("%s refused", plural(t.Failed, "memory was", "memories were"))}
}

type backupSummary struct {
	Space          string `json:"space"`
	File           string `json:"file"`
	Memories       int64  `json:"memories"`
	Bytes          int64  `json:"bytes"`
	NDJSONBytes    int64  `json:"ndjson_bytes"`
	NDJSONXXHash64 string `json:"ndjson_xxhash64"`
	CreatedAt      string `json:"created_at"`
	Source         string `json:"source"`
	TookMS         int64  `json:"took_ms"`
}

func (a *app) spaceBackupCommand() *cobra.Command {
	var (
		tf  transferFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "backup ID --out FILE",
		Short: "Write a consistent snapshot of one memory space to a single file (zstd, checksummed)",
		Long: "Write every memory of the space, with all its fields and its embedding, as of one instant,\n" +
			"to FILE (written to FILE.tmp, checked, then renamed). Works while the server runs; with\n" +
			"--data-root it opens the data root itself, which a running server must not hold.\n" +
			"The file format is described in docs/backup-and-merge.md.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			defer tidyError(&err)
			ctx, cancel := transferContext(cmd)
			defer cancel()
			id, err := spaceArg(args[0], "space")
			if err != nil {
				return err
			}
			start := time.Now()
			st, err := a.openStore(tf.clientFlags)
			if err != nil {
				return err
			}
			defer closeStore(st, &err)
			shape, err := st.describe(ctx, id)
			if err != nil {
				return err
			}
			w, err := createBackup(out, backupHeader{
				Space: id, Dimension: shape.Dimension, CreatedAt: time.Now().UTC().Format(time.RFC3339Nano), EngramVersion: buildVersion(),
			})
			if err != nil {
				return err
			}
			bar := a.newProgress(tf.quiet, tf.json, int64(shape.Memories), "backing up "+id, "memories")
			err = st.export(ctx, id, &lineProgress{w: w, p: bar})
			bar.done()
			if err != nil {
				w.abort()
				return err
			}
			hdr, tr, err := w.commit()
			if err != nil {
				return err
			}
			size := int64(backupHeaderSize) + tr.ZstdBytes + backupTrailerSize
			s := backupSummary{
				Space: id, File: out, Memories: hdr.Count, Bytes: size, NDJSONBytes: tr.NDJSONBytes,
				NDJSONXXHash64: tr.NDJSONXXHash, CreatedAt: hdr.CreatedAt, Source: st.where(), TookMS: time.Since(start).Milliseconds(),
			}
			return a.printSummary(tf.json, s, fmt.Sprintf("Backed up %s of space '%s' to %s (%s, xxhash64 %s)\n",
				plural(int(hdr.Count), "memory", "memories"), id, out, byteSize(size), tr.NDJSONXXHash))
		},
	}
	tf.register(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "backup file to write (required)")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// lineProgress passes NDJSON on and advances a bar by the lines it sees.
type lineProgress struct {
	w io.Writer
	p *progress
}

func (l *lineProgress) Write(b []byte) (int, error) {
	n, err := l.w.Write(b)
	l.p.add(strings.Count(string(b[:n]), "\n"))
	return n, err
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

type restoreSummary struct {
	File       string `json:"file"`
	FromSpace  string `json:"from_space"`
	Space      string `json:"space"`
	BackupTime string `json:"backup_created_at"`
	InFile     int64  `json:"memories_in_file"`
	Verified   bool   `json:"verified"`
	DryRun     bool   `json:"dry_run,omitempty"`
	Created    bool   `json:"created"`
	importTotals
	Target string `json:"target"`
	TookMS int64  `json:"took_ms"`
}

func (a *app) spaceRestoreCommand() *cobra.Command {
	var (
		tf            transferFlags
		as            string
		force, dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "restore FILE [--as ID]",
		Short: "Load a backup file into a memory space (its own, or --as another)",
		Long: "Check the whole backup file first (header, trailer, zstd, xxhash64 checksum, memory count,\n" +
			"every line) and refuse it, writing nothing, if any check fails. Then create the space if\n" +
			"needed, with the backup's embedding dimension, and import every memory with all its fields.\n" +
			"A space that already holds memories is refused unless --force: memories with the same id\n" +
			"are then replaced and the others kept. Running a restore again is safe.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			defer tidyError(&err)
			ctx, cancel := transferContext(cmd)
			defer cancel()
			start := time.Now()
			file := args[0]
			b, err := openBackup(file)
			if err != nil {
				return fmt.Errorf("%w; %s was not restored", err, file)
			}
			defer b.close()
			bar := a.newProgress(tf.quiet, tf.json, b.trailer.ZstdBytes, "verifying "+file, "bytes")
			err = b.verify(bar.add)
			bar.done()
			if err != nil {
				return fmt.Errorf("%w; %s was not restored, nothing was written", err, file)
			}
			target := b.header.Space
			if as != "" {
				if target, err = spaceArg(as, "--as"); err != nil {
					return err
				}
			}
			st, err := a.openStore(tf.clientFlags)
			if err != nil {
				return err
			}
			defer closeStore(st, &err)
			s := restoreSummary{
				File: file, FromSpace: b.header.Space, Space: target, BackupTime: b.header.CreatedAt, InFile: b.header.Count,
				Verified: true, DryRun: dryRun, Target: st.where(), importTotals: importTotals{Errors: []transfer.LineError{}},
			}
			shape, err := st.describe(ctx, target)
			switch {
			case errors.Is(err, errNoSuchSpace):
				s.Created = true
			case err != nil:
				return err
			case b.header.Dimension > 0 && shape.Dimension != b.header.Dimension:
				return fmt.Errorf("space '%s' has embedding dimension %d, the backup %d; restore into a new space with --as", target, shape.Dimension, b.header.Dimension)
			case shape.Memories > 0 && !force:
				return fmt.Errorf("space '%s' already holds %s; restore into a new space with --as, delete it first, or add --force to replace memories with the same id and keep the others",
					target, plural(shape.Memories, "memory", "memories"))
			}
			if dryRun {
				return a.printSummary(tf.json, s, fmt.Sprintf("%s: %s verified; would restore into space '%s' on %s\n", file, b.describe(), target, st.where()))
			}
			if s.Created {
				if err := st.create(ctx, target, b.header.Dimension); err != nil {
					return fmt.Errorf("create space '%s': %w", target, err)
				}
			}
			body, err := b.body(nil)
			if err != nil {
				return err
			}
			defer body.close()
			bar = a.newProgress(tf.quiet, tf.json, b.header.Count, "restoring "+target, "memories")
			ci := chunkImporter{store: st, space: target, maxChunk: tf.chunkBytes, progress: bar.add}
			err = ci.run(ctx, body)
			bar.done()
			if err == nil {
				err = body.matches(&b.trailer) // the file changed between the check and the import
			}
			if err != nil {
				return err
			}
			s.importTotals = ci.totals
			s.TookMS = time.Since(start).Milliseconds()
			text := fmt.Sprintf("Restored %d of %d memories into space '%s' from %s (%s)\n", ci.totals.Imported, b.header.Count, target, file, b.describe())
			if err := a.printSummary(tf.json, s, text); err != nil {
				return err
			}
			if ci.totals.Failed > 0 {
				return a.importFailure(&ci.totals)
			}
			return nil
		},
	}
	tf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&as, "as", "", "restore into this space instead of the one the backup was taken of")
	f.BoolVar(&force, "force", false, "restore into a space that already holds memories (same ids are replaced, others kept)")
	f.BoolVar(&dryRun, "dry-run", false, "verify the file and the target, write nothing")
	return cmd
}

type mergeSummary struct {
	From     string `json:"from"`
	Into     string `json:"into"`
	Created  bool   `json:"created"`
	Exported int    `json:"exported"`
	importTotals
	Verified   int      `json:"verified"`
	Missing    []string `json:"missing"`
	Differing  []string `json:"differing"`
	IntoMemory int      `json:"into_memories"`
	Target     string   `json:"target"`
	TookMS     int64    `json:"took_ms"`
}

func (a *app) spaceMergeCommand() *cobra.Command {
	var (
		tf         transferFlags
		from, into string
	)
	cmd := &cobra.Command{
		Use:   "merge --from A --into B",
		Short: "Copy every memory of space A into space B with all its fields (A is left as it is)",
		Long: "Replay a snapshot of every memory of A, all tiers, with all fields and embeddings, through\n" +
			"B's write-ahead log. Ids are kept: a memory of B with the id of one of A is replaced by\n" +
			"it, and running the merge again after an interruption is safe. At the end every id of A\n" +
			"is checked to be in B with the same content. B is created, with A's embedding dimension,\n" +
			"if it does not exist. Association edges are rebuilt in B in the background.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			defer tidyError(&err)
			ctx, cancel := transferContext(cmd)
			defer cancel()
			start := time.Now()
			src, err := spaceArg(from, "--from")
			if err != nil {
				return err
			}
			dst, err := spaceArg(into, "--into")
			if err != nil {
				return err
			}
			if src == dst {
				return fmt.Errorf("--from and --into both name space '%s'", src)
			}
			st, err := a.openStore(tf.clientFlags)
			if err != nil {
				return err
			}
			defer closeStore(st, &err)
			srcShape, err := st.describe(ctx, src)
			if err != nil {
				return err
			}
			s := mergeSummary{From: src, Into: dst, Target: st.where(), Missing: []string{}, Differing: []string{}}
			dstShape, err := st.describe(ctx, dst)
			switch {
			case errors.Is(err, errNoSuchSpace):
				if err := st.create(ctx, dst, srcShape.Dimension); err != nil {
					return fmt.Errorf("create space '%s': %w", dst, err)
				}
				s.Created = true
			case err != nil:
				return err
			case dstShape.Dimension != srcShape.Dimension:
				return fmt.Errorf("space '%s' has embedding dimension %d and '%s' %d: their embeddings cannot be merged", src, srcShape.Dimension, dst, dstShape.Dimension)
			}

			// The export of A streams into the imports of B; what A held is remembered by
			// id and content hash for the check at the end.
			digests := map[string]uint64{}
			var p fastjson.Parser
			var digestErr error
			observe := func(line []byte) {
				id, sum, err := lineDigest(&p, line)
				if err != nil && digestErr == nil {
					digestErr = err
				}
				digests[id] = sum
			}
			bar := a.newProgress(tf.quiet, tf.json, int64(srcShape.Memories), "merging "+src+" into "+dst, "memories")
			ci := chunkImporter{store: st, space: dst, maxChunk: tf.chunkBytes, progress: bar.add, observe: observe}
			err = pipeExport(ctx, st, src, func(r io.Reader) error { return ci.run(ctx, r) })
			bar.done()
			if err != nil {
				return err
			}
			if digestErr != nil {
				return fmt.Errorf("engram: the export of '%s' holds a line that does not parse: %w", src, digestErr)
			}
			s.Exported, s.importTotals = ci.lines, ci.totals

			// Check: every id of A is in B with the same content.
			bar = a.newProgress(tf.quiet, tf.json, -1, "checking "+dst, "memories")
			err = pipeExport(ctx, st, dst, func(r io.Reader) error {
				return scanLines(r, func(line []byte) error {
					bar.add(1)
					s.IntoMemory++
					id, sum, err := lineDigest(&p, line)
					if err != nil {
						return fmt.Errorf("engram: the export of '%s' holds a line that does not parse: %w", dst, err)
					}
					if want, ok := digests[id]; ok {
						if want == sum {
							s.Verified++
						} else {
							s.Differing = append(s.Differing, id)
						}
						delete(digests, id)
					}
					return nil
				})
			})
			bar.done()
			if err != nil {
				return fmt.Errorf("checking '%s' after the merge: %w", dst, err)
			}
			for id := range digests {
				s.Missing = append(s.Missing, id)
			}
			s.TookMS = time.Since(start).Milliseconds()
			check := fmt.Sprintf("all %d present in '%s' with the same content", s.Verified, dst)
			if len(s.Missing)+len(s.Differing) > 0 {
				check = fmt.Sprintf("%d present, %d missing, %d with other content", s.Verified, len(s.Missing), len(s.Differing))
			}
			text := fmt.Sprintf("Merged '%s' into '%s': %s copied, %d refused; checked: %s; '%s' now holds %s\n",
				src, dst, plural(s.Imported, "memory", "memories"), s.Failed, check, dst, plural(s.IntoMemory, "memory", "memories"))
			if err := a.printSummary(tf.json, s, text); err != nil {
				return err
			}
			if s.Failed > 0 {
				return a.importFailure(&s.importTotals)
			}
			if len(s.Missing)+len(s.Differing) > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("the check found %d memories of '%s' missing and %d changed in '%s' (written to by others meanwhile?)",
					len(s.Missing), src, len(s.Differing), dst)}
			}
			return nil
		},
	}
	tf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "space to copy from (required; left unchanged)")
	f.StringVar(&into, "into", "", "space to copy into (required; created if missing)")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("into")
	return cmd
}

// pipeExport streams the export of space id into consume. If consume fails, the export
// is stopped; if the export fails, consume sees a read error.
func pipeExport(ctx context.Context, st transferStore, id string, consume func(io.Reader) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := st.export(ctx, id, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	err := consume(pr)
	if err != nil {
		cancel()
		pr.CloseWithError(err)
	}
	exportErr := <-done
	if err == nil {
		err = exportErr
	}
	return err
}

// scanLines calls fn with every line of r, newline included.
func scanLines(r io.Reader, fn func(line []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if ferr := fn(line); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// lineDigest is the id of a transfer line and the xxhash64 of its content.
func lineDigest(p *fastjson.Parser, line []byte) (string, uint64, error) {
	v, err := p.ParseBytes(line)
	if err != nil {
		return "", 0, err
	}
	return string(v.GetStringBytes("id")), xxhash.Sum64(v.GetStringBytes("content")), nil
}
