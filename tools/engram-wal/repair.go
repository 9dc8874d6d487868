package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/engram-go/engram/engine/wal"
	"github.com/spf13/cobra"
)

func newRepairCommand(o *options) *cobra.Command {
	var output string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "repair DIR --output NEW",
		Short: "Write a repaired copy of the logs to NEW, as recovery would repair them",
		Long: `repair applies the recovery rules to every log in DIR (a torn tail cut off, damaged frames
dropped, damaged headers rebuilt) and writes the result to NEW, which must not exist or be
an empty folder outside DIR. DIR is never modified.

NEW gets the layout of DIR: for a data root, NEW/<space>/wal for every space, with each
space's other files (space.json, tiers) copied, so that NEW opens as a data root; for a
space folder, NEW/wal and the other files; for a wal folder, the segments themselves.
--dry-run reports what would be kept and dropped and writes nothing.`,
		Args: oneDir,
		RunE: func(_ *cobra.Command, args []string) error { return o.repair(args[0], output, dryRun) },
	}
	cmd.Flags().StringVar(&output, "output", "", "the folder to write the repaired copy to (new or empty)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be kept and dropped, write nothing")
	return cmd
}

// repair writes a repaired copy of every log in dir to output.
func (o *options) repair(dir, output string, dryRun bool) error {
	if output == "" && !dryRun {
		return fmt.Errorf("%w: repair needs --output NEW (or --dry-run)", errUsage)
	}
	t, err := o.open(dir, true)
	if err != nil {
		return err
	}
	if t.kind == kindSegment {
		return fmt.Errorf("%w: repair works on a folder; give the wal folder of %s", errUsage, dir)
	}
	if !dryRun {
		if err := checkOutput(dir, output); err != nil {
			return err
		}
	}
	copied := 0
	for _, l := range t.logs {
		walOut, spaceOut := repairDestinations(t, l, output)
		if dryRun {
			walOut = ""
		}
		st, err := wal.RepairCopy(l.dir, walOut, nil)
		if err != nil {
			return fmt.Errorf("engram-wal: repair space %s: %w", l.space, err)
		}
		fmt.Fprintf(o.stdout, "%s: %s\n", l.space, describeRepair(st, dryRun))
		if !dryRun && spaceOut != "" {
			n, err := copySpaceFiles(l.spaceDir, spaceOut)
			if err != nil {
				return err
			}
			copied += n
		}
	}
	if dryRun {
		fmt.Fprintln(o.stdout, "dry run: nothing written")
		return nil
	}
	if copied > 0 {
		fmt.Fprintf(o.stdout, "copied %s besides the logs\n", plural(int64(copied), "file", "files"))
	}
	fmt.Fprintf(o.stdout, "repaired copy written to %s\n", output)
	return nil
}

// repairDestinations maps a log to its wal folder in the output and, when DIR has space
// folders, the space folder its other files go to ("" otherwise).
func repairDestinations(t *target, l *walLog, output string) (walOut, spaceOut string) {
	switch t.kind {
	case kindDataRoot:
		spaceOut = filepath.Join(output, filepath.Base(l.spaceDir))
		return filepath.Join(spaceOut, walFolder), spaceOut
	case kindSpace:
		return filepath.Join(output, walFolder), output
	}
	return output, ""
}

// describeRepair says what RepairCopy kept and dropped (or would, in a dry run).
func describeRepair(st wal.RecoveryStats, dryRun bool) string {
	keep, drop, cut, rebuild := "kept", "dropped", "cut", "repaired"
	if dryRun {
		keep, drop, cut, rebuild = "would keep", "would drop", "would cut", "would repair"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s in %s", keep, plural(int64(st.Records), "record", "records"), plural(int64(st.Segments), "segment", "segments"))
	if st.LastLSN > 0 {
		fmt.Fprintf(&b, " (last LSN %d)", st.LastLSN)
	}
	var changes []string
	if st.Corrupted > 0 {
		changes = append(changes, fmt.Sprintf("%s %s", drop, plural(int64(st.Corrupted), "damaged frame", "damaged frames")))
	}
	if st.TornBytes > 0 {
		changes = append(changes, fmt.Sprintf("%s a torn tail of %s", cut, plural(st.TornBytes, "byte", "bytes")))
	}
	if len(st.Broken) > 0 {
		names := make([]string, len(st.Broken))
		for i, p := range st.Broken {
			names[i] = filepath.Base(p)
		}
		changes = append(changes, fmt.Sprintf("%s segments %s", rebuild, strings.Join(names, ", ")))
	}
	if len(changes) == 0 {
		return b.String() + "; nothing dropped"
	}
	return b.String() + "; " + strings.Join(changes, "; ")
}

// checkOutput accepts a repair destination that does not exist or is an empty folder, and
// that neither lies inside DIR (which must stay untouched) nor contains it.
func checkOutput(dir, output string) error {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("engram-wal: %w", err)
	}
	absOut, err := filepath.Abs(output)
	if err != nil {
		return fmt.Errorf("engram-wal: %w", err)
	}
	if within(absOut, absDir) || within(absDir, absOut) {
		return fmt.Errorf("%w: %s and %s overlap; write the copy outside the folder read", errOutput, output, dir)
	}
	ents, err := os.ReadDir(output)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%w: %v", errOutput, err)
	case len(ents) > 0:
		return fmt.Errorf("%w: %s is not empty; repair never writes over anything", errOutput, output)
	}
	return nil
}

// within reports whether path is base or lies under it.
func within(path, base string) bool {
	rel, err := filepath.Rel(base, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// copySpaceFiles copies everything of a space folder except its wal folder (space.json, the
// tiers) to dst and returns how many files it copied.
func copySpaceFiles(src, dst string) (int, error) {
	copied := 0
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel == walFolder && d.IsDir() {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case d.Type()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			copied++
			return copyFile(path, target, info.Mode().Perm())
		}
		return nil // sockets, devices: not part of a space
	})
	if err != nil {
		return copied, fmt.Errorf("engram-wal: copy %s: %w", src, err)
	}
	return copied, nil
}

// copyFile copies src to a new file dst and makes it durable.
func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
