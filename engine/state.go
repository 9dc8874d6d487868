package engine

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/tier"
	"github.com/engram-go/engram/engine/wal"
	"github.com/engram-go/engram/simd"
)

// liveMemory is one live memory. Its metadata is always in RAM; its vector lives in the slab
// at its row while it is hot (seg == nil), or in a warm or cold segment at idx.
type liveMemory struct {
	m      memMeta
	acc    access
	hasVec bool
	// linked is set once the linker's edges for the memory are applied, which happens
	// under st.mu shared (linker.process): recalls in flight need not wait for it.
	linked atomic.Bool
	seg    *segment
	idx    int32
}

// memMeta is what a live memory keeps of its Memory: the embedding is in the slab or a
// segment (state.vectorInto) and the reinforcement in liveMemory.acc. Opening a space writes
// a million of these into memory the process has never touched, so every byte left out of
// them is a page fault fewer (a whole Memory took 256 bytes per row with liveMemory's own).
type memMeta struct {
	ID, Content          string
	Tags, Citations      []string
	Episode              *Episode
	ObservedAt, StoredAt time.Time
	Confidence           float32
	Type                 MemoryType
	Tier                 Tier
}

// metaOf is what a live memory keeps of m.
func metaOf(m *Memory) memMeta {
	return memMeta{
		ID: m.ID, Content: m.Content, Tags: m.Tags, Citations: m.Citations, Episode: m.Episode,
		ObservedAt: m.ObservedAt, StoredAt: m.StoredAt, Confidence: m.Confidence, Type: m.Type, Tier: m.Tier,
	}
}

// memory is the Memory mm keeps, without embedding and reinforcement.
func (mm *memMeta) memory() Memory {
	return Memory{
		ID: mm.ID, Content: mm.Content, Tags: mm.Tags, Citations: mm.Citations, Episode: mm.Episode,
		ObservedAt: mm.ObservedAt, StoredAt: mm.StoredAt, Confidence: mm.Confidence, Type: mm.Type, Tier: mm.Tier,
	}
}

// state is the open part of a space: WAL, hot tier, indexes and graph.
//
// Invariants: a memory is applied to the hot tier only after its WAL record was appended
// (durable in "always" mode); operations on one memory id are serialised by its id lock,
// so WAL order equals apply order per id; rows are never reused while the state is open, so
// row numbers held by the indexes and the graph never change meaning.
type state struct {
	sp  *Space
	log *wal.WAL
	dim int

	idl      idLocks
	apply    applier   // batches remembers' exclusive sections
	rowBufs  sync.Pool // *rowBuf of this space's dimension, for slabVector
	payloads sync.Pool // *[]byte record payloads, between encoding and the log's copy

	mu    sync.RWMutex // guards everything below
	byID  idMap
	byRow []*liveMemory // by row; nil = dead row
	slab  *slab         // normalised embeddings of the hot tier
	norms []float32     // original L2 norm of each row's embedding
	live  int
	lex   *index.Lexical
	graph *graph.Graph
	hnsw  *index.HNSW

	reserved atomic.Int64 // live + new memories in flight, for the capacity check
	// rows is len(byRow), stored once a new row is complete (slab vector, metadata): recall's
	// vector stage reads it without st.mu (recall.go, vectorStage).
	rows atomic.Int64

	consolidated map[string]bool // episode ids cited by a live semantic memory

	// cp is held shared by every writer from its WAL append to its apply, and exclusively
	// by a checkpoint for the instant it reads the LSN it will cover: at that instant every
	// appended record has been applied.
	cp       sync.RWMutex
	cpRun    sync.Mutex // one checkpoint at a time
	segs     []*segment // live warm and cold segments, guarded by mu
	manifest tier.Manifest
	hotCount int // live memories in the hot tier, guarded by mu

	link linker
	acc  accessLog

	failed   atomic.Bool  // the WAL failed; the space reopens from disk (Space.acquire)
	failedAt atomic.Int64 // unix nanos of the failure or of the last recovery attempt
	cause    atomic.Value // error
}

