package engine

// When a checkpoint runs: a write or the engine's once-a-second loop finds one due and
// starts it in the background, owned by the engine (workers.go).

// needsCheckpoint reports whether the hot tier is past its capacity or the WAL has grown
// enough since the last checkpoint.
func (st *state) needsCheckpoint() bool {
	st.mu.RLock()
	hot := st.hotCount
	st.mu.RUnlock()
	if c := st.sp.settings.HotCapacity; c > 0 && hot > c {
		return true
	}
	return st.log.Stats().Bytes > checkpointTrigger(hot, st.dim)
}

// checkpointTrigger is the WAL size past which a checkpoint runs: checkpointBytes, or the
// size of the hot snapshot the checkpoint rewrites when that is larger, so a checkpoint
// never writes more than the log grew by since the last one (a hot tier of 100,000
// memories of 768 dimensions is a 300 MiB snapshot; rewriting it after every 64 MiB of
// log would write five times what was ingested). Recovery then replays a tail about as
// large as the hot tier it would otherwise have loaded from the snapshot.
func checkpointTrigger(hot, dim int) int64 {
	const perMemory = 256 // metadata, content and framing beside the vector, a fair guess
	return max(checkpointBytes, int64(hot)*int64(4*dim+perMemory))
}

// maybeCheckpoint starts a checkpoint in the background when one is due and none runs.
func (s *Space) maybeCheckpoint() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.st != nil {
		s.checkpointSoon(s.st)
	}
}

// checkpointSoon starts a checkpoint of st in the background, owned by the engine, when
// one is due and none runs. Caller holds s.mu shared, with st the open state.
func (s *Space) checkpointSoon(st *state) {
	if !st.needsCheckpoint() || !st.cpRun.TryLock() {
		return
	}
	st.cpRun.Unlock()
	s.e.work.goDo(func() { s.checkpointInBackground(st) })
}

// checkpointInBackground checkpoints st, then renumbers the space's rows if the
// checkpoint stranded enough slab rows. It holds s.mu shared for the checkpoint, which
// keeps st open meanwhile; if st was closed before it got the lock, closing already
// checkpointed it.
func (s *Space) checkpointInBackground(st *state) {
	s.mu.RLock()
	if s.st != st {
		s.mu.RUnlock()
		return
	}
	err := st.checkpoint()
	waste := st.slabWaste()
	s.mu.RUnlock()
	if err != nil {
		s.e.cfg.Logger.Warn("checkpoint failed", "space", s.id, "err", err)
		return
	}
	if waste > max(s.settings.HotCapacity, minSlabWaste) {
		s.renumber(st)
	}
}
