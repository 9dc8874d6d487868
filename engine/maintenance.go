package engine

import (
	"context"
	"fmt"
	"time"
)

// CompactReport is what a CompactTiers did: the space's figures before and after.
type CompactReport struct {
	Before, After Stats
	CheckpointLSN uint64 // the WAL position the tier files now cover
	Took          time.Duration
}

// CompactTiers runs a checkpoint of the space now (docs/tiers.md): hot memories past the
// hot capacity are sealed into a warm segment, warm segments past the warm capacity are
// compacted into a cold one, the rest of the hot tier into a snapshot, and the WAL below
// the covered position is dropped. It opens the space if needed.
func (s *Space) CompactTiers(ctx context.Context) (CompactReport, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return CompactReport{}, err
	}
	st, err := s.acquireForWrite()
	if err != nil {
		return CompactReport{}, err
	}
	s.mu.RUnlock()
	rep := CompactReport{Before: s.Stats()}
	if st, err = s.acquireForWrite(); err != nil {
		return rep, err
	}
	err = st.checkpoint()
	st.cpRun.Lock() // the manifest is replaced by checkpoints, which hold cpRun
	rep.CheckpointLSN = st.manifest.CheckpointLSN
	st.cpRun.Unlock()
	s.mu.RUnlock()
	if err != nil {
		s.e.cfg.Logger.Error("checkpoint failed", "space", s.id, "err", err)
		return rep, fmt.Errorf("%w: the checkpoint of space %q failed", ErrStorage, s.id)
	}
	rep.After = s.Stats()
	rep.Took = time.Since(start)
	return rep, nil
}