// checkLog notes a WAL failure: the log refuses everything after one, so the state must
// be recovered from disk. It returns err wrapped as ErrStorage, without file paths, for
// the client; the full error goes to the server log.
func (st *state) checkLog(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, wal.ErrFailed) || errors.Is(err, wal.ErrClosed) {
		if !st.failed.Swap(true) {
			st.cause.Store(err)
			st.failedAt.Store(time.Now().UnixNano())
			st.sp.e.cfg.Logger.Error("write-ahead log failed; the space will be recovered from disk", "space", st.sp.id, "err", err)
		}
		if errors.Is(err, ErrNotOwner) {
			return fmt.Errorf("%w: space %q", ErrNotOwner, st.sp.id)
		}
		return fmt.Errorf("%w: space %q could not write its log", ErrStorage, st.sp.id)
	}
	return err
}

func (st *state) failCause() string {
	if err, ok := st.cause.Load().(error); ok && errors.Is(err, syscall.ENOSPC) {
		return "no space left on the device"
	}
	return "the log could not be written"
}

func openState(sp *Space) (*state, wal.RecoveryStats, error) {
	st := &state{
		sp:           sp,
		dim:          sp.settings.Dimension,
		byID:         newIDMap(),
		consolidated: map[string]bool{},
		lex:          index.NewLexical(),
		graph:        graph.New(),
	}
	var replicator wal.Replicator
	if r := sp.e.replicationHook(); r != nil {
		var err error
		if replicator, err = r.Log(sp.id); err != nil {
			return nil, wal.RecoveryStats{}, err
		}
	} else if sp.e.cfg.Replicated {
		return nil, wal.RecoveryStats{}, fmt.Errorf("%w: the node has not joined its cluster yet", ErrNotOwner)
	}
	st.slab = newSlab(st.dim)
	st.hnsw = st.newHNSW()
	after, loaded, damaged, err := st.loadCheckpoint()
	if err != nil {
		return nil, wal.RecoveryStats{}, err
	}
	var replayErr error
	log, rs, err := wal.Open(wal.Options{
		Dir:          sp.walDir(),
		Space:        sp.id,
		SegmentBytes: sp.settings.WALSegmentBytes,
		Sync:         sp.syncMode,
		Committer:    sp.e.commits,
		Background:   record.Background,
		Replicator:   replicator,
		Logger:       sp.e.cfg.Logger.With("space", sp.id),
		OnSync: func(d time.Duration, n int) {
			sp.e.walSync.Update(d.Seconds())
			sp.e.walBatch.Update(float64(n))
		},
	}, after, func(r wal.Record) error {
		if err := st.replay(r); err != nil {
			// A record that passed its checksum but does not decode is counted and skipped,
			// like a damaged frame: the space still opens with everything else.
			sp.e.cfg.Logger.Warn("skipping undecodable WAL record", "space", sp.id, "lsn", r.LSN, "err", err)
			replayErr = err
		}
		return nil
	})
	if err != nil {
		st.closeSegments()
		return nil, rs, err
	}
	if replayErr != nil {
		rs.Corrupted++
	}
	rs.Records += loaded
	rs.Corrupted += damaged
	st.log = log
	st.reserved.Store(int64(st.live))
	sp.memories.Store(int64(st.live))
	st.link.start(st)
	return st, rs, nil
}

// newHNSW returns an empty vector index over the slab's rows.
func (st *state) newHNSW() *index.HNSW {
	return index.NewHNSW(st.dim, index.HNSWConfig{Seed: 1, EfConstruction: hnswEfConstruction, Codes: st.slab.code}, st.vectorOf)
}

func (st *state) close() error {
	st.link.stop()
	st.acc.flush(st)
	var cpErr error
	if st.log.Stats().Bytes > checkpointOnCloseBytes {
		cpErr = st.checkpoint()
	}
	err := st.log.Close()
	st.closeSegments()
	if err == nil {
		err = cpErr
	}
	return err
}

// discard closes a state whose space is being deleted: the lanes stop, and nothing is
// flushed or checkpointed.
func (st *state) discard() {
	st.link.stop()
	_ = st.log.Close()
	st.closeSegments()
}

// busy reports whether background work is pending, so an idle sweep leaves the state open.
func (st *state) busy() bool { return st.link.pending() > 0 || st.acc.pendingCount() > 0 }

