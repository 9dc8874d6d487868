package wal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/engram-go/engram/internal/durable"
)

// applyInPlace makes a segment's recovery outcome real in its own folder. It returns the path the
// damaged original was kept under, if any.
func applyInPlace(r *segmentRecovery, data []byte) (string, error) {
	path := r.file.path
	switch {
	case r.drop:
		if r.size <= headerSize {
			if err := os.Remove(path); err != nil {
				return "", fmt.Errorf("wal: remove torn segment: %w", err)
			}
			return "", durable.SyncDir(filepath.Dir(path))
		}
		broken, err := brokenName(path)
		if err != nil {
			return "", err
		}
		if err := durable.Rename(path, broken); err != nil {
			return "", fmt.Errorf("wal: set aside damaged segment: %w", err)
		}
		return broken, nil
	case r.rewrite != nil:
		return replaceSegment(path, r.rewrite)
	case r.tornBytes > 0:
		return "", truncateSegment(path, int64(r.goodEnd))
	}
	return "", nil
}

// replaceSegment puts a repaired copy in place of the segment at path and keeps the original as
// <name>.broken. Order matters for crash safety: the copy is durable under a temporary name
// before the original gets its second name, and the rename over the original is atomic, so at
// every instant the segment's name refers to a whole file.
func replaceSegment(path string, content []byte) (string, error) {
	dir := filepath.Dir(path)
	tmp := path + tempExt
	if err := writeFileSync(tmp, content); err != nil {
		return "", err
	}
	broken, err := brokenName(path)
	if err != nil {
		return "", err
	}
	if err := os.Link(path, broken); err != nil {
		// Some filesystems have no hard links: keep a copy instead.
		if cerr := copyFileSync(path, broken); cerr != nil {
			return "", fmt.Errorf("wal: keep damaged segment: %w", errors.Join(err, cerr))
		}
	}
	if err := durable.SyncDir(dir); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("wal: install repaired segment: %w", err)
	}
	return broken, durable.SyncDir(dir)
}

// brokenName returns an unused name to keep a damaged segment under: <name>.broken, or
// <name>.<n>.broken when an earlier repair already used that.
func brokenName(path string) (string, error) {
	for n := 1; n < 1000; n++ {
		name := path + brokenExt
		if n > 1 {
			name = fmt.Sprintf("%s.%d%s", path, n, brokenExt)
		}
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name, nil
		} else if err != nil {
			return "", fmt.Errorf("wal: %w", err)
		}
	}
	return "", fmt.Errorf("wal: too many damaged copies of %s", path)
}

// truncateSegment cuts a torn tail off a segment and makes the new length durable.
func truncateSegment(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("wal: cut torn tail: %w", err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return fmt.Errorf("wal: cut torn tail of %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("wal: cut torn tail of %s: %w", path, err)
	}
	return f.Close()
}

// writeFileSync creates (or replaces) path with content and fsyncs it.
func writeFileSync(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("wal: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("wal: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("wal: close %s: %w", path, err)
	}
	return nil
}

// copyFileSync copies src to a new file dst and fsyncs it.
func copyFileSync(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
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

// removeTemps deletes repaired copies left behind by a crash before they were renamed into place;
// the damaged original is still in place and is repaired again.
func removeTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if base, ok := strings.CutSuffix(name, tempExt); ok && e.Type().IsRegular() {
			if _, isSeg := ParseSegmentName(base); isSeg {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					return fmt.Errorf("wal: remove stale temp file: %w", err)
				}
			}
		}
	}
	return nil
}

// RepairCopy recovers the log in srcDir as Open would (torn tail of the last segment cut, damaged
// frames dropped, damaged headers rebuilt) and writes the result to dstDir, which is created and
// must not already hold segments. srcDir is only read. With dstDir == "" nothing is written
// (a dry run); the stats are the same. Broken lists the source segments Open would set aside
// as *.broken; Records counts every intact record.
func RepairCopy(srcDir, dstDir string, logger *slog.Logger) (RecoveryStats, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	files, err := listSegmentFiles(srcDir)
	if err != nil {
		return RecoveryStats{}, err
	}
	if dstDir != "" {
		if err := os.MkdirAll(dstDir, 0o755); err != nil {
			return RecoveryStats{}, fmt.Errorf("wal: %w", err)
		}
		existing, err := listSegmentFiles(dstDir)
		if err != nil {
			return RecoveryStats{}, err
		}
		if len(existing) > 0 {
			return RecoveryStats{}, fmt.Errorf("wal: repair: %s already holds segments", dstDir)
		}
	}
	space := "" // for rebuilt headers: the name the intact headers carry
	for _, sf := range files {
		if h, err := readHeader(sf.path); err == nil {
			space = h.Space
			break
		}
	}
	records := 0
	lr, err := recoverLog(files, 0, space, logger, func(Frame) error { records++; return nil },
		func(r *segmentRecovery, data []byte) (string, error) {
			if dstDir != "" && !r.drop {
				content := data[:r.goodEnd]
				if r.rewrite != nil {
					content = r.rewrite
				}
				if err := writeFileSync(filepath.Join(dstDir, SegmentName(r.file.seq)), content); err != nil {
					return "", err
				}
			}
			if r.rewrite != nil || (r.drop && r.size > headerSize) {
				return r.file.path, nil
			}
			return "", nil
		})
	lr.stats.Records = records
	if err != nil {
		return lr.stats, err
	}
	if dstDir != "" {
		return lr.stats, durable.SyncDir(dstDir)
	}
	return lr.stats, nil
}
