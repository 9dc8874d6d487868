package partlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/engram-go/engram/internal/durable"
)

// appliedDir is the folder of the applied-sequence files under the data root. Its name is
// no valid space id, so the engine never takes it for a space.
const appliedDir = ".cluster"

// appliedPath is the file holding the last stream sequence of partition p copied into the
// local spaces' logs.
func appliedPath(dataRoot string, p int) string {
	return filepath.Join(dataRoot, appliedDir, "p"+strconv.Itoa(p)+".seq")
}

// ReadApplied returns the applied sequence of partition p, 0 when none was recorded.
func ReadApplied(dataRoot string, p int) (uint64, error) {
	b, err := os.ReadFile(appliedPath(dataRoot, p))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("partlog: applied sequence of partition %d: %w", p, err)
	}
	seq, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("partlog: applied sequence of partition %d: %w", p, err)
	}
	return seq, nil
}

// writeApplied records seq as partition p's applied sequence, durably.
func writeApplied(dataRoot string, p int, seq uint64) error {
	path := appliedPath(dataRoot, p)
	if err := durable.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("partlog: %w", err)
	}
	if err := durable.WriteFileBytes(path, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("partlog: applied sequence of partition %d: %w", p, err)
	}
	return nil
}