// replay applies one recovered WAL record.
func (st *state) replay(r wal.Record) error {
	switch r.Type {
	case record.TypeRemember:
		m, raw, err := decodeMemory(r.Payload)
		if err != nil {
			return err
		}
		v := st.slabRowFor(&m, raw)
		st.mu.Lock()
		row := st.applyRemember(&m, v, false)
		st.releaseRow(v)
		st.lex.Add(row, m.Content)
		st.mu.Unlock()
	case record.TypeForget:
		id, err := record.DecodeForget(r.Payload)
		if err != nil {
			return err
		}
		st.mu.Lock()
		st.applyForget(id)
		st.mu.Unlock()
	case record.TypeLinks:
		src, version, links, err := record.DecodeLinks(r.Payload)
		if err != nil {
			return err
		}
		st.mu.Lock()
		st.applyLinks(src, version, links)
		st.mu.Unlock()
	case record.TypePromote:
		id, version, err := record.DecodePromote(r.Payload)
		if err != nil {
			return err
		}
		st.mu.Lock()
		st.applyPromote(id, version)
		st.mu.Unlock()
	case record.TypeAccess:
		as, err := record.DecodeAccess(r.Payload)
		if err != nil {
			return err
		}
		st.mu.Lock()
		for _, a := range as {
			if row, ok := st.rowOf(a.ID); ok {
				st.byRow[row].acc.set(a.Count, a.Last)
			}
		}
		st.mu.Unlock()
	default:
		return fmt.Errorf("engine: unknown record type %d", r.Type)
	}
	return nil
}

// vectorOf gives the indexes a row's normalised vector without taking st.mu (see slab),
// so index locks may be taken while st.mu is held, never the other way round.
func (st *state) vectorOf(row uint32) []float32 { return st.slab.row(row) }

// unitNormSlack is how far from 1 a vector's norm may be for it to count as unit length.
const unitNormSlack = 1e-5

// slabRow is a memory's vector as the slab keeps it: normalised, with its code.
type slabRow struct {
	vec   []float32 // unit length; nil when the memory has no vector
	norm  float32   // the length the vector had
	code  []int8
	scale float32
	buf   *rowBuf // where vec and code live; back to st.rowBufs once applied (nil-safe)
	// terms are the content's lexical terms when the built-in embedder found them on its
	// way (tokenized); they live in buf too.
	terms     []string
	tokenized bool
}

// rowBuf holds one slabRow's vector, code and terms between slabVector and the apply.
type rowBuf struct {
	vec   []float32
	code  []int8
	terms []string
}

// maxPooledTerms bounds the term buffers kept with the row buffers for reuse.
const maxPooledTerms = 1024

// slabRowFor is the slabRow a memory is indexed by: of raw (its embedding as given; only
// read) or, when it has none, of the built-in embedder's vector of its content, written
// straight into the row's buffer (no row with provider "none"). The caller returns the
// buffer once the row is applied (releaseRow). It needs no lock: the work happens before
// the exclusive section of a remember.
func (st *state) slabRowFor(m *Memory, raw []float32) slabRow {
	if raw != nil || st.sp.embedder == nil {
		return st.slabVector(raw)
	}
	buf := st.rowBuf()
	tokenized := false
	if h, ok := st.sp.embedder.(*embed.Hash); ok {
		buf.terms, tokenized = h.EmbedTerms(m.Content, buf.vec, buf.terms[:0]), true
	} else {
		st.sp.embedder.Embed(m.Content, buf.vec)
	}
	norm := simd.Norm(buf.vec)
	if !(norm > 0) { // a text without tokens
		st.releaseRow(slabRow{buf: buf})
		return slabRow{}
	}
	v := finishRow(buf, norm)
	v.terms, v.tokenized = buf.terms, tokenized
	return v
}

// slabVector makes vec (only read) a slabRow in a buffer from st.rowBufs.
func (st *state) slabVector(vec []float32) slabRow {
	if len(vec) != st.dim {
		return slabRow{}
	}
	norm := simd.Norm(vec)
	if !(norm > 0) {
		return slabRow{}
	}
	buf := st.rowBuf()
	copy(buf.vec, vec)
	return finishRow(buf, norm)
}

// rowBuf takes a row buffer from st.rowBufs.
func (st *state) rowBuf() *rowBuf {
	buf, _ := st.rowBufs.Get().(*rowBuf)
	if buf == nil {
		buf = &rowBuf{vec: make([]float32, st.dim), code: make([]int8, st.dim)}
	}
	return buf
}

