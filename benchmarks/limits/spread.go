package limits

import (
	"errors"
	"fmt"
	"os"
)

// SpreadProbe is a set of probe files in one folder that WriteSync appends to and makes
// durable together, as a round of the write-ahead log's Committer makes the logs of many
// spaces durable at once. Against a SyncProbe writing the same bytes to one file it
// measures what the disk charges for spreading a round's records over files: each file is
// a separate write the device must complete before the round's cache flush, however many
// are queued.
type SpreadProbe struct {
	probes []*SyncProbe
	files  []*os.File
}

// NewSpreadProbe creates files probe files in dir, each taking size bytes per WriteSync.
func NewSpreadProbe(dir string, files, size int) (*SpreadProbe, error) {
	if files <= 0 || size <= 0 {
		return nil, fmt.Errorf("spread probe of %d files × %d bytes: %w", files, size, ErrInvalidArgument)
	}
	p := &SpreadProbe{}
	for range files {
		one, err := NewSyncProbe(dir, size)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.probes, p.files = append(p.probes, one), append(p.files, one.f)
	}
	return p, nil
}

// WriteSync appends one block to every file and waits until all of them are durable.
func (p *SpreadProbe) WriteSync() error {
	for _, one := range p.probes {
		if err := one.write(); err != nil {
			return err
		}
	}
	if err := syncAll(p.files); err != nil {
		return fmt.Errorf("spread probe sync: %w", err)
	}
	return nil
}

// Close closes and removes the probe files.
func (p *SpreadProbe) Close() error {
	var errs []error
	for _, one := range p.probes {
		errs = append(errs, one.Close())
	}
	p.probes, p.files = nil, nil
	return errors.Join(errs...)
}
