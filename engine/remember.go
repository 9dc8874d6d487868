package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
)

// RememberOptions tune one remember.
type RememberOptions struct {
	// AutoLink makes the call wait for the memory's association edges and return them.
	AutoLink bool
	// LinkThreshold overrides the minimum similarity of a similarity edge (0 = default).
	LinkThreshold float32
	// Preserve keeps the memory's stored_at, last_access and access_count as given (when
	// stored_at is set) instead of stamping them now: used by restore and merge, which
	// replay memories from elsewhere with all their fields.
	Preserve bool
}

// AutoLink is one association edge created for a remembered memory.
type AutoLink struct {
	TargetID   string
	Similarity float32
	Reason     string
}

// RememberResult describes a stored memory.
type RememberResult struct {
	Memory Memory // as stored, without the embedding
	Links  []AutoLink
	LSN    uint64
}

// prepare validates m and fills defaults. It never modifies stored data. It reports whether
// it gave m a new id: 96 random bits, which nobody else can name yet and which a stored
// memory holds only by a chance of 2^-96 per stored memory, small enough to treat as new.
func (s *Space) prepare(m *Memory, preserve bool) (generated bool, err error) {
	if m.ID == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		m.ID = "mem_" + hex.EncodeToString(b[:])
		generated = true
	} else if err := ValidateID(m.ID); err != nil {
		return false, err
	}
	switch CheckContent(m.Content, MaxContentBytes) {
	case ContentEmpty:
		return false, fmt.Errorf("%w: content must not be empty", ErrInvalidInput)
	case ContentTooLong:
		return false, fmt.Errorf("%w: content is %d bytes, the limit is %d", ErrInvalidInput, len(m.Content), MaxContentBytes)
	case ContentNotUTF8:
		return false, fmt.Errorf("%w: content is not valid UTF-8", ErrInvalidInput)
	}
	if !(m.Confidence >= 0 && m.Confidence <= 1) {
		return false, fmt.Errorf("%w: confidence must be between 0 and 1", ErrInvalidInput)
	}
	if m.Embedding != nil {
		if err := ValidateEmbedding(m.Embedding, s.settings.Dimension); err != nil {
			return false, err
		}
	}
	if len(m.Tags) > MaxTags {
		return false, fmt.Errorf("%w: at most %d tags", ErrInvalidInput, MaxTags)
	}
	for i, t := range m.Tags {
		if t == "" || len(t) > MaxTagLen || !utf8.ValidString(t) {
			return false, fmt.Errorf("%w: tags[%d] must be 1-%d bytes of UTF-8", ErrInvalidInput, i, MaxTagLen)
		}
	}
	if m.Type == 0 {
		m.Type = Episodic
	}
	if m.Type < Episodic || m.Type > Procedural {
		return false, fmt.Errorf("%w: memory_type %d is unknown", ErrInvalidInput, m.Type)
	}
	if e := m.Episode; e != nil {
		if !(e.EmotionalValence >= -1 && e.EmotionalValence <= 1) {
			return false, fmt.Errorf("%w: emotional_valence must be between -1 and 1", ErrInvalidInput)
		}
		if !(e.Importance >= 0 && e.Importance <= 1) {
			return false, fmt.Errorf("%w: importance must be between 0 and 1", ErrInvalidInput)
		}
	}
	now := s.e.cfg.Now().UTC()
	if m.ObservedAt.IsZero() {
		m.ObservedAt = now
	}
	m.ObservedAt = m.ObservedAt.UTC()
	if !preserve || m.StoredAt.IsZero() {
		m.StoredAt = now
		m.LastAccess = time.Time{}
		m.AccessCount = 0
	}
	m.StoredAt = m.StoredAt.UTC()
	if !m.LastAccess.IsZero() {
		m.LastAccess = m.LastAccess.UTC()
	}
	m.Tier = TierHot
	if m.Type == Semantic && len(m.Citations) > 0 && !preserve {
		return false, fmt.Errorf("%w: citations are set by consolidation only", ErrInvalidInput)
	}
	return generated, nil
}