// finishRow normalises the vector in buf, of length norm, and quantises it.
func finishRow(buf *rowBuf, norm float32) slabRow {
	v := slabRow{vec: buf.vec, norm: norm, code: buf.code, buf: buf}
	if math.Abs(float64(norm)-1) <= unitNormSlack {
		// Already unit length (the built-in embedder's vectors, most model embeddings):
		// stored bit for bit, so exports and re-imports round-trip exactly.
		v.norm = 1
	} else {
		simd.Scale(1/norm, v.vec)
	}
	v.scale = simd.Quantize(v.vec, v.code)
	return v
}

// releaseRow returns v's buffer once v is applied.
func (st *state) releaseRow(v slabRow) {
	if v.buf != nil {
		clear(v.buf.terms) // they may hold the memory's content
		if cap(v.buf.terms) > maxPooledTerms {
			v.buf.terms = nil
		}
		st.rowBufs.Put(v.buf)
	}
}

// maxPooledPayload bounds the record buffers kept for reuse: a memory with a long content
// gets a buffer of its own.
const maxPooledPayload = 64 << 10

// payload returns a buffer to encode a record into; releasePayload takes it back once the
// log has copied the record. The pool holds the pointers themselves, so that putting a
// buffer back allocates nothing.
func (st *state) payload() *[]byte {
	if b, ok := st.payloads.Get().(*[]byte); ok {
		*b = (*b)[:0]
		return b
	}
	return new([]byte)
}

func (st *state) releasePayload(b *[]byte) {
	if c := cap(*b); c > 0 && c <= maxPooledPayload {
		st.payloads.Put(b)
	}
}

// applyRemember inserts or replaces m with v (from slabVector) and returns its row. The
// caller holds st.mu and adds the row to the lexical index afterwards (outside st.mu when
// it can), so the exclusive section stays short. fresh says m's id was generated for this
// remember: it replaces nothing, and the lookup is skipped.
func (st *state) applyRemember(m *Memory, v slabRow, fresh bool) uint32 {
	if !fresh {
		if old, ok := st.rowOf(m.ID); ok {
			st.killRow(old)
		}
	}
	row := uint32(len(st.byRow))
	lm := &liveMemory{m: metaOf(m), idx: -1, hasVec: v.vec != nil}
	lm.m.Tier = TierHot
	lm.acc.set(m.AccessCount, m.LastAccess)
	st.slab.reserve(int(row), int(row)+1) // a no-op unless replaying: remember reserves ahead
	if lm.hasVec {
		st.slab.put(row, v.vec, v.code, v.scale)
	}
	return st.addRow(lm, v.norm)
}

// addRow appends lm as a new row. Caller holds st.mu.
func (st *state) addRow(lm *liveMemory, norm float32) uint32 {
	row := st.appendRow(lm, norm)
	st.byID.put(lm.m.ID, row)
	return row
}

// rowOf returns the row of the live memory with id. Caller holds st.mu (shared is
// enough).
func (st *state) rowOf(id string) (uint32, bool) { return st.byID.get(id, st.byRow) }

// appendRow appends lm as a new row without giving the id map its id: loading a
// checkpoint builds or reads the id map once every row is in. Caller holds st.mu.
func (st *state) appendRow(lm *liveMemory, norm float32) uint32 {
	row := uint32(len(st.byRow))
	st.norms = append(st.norms, norm)
	st.byRow = append(st.byRow, lm)
	st.rows.Store(int64(len(st.byRow)))
	st.live++
	if lm.seg == nil {
		st.hotCount++
	} else {
		lm.seg.rows[lm.idx] = row
		lm.seg.live++
	}
	for _, id := range lm.m.Citations {
		st.consolidated[id] = true
	}
	return row
}

// killRow removes a row from every structure. Caller holds st.mu.
func (st *state) killRow(row uint32) {
	lm := st.byRow[row]
	if lm == nil {
		return
	}
	st.byID.remove(lm.m.ID, row)
	st.byRow[row] = nil
	for _, id := range lm.m.Citations {
		delete(st.consolidated, id)
	}
	st.live--
	if lm.seg == nil {
		st.hotCount--
	} else {
		lm.seg.deleted.Set(int(lm.idx))
		lm.seg.live--
	}
	st.lex.RemoveText(row, lm.m.Content)
	st.graph.RemoveNode(row)
	st.hnsw.Delete(row)
}

// applyForget removes id; it reports whether it existed. Caller holds st.mu.
func (st *state) applyForget(id string) bool {
	row, ok := st.rowOf(id)
	if !ok {
		return false
	}
	st.killRow(row)
	return true
}

// applyLinks adds the association edges computed for (or, KindAssociation, given to) src,
// if src is still the version they were computed for. Caller holds st.mu, shared being
// enough: the graph serialises its writers itself and readers walk it meanwhile, linked
// is atomic, and every row it resolves stays alive while st.mu is held.
func (st *state) applyLinks(src string, version int64, links []record.Link) []AutoLink {
	row, ok := st.rowOf(src)
	if !ok {
		return nil
	}
	lm := st.byRow[row]
	if lm.m.StoredAt.UnixNano() != version {
		return nil
	}
	// A record of explicit associations only is not the linker's work: the source stays
	// to be linked (again after a recovery) if its own edges were not written yet.
	if !associationsOnly(links) {
		lm.linked.Store(true)
	}
	var out []AutoLink
	for _, l := range links {
		to, ok := st.rowOf(l.Target)
		if !ok {
			continue
		}
		st.graph.AddEdge(row, to, l.Weight, graph.EdgeKind(l.Kind))
		out = append(out, AutoLink{TargetID: l.Target, Similarity: l.Weight, Reason: linkReason(graph.EdgeKind(l.Kind))})
	}
	return out
}

// memoryAt returns a copy of the memory at row with its embedding in the original scale.
// Caller holds st.mu (shared is enough).
func (st *state) memoryAt(row uint32, withEmbedding bool) Memory {
	lm := st.byRow[row]
	m := lm.memory()
	m.Tags = append([]string(nil), m.Tags...)
	m.Citations = append([]string(nil), m.Citations...)
	if m.Episode != nil {
		e := *m.Episode
		e.Who = append([]string(nil), e.Who...)
		m.Episode = &e
	}
	m.Tier = lm.tier()
	if withEmbedding && lm.hasVec {
		m.Embedding = make([]float32, st.dim)
		st.vectorInto(row, m.Embedding)
		n := st.norms[row]
		for i := range m.Embedding {
			m.Embedding[i] *= n
		}
	}
	return m
}

func (lm *liveMemory) tier() Tier {
	if lm.seg == nil {
		return TierHot
	}
	if lm.seg.kind == tier.KindCold {
		return TierCold
	}
	return TierWarm
}

// vectorInto writes row's normalised vector into out, from whichever tier holds it.
// Caller holds st.mu.
func (st *state) vectorInto(row uint32, out []float32) {
	lm := st.byRow[row]
	if lm.seg == nil {
		copy(out, st.vectorOf(row))
		return
	}
	lm.seg.s.Vector(int(lm.idx), out)
}

func (st *state) fillStats(out *Stats) {
	st.mu.RLock()
	out.Memories = st.live
	out.Hot = st.hotCount
	for _, sg := range st.segs {
		if sg.kind == tier.KindCold {
			out.Cold += sg.live
		} else {
			out.Warm += sg.live
		}
	}
	out.Edges = st.graph.Edges()
	st.mu.RUnlock()
	out.IndexLag = st.link.indexTail()
	out.Open = true
	out.Failed = st.failed.Load()
	ws := st.log.Stats()
	out.WALLag = ws.Lag
	out.LastFsync = ws.LastSync
	out.LSN = ws.LastLSN
	out.DurableLSN = ws.DurableLSN
	out.WALBytes = ws.Bytes
	out.WALSegments = ws.Segments
	out.LinkQueue, out.LinkLag = st.link.lag()
	out.IndexLagWork = st.link.indexCost.of(out.IndexLag)
	out.LinkLagWork = st.link.edgeCost.of(out.LinkQueue)
	out.BackgroundShare = st.sp.e.background.share(max(st.link.indexLag(), st.link.edgeLag()))
	out.IndexedRows = st.hnsw.Len()
	out.RemembersWaiting = st.link.progress.waiting()
}