// lockIDs locks the given memory ids (each once, in sorted order so concurrent batches
// cannot deadlock) and returns the function that unlocks them. Operations on one id are
// serialised so that WAL order equals apply order; different ids never wait on each other,
// even while one of them waits for its fsync.
func (st *state) lockIDs(ids ...string) (unlock func()) {
	if len(ids) == 1 { // every single remember and forget: no copy, sort or slice
		id := ids[0]
		l := st.idl.acquire(id)
		return func() { st.idl.release(id, l) }
	}
	ids = append([]string(nil), ids...)
	sort.Strings(ids)
	ids = slices.Compact(ids)
	held := make([]*idLock, len(ids))
	for i, id := range ids {
		held[i] = st.idl.acquire(id)
	}
	return func() {
		for i, l := range held {
			st.idl.release(ids[i], l)
		}
	}
}

// Remember validates, logs and stores one memory. With the default sync mode it returns
// only after the memory's WAL record is on disk.
func (s *Space) Remember(ctx context.Context, m Memory, opts RememberOptions) (RememberResult, error) {
	res, errs := s.RememberBatch(ctx, []Memory{m}, opts)
	return res[0], errs[0]
}

// RememberBatch stores many memories with one group commit. errs[i] is non-nil for an
// item that was rejected; the others are stored.
func (s *Space) RememberBatch(ctx context.Context, ms []Memory, opts RememberOptions) ([]RememberResult, []error) {
	if err := s.ready(); err != nil {
		errs := make([]error, len(ms))
		for i := range errs {
			errs[i] = err
		}
		return make([]RememberResult, len(ms)), errs
	}
	if s.emb.remote != nil {
		return s.rememberEmbedded(ctx, ms, opts)
	}
	return s.rememberBatch(ctx, ms, opts)
}

// rememberBatch stores memories whose vectors are given or made by the built-in embedder.
func (s *Space) rememberBatch(ctx context.Context, ms []Memory, opts RememberOptions) ([]RememberResult, []error) {
	if err := ctx.Err(); err != nil {
		return failAll(len(ms), err)
	}
	s.e.noteForeground()
	st, err := s.acquireForWrite()
	if err != nil {
		return failAll(len(ms), err)
	}
	if wait := s.e.cfg.admitWait; wait > 0 && (st.link.progress.waiting() > 0 || st.link.admit() != nil) {
		// Past a lag bound, or others wait: wait for the lanes in turn, without the space's
		// lock, which a closing waits for, then look again (rememberLocked refuses if the
		// lag is still past it).
		s.mu.RUnlock()
		release := st.link.awaitRoom(ctx, wait)
		defer release()
		if err := ctx.Err(); err != nil {
			return failAll(len(ms), err)
		}
		if st, err = s.acquireForWrite(); err != nil {
			return failAll(len(ms), err)
		}
	}
	defer s.mu.RUnlock()
	return s.rememberLocked(ctx, st, ms, opts)
}

// failAll is the answer of a batch of n memories none of which is stored, for err.
func failAll(n int, err error) ([]RememberResult, []error) {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return make([]RememberResult, n), errs
}

// rememberLocked is RememberBatch with the state acquired by the caller.
func (s *Space) rememberLocked(ctx context.Context, st *state, ms []Memory, opts RememberOptions) ([]RememberResult, []error) {
	res := make([]RememberResult, len(ms))
	errs := make([]error, len(ms))
	var ok []int
	var fresh []bool // by position in ok: the id was generated here
	for i := range ms {
		// The caller's embedding is only read (the log encodes it, the slab takes a
		// normalised copy) and not kept once the call returns.
		if len(ms[i].Embedding) == 0 {
			ms[i].Embedding = nil
		}
		generated, err := s.prepare(&ms[i], opts.Preserve)
		if err != nil {
			errs[i] = err
			continue
		}
		ok = append(ok, i)
		fresh = append(fresh, generated)
	}
	if len(ok) == 0 {
		return res, errs
	}
	// Embedding is the expensive part of a text-only remember, and the slab's copy of the
	// vector is normalised and quantised here too: all before any lock.
	slabRows := make([]slabRow, len(ok))
	for k, i := range ok {
		slabRows[k] = st.slabRowFor(&ms[i], ms[i].Embedding)
	}
	defer func() {
		for _, v := range slabRows {
			st.releaseRow(v)
		}
	}()

	// Lock every id stripe involved, in a fixed order, so that WAL order equals apply order.
	ids := make([]string, len(ok))
	for k, i := range ok {
		ids[k] = ms[i].ID
	}
	defer st.lockIDs(ids...)()

	// Capacity: count ids that are new to the space. One shared hold of st.mu for every
	// check: on the write path each acquisition is a chance to queue behind a writer.
	st.mu.RLock()
	newIDs := 0
	var seen map[string]bool // only a batch can name an id twice
	if len(ok) > 1 {
		seen = make(map[string]bool, len(ok))
	}
	for k, i := range ok {
		id := ms[i].ID
		if fresh[k] {
			newIDs++ // no need to look: a generated id is in no map
			continue
		}
		if _, exists := st.rowOf(id); !exists && !seen[id] {
			newIDs++
		}
		if seen != nil {
			seen[id] = true
		}
	}
	hot, next := st.hotCount, len(st.byRow)
	st.mu.RUnlock()
	if limit := int64(s.settings.totalCapacity()); limit > 0 {
		if n := st.reserved.Add(int64(newIDs)); n > limit {
			st.reserved.Add(-int64(newIDs))
			err := fmt.Errorf("%w: space %q holds %d of %d memories (hot + warm + cold capacity)", ErrCapacity, s.id, n-int64(newIDs), limit)
			for _, i := range ok {
				errs[i] = err
			}
			return res, errs
		}
	} else {
		st.reserved.Add(int64(newIDs))
	}
	if c := s.settings.HotCapacity; c > 0 && newIDs > 0 {
		if hot+newIDs > hotHardLimit*c {
			st.reserved.Add(-int64(newIDs))
			s.checkpointSoon(st)
			err := fmt.Errorf("%w: the hot tier of space %q is being sealed to the warm tier", ErrOverloaded, s.id)
			for _, i := range ok {
				errs[i] = err
			}
			return res, errs
		}
	}
	if err := st.link.admit(); err != nil {
		st.reserved.Add(-int64(newIDs))
		for _, i := range ok {
			errs[i] = err
		}
		return res, errs
	}

	entries := make([]wal.Entry, len(ok))
	var one [1]*[]byte
	bufs := one[:]
	if len(ok) > 1 {
		bufs = make([]*[]byte, len(ok))
	}
	for k, i := range ok {
		// The log keeps the embedding as given; the slab has its normalised copy.
		b := st.payload()
		*b = encodeMemory(*b, &ms[i], ms[i].Embedding)
		bufs[k] = b
		entries[k] = wal.Entry{Type: record.TypeRemember, Payload: *b}
		ms[i].Embedding = nil
	}
	st.cp.RLock() // from append to apply: see state.cp
	first, err := st.log.AppendBatch(entries)
	for _, b := range bufs[:len(ok)] {
		st.releasePayload(b) // AppendBatch copied it into the log's batch
	}
	if err != nil {
		st.cp.RUnlock()
		st.reserved.Add(-int64(newIDs))
		err = st.checkLog(err)
		for _, i := range ok {
			errs[i] = err
		}
		return res, errs
	}

	jobs := make([]*linkJob, len(ok))
	rows := make([]uint32, len(ok))
	st.slab.reserve(next, next+len(ok)+64) // others may append meanwhile; applyRemember grows if needed
	st.apply.apply(st, &applyReq{ms: ms, ok: ok, fresh: fresh, vecs: slabRows, first: first, rows: rows, res: res})
	for k, i := range ok {
		// Still under the id lock, so no forget or replace of this memory can interleave.
		if v := slabRows[k]; v.tokenized {
			st.lex.AddTerms(rows[k], v.terms)
		} else {
			st.lex.Add(rows[k], ms[i].Content)
		}
		jobs[k] = st.link.enqueue(rows[k], ms[i].ID, ms[i].StoredAt.UnixNano(), opts, opts.AutoLink)
	}
	st.cp.RUnlock() // before waiting on the linker, which takes it too
	st.slab.prefault(next + len(ok))

	for k, i := range ok {
		m := &ms[i]
		if opts.AutoLink {
			res[i].Links = jobs[k].wait(ctx)
		}
		stored := StoredMemory{Preview: preview(m.Content, 80), Confidence: m.Confidence, Type: m.Type}
		s.hub.publishAs(Event{Space: s.id, MemoryID: m.ID, Time: s.e.cfg.Now().UTC(), Importance: m.Confidence, Stored: stored},
			EventStorage, EventFormation)
	}
	return res, errs
}

func preview(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
