package engine

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/tier"
)

// Loading a checkpoint: the first step of opening a space (under Space.mu held
// exclusively), before the WAL tail is replayed. The state is not published yet, so
// nobody else can hold its locks; st.mu is taken around each insert only because the
// helpers shared with replay expect it.

// loadCheckpoint restores what the manifest lists: warm and cold segments (their records
// become rows whose vectors stay in the segments), the hot snapshot (copied into the
// slab) and the association graph, from the row graph when it matches what was loaded,
// else from the edges file, and the id map, lexical and HNSW indexes from their files
// when these match (else the id map's table is built from the ids loaded, the lexical
// index from the memories' text, and the HNSW index by the index lane after opening).
// The derived files are read and decoded by other
// goroutines while the memories load (derivedFiles), and checked against what loaded
// after. It returns the LSN the checkpoint covers and how many memories it restored.
// Files of the tier folders that the manifest does not list are leftovers of an
// interrupted checkpoint and are removed.
func (st *state) loadCheckpoint() (covered uint64, loaded, corrupted int, err error) {
	dir := st.sp.dir
	m, err := tier.LoadManifest(dir)
	if err != nil {
		return 0, 0, 0, err
	}
	st.manifest = m
	keep := map[string]bool{}
	// A damaged file is reported, set aside as *.broken and its records counted as
	// corrupted; the space opens with everything else.
	setAside := func(name string, n int, err error) {
		st.sp.e.cfg.Logger.Error("damaged tier file set aside", "space", st.sp.id, "file", name, "records", n, "err", err)
		_ = os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".broken"))
		keep[name+".broken"] = true
		corrupted += n
	}
	var hot *tier.Segment
	if m.Hot != "" {
		keep[m.Hot] = true
		if hot, err = tier.OpenSegment(filepath.Join(dir, m.Hot)); err != nil {
			setAside(m.Hot, 0, err)
			corrupted++ // the snapshot's record count is unknown without its header
			hot = nil
		}
	}
	expect := 0
	for _, ref := range m.Segments {
		expect += ref.Count
	}
	if hot != nil {
		expect += hot.Len()
	}
	derived := st.readDerived(m, hotRows(hot), expect)
	// Nobody else can hold st.mu yet (see above): it is held once around each loop. Rows
	// get their ids in the id map once every row is in (useIDMap).
	st.byRow = make([]*liveMemory, 0, expect)
	st.norms = make([]float32, 0, expect)
	for _, ref := range m.Segments {
		seg, err := tier.OpenSegment(filepath.Join(dir, ref.Name))
		if err != nil {
			setAside(ref.Name, ref.Count, err)
			continue
		}
		del := tier.NewBitmap(seg.Len())
		if ref.Deleted != "" {
			if del, err = tier.ReadBitmap(filepath.Join(dir, ref.Deleted), seg.Len()); err != nil {
				// Without its bitmap a segment would bring forgotten memories back.
				seg.Close()
				setAside(ref.Name, ref.Count, err)
				continue
			}
			keep[ref.Deleted] = true
		}
		keep[ref.Name] = true
		sg := &segment{name: ref.Name, kind: ref.Kind, s: seg, rows: make([]uint32, seg.Len()), deleted: del}
		st.segs = append(st.segs, sg)
		lms, bad := decodeRecords(seg, del)
		corrupted += bad
		st.mu.Lock()
		for i, lm := range lms {
			if lm != nil {
				lm.seg, lm.idx = sg, int32(i)
				st.appendRow(lm, seg.Norm(i))
				loaded++
			}
		}
		st.mu.Unlock()
	}
	if hot != nil {
		lms, bad := decodeRecords(hot, nil)
		corrupted += bad
		// The hot snapshot's memories get their rows in order (without their ids: see
		// appendRow); then their vectors, already normalised, are copied into the slab and
		// quantised by a goroutine per CPU, each row by one of them.
		rows := make([]uint32, len(lms))
		st.mu.Lock()
		first := len(st.byRow)
		for i, lm := range lms {
			if lm != nil {
				lm.idx = -1
				rows[i] = st.appendRow(lm, hot.Norm(i))
				loaded++
			}
		}
		st.slab.reserve(first, len(st.byRow))
		inChunks(len(lms), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if lm := lms[i]; lm != nil && lm.hasVec {
					hot.Vector(i, st.slab.row(rows[i]))
					st.slab.encode(rows[i])
				}
			}
		})
		st.mu.Unlock()
		hot.Close()
	}
	for _, name := range []string{m.Edges, m.Graph, m.Lexical, m.HNSW, m.IDMap} {
		keep[name] = name != ""
	}
	d := derived.wait()
	mismatch := st.checkpointMismatch(m)
	if st.useIDMap(m, d, mismatch) {
		mismatch = st.checkpointMismatch(m) // rows were dropped: sum them again
	}
	st.useLexical(m, d.lex, mismatch)
	if m.Edges != "" && !st.useRowGraph(m, d, mismatch) {
		edges, err := tier.ReadEdges(filepath.Join(dir, m.Edges))
		if err != nil {
			setAside(m.Edges, 0, err)
			edges = nil
			st.mu.Lock()
			for _, lm := range st.byRow {
				if lm != nil {
					lm.linked.Store(false) // the linker builds their edges again
				}
			}
			st.mu.Unlock()
		}
		st.mu.Lock()
		for _, e := range edges {
			a, okA := st.rowOf(e.From)
			b, okB := st.rowOf(e.To)
			if okA && okB {
				st.graph.AddEdge(a, b, e.Weight, graph.EdgeKind(e.Kind))
			}
		}
		st.mu.Unlock()
	}
	st.useIndex(m, d, mismatch)
	st.removeUnlisted(keep)
	return m.CheckpointLSN, loaded, corrupted, nil
}

// decodeRecords decodes the metadata of seg's records that del (nil: none) does not mark
// deleted into live memories, by a goroutine per CPU: decoding is most of the work of
// loading a memory. It returns one entry per record, nil for a deleted record and for one
// whose metadata does not decode, and the number of the latter. It holds no lock; the
// entries' seg and idx are the caller's to set.
//
// The memories of a chunk of records are one allocation, and their strings are carved
// from blocks shared by many (record.Arena), read from the segment in place: a million
// memories take a few thousand allocations instead of several million, which the
// collector would otherwise trace and sweep while the space opens. A forgotten memory's
// share of these stays allocated while a memory of its chunk or block lives.
func decodeRecords(seg *tier.Segment, del *tier.Bitmap) (lms []*liveMemory, bad int) {
	lms = make([]*liveMemory, seg.Len())
	var failed atomic.Int64
	var arenas sync.Pool // *record.Arena, one per goroutine at a time
	inChunks(len(lms), func(lo, hi int) {
		arena, _ := arenas.Get().(*record.Arena)
		if arena == nil {
			arena = new(record.Arena)
		}
		defer arenas.Put(arena)
		mems := make([]liveMemory, hi-lo)
		for i := lo; i < hi; i++ {
			if del != nil && del.Has(i) {
				continue
			}
			lm := &mems[i-lo]
			m, _, err := decodeMemoryIn(seg.MetaInPlace(i), arena)
			if err != nil {
				failed.Add(1)
				continue
			}
			lm.m = metaOf(&m)
			lm.acc.set(m.AccessCount, m.LastAccess)
			lm.hasVec = seg.HasVector(i)
			lm.linked.Store(true)
			lms[i] = lm
		}
	})
	return lms, int(failed.Load())
}

// inChunks calls fn for consecutive ranges [lo, hi) of at most 1024 of the indexes below
// n, which together cover them once, from a goroutine per CPU, and returns when every
// call has.
func inChunks(n int, fn func(lo, hi int)) {
	const chunk = 1024
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk) {
		wg.Go(func() {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
}

// hotRows is the number of records of the hot snapshot, 0 when there is none.
func hotRows(hot *tier.Segment) int {
	if hot == nil {
		return 0
	}
	return hot.Len()
}

// useIDMap gives the id map the ids of the rows loaded: the table read from the
// checkpoint's id map file when it belongs to this checkpoint and to exactly these rows,
// else one built from them. Building finds ids loaded twice, which a consistent
// checkpoint never holds, and keeps the last row of each, as replaying the memories in
// row order would; it reports whether it dropped any. Caller is loadCheckpoint, before
// the indexes and the graph are filled.
func (st *state) useIDMap(m tier.Manifest, d *derivedFiles, mismatch func(tier.DerivedHeader) string) bool {
	if d.ids != nil {
		why := mismatch(d.ids.DerivedHeader)
		if why == "" {
			st.byID.slots = d.ids.Slots
			return false
		}
		st.rebuildDerived(m.IDMap, why)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	slots, superseded := buildIDTable(len(st.byRow), func(row uint32) string { return st.byRow[row].m.ID })
	st.byID.slots = slots
	for _, row := range superseded {
		st.killRow(row)
	}
	return len(superseded) > 0
}

// rebuildDerived logs that the derived file name of m cannot be used, and why.
func (st *state) rebuildDerived(name, reason string, args ...any) {
	st.sp.e.cfg.Logger.Warn("derived file unusable; rebuilding what it holds from the memories",
		append([]any{"space", st.sp.id, "file", name, "reason", reason}, args...)...)
}

// checkpointMismatch returns a function saying why a derived file's header does not
// belong to the checkpoint m as loaded — another LSN, another number of rows, other ids in
// the rows — or "" when it does. The loaded rows' id sum is computed once, on first use.
// Caller is loadCheckpoint, after every memory of the checkpoint has its row.
func (st *state) checkpointMismatch(m tier.Manifest) func(h tier.DerivedHeader) string {
	var sum uint64
	var complete, summed bool
	return func(h tier.DerivedHeader) string {
		st.mu.RLock()
		defer st.mu.RUnlock()
		if h.LSN != m.CheckpointLSN || h.Rows != uint64(len(st.byRow)) {
			return fmt.Sprintf("written for another checkpoint (lsn %d, %d rows; loaded lsn %d, %d rows)", h.LSN, h.Rows, m.CheckpointLSN, len(st.byRow))
		}
		if !summed {
			ids := tier.NewIDSum()
			complete = true
			for _, lm := range st.byRow {
				if lm == nil {
					complete = false
					break
				}
				ids.Add(lm.m.ID)
			}
			sum, summed = ids.Sum(), true
		}
		if !complete {
			return "a memory of the checkpoint was not loaded"
		}
		if sum != h.IDSum {
			return "the loaded memories differ from the ones it was written for"
		}
		return ""
	}
}

// derivedFiles are a checkpoint's derived files, read and decoded by a goroutine each
// while the memories load. What did not decode is nil, with a warning logged.
type derivedFiles struct {
	lex   *savedLexical
	graph *graph.Graph
	hnsw  *index.HNSW
	ids   *tier.IDMap
	// graphH and hnswH are the headers of the row graph and hnsw files, checked against
	// the rows loaded once the memories are in.
	graphH, hnswH tier.DerivedHeader
	wg            sync.WaitGroup
}

// readDerived starts reading the derived files m lists (none when the configuration says
// to rebuild them). hot is the number of records of the hot snapshot: the HNSW graph may
// have nodes only on the last hot of its rows; the checkpoint loads at most limit rows.
func (st *state) readDerived(m tier.Manifest, hot, limit int) *derivedFiles {
	d := &derivedFiles{}
	if st.sp.e.cfg.rebuildDerived {
		return d
	}
	// One goroutine each: they take from a few to a few hundred milliseconds for a
	// million memories, and the scheduler packs them on the CPUs beside the memories'.
	for _, read := range []func(){
		func() { d.graph, d.graphH = st.readRowGraph(m) },
		func() { d.ids = st.readIDMap(m) },
		func() { d.lex = st.readLexical(m) },
		func() { d.hnsw, d.hnswH = st.readIndex(m, hot, limit) },
	} {
		d.wg.Go(read)
	}
	return d
}

// wait returns the derived files once every reader is done.
func (d *derivedFiles) wait() *derivedFiles {
	d.wg.Wait()
	return d
}

// readLexical reads and decodes the checkpoint's lexical index file, or returns nil (with
// a warning when there was one to read) so that loading indexes the memories' text.
func (st *state) readLexical(m tier.Manifest) *savedLexical {
	if m.Lexical == "" {
		return nil
	}
	f, err := tier.ReadLexical(filepath.Join(st.sp.dir, m.Lexical))
	if err != nil {
		st.rebuildDerived(m.Lexical, "unreadable", "err", err)
		return nil
	}
	lex, err := index.LoadLexical(f.Payload)
	if err != nil {
		st.rebuildDerived(m.Lexical, "unreadable", "err", err)
		return nil
	}
	return &savedLexical{h: f.DerivedHeader, lex: lex}
}

// savedLexical is a lexical index read from a checkpoint, not yet checked against the
// rows loaded.
type savedLexical struct {
	h   tier.DerivedHeader
	lex *index.Lexical
}

// useLexical installs the saved lexical index when it covers exactly the rows loaded, and
// otherwise (or without one) indexes every loaded memory's text.
func (st *state) useLexical(m tier.Manifest, saved *savedLexical, mismatch func(tier.DerivedHeader) string) {
	if saved != nil {
		why := mismatch(saved.h)
		if why == "" {
			st.lex = saved.lex
			return
		}
		st.rebuildDerived(m.Lexical, why)
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	for row, lm := range st.byRow {
		if lm != nil {
			st.lex.Add(uint32(row), lm.m.Content)
		}
	}
}

// readIDMap reads and checks the checkpoint's id map file, or returns nil (with a warning
// when there was one to read) so that loading builds the table from the ids loaded.
func (st *state) readIDMap(m tier.Manifest) *tier.IDMap {
	if m.IDMap == "" {
		return nil
	}
	f, err := tier.ReadIDMap(filepath.Join(st.sp.dir, m.IDMap))
	if err != nil {
		st.rebuildDerived(m.IDMap, "unreadable", "err", err)
		return nil
	}
	return &f
}

// readRowGraph reads the checkpoint's row graph file into a new graph, or returns nil
// (with a warning when there was one to read).
func (st *state) readRowGraph(m tier.Manifest) (*graph.Graph, tier.DerivedHeader) {
	if m.Graph == "" {
		return nil, tier.DerivedHeader{}
	}
	rg, err := tier.ReadRowGraph(filepath.Join(st.sp.dir, m.Graph))
	if err != nil {
		st.rebuildDerived(m.Graph, "unreadable", "err", err)
		return nil, tier.DerivedHeader{}
	}
	// The graph keeps the file's blocks as they are, in the buffer the file was read
	// into.
	g := graph.New()
	err = g.LoadBlocks(len(rg.Nodes), int64(rg.Count), func(i int) (uint32, []uint32) { return rg.Nodes[i], rg.Block(i) })
	if err != nil {
		st.rebuildDerived(m.Graph, "invalid edges", "err", err)
		return nil, tier.DerivedHeader{}
	}
	return g, rg.DerivedHeader
}

// useRowGraph installs the graph read from the checkpoint's row graph file when it
// belongs to this checkpoint and to exactly the rows loaded from it. Otherwise — no
// file, damage, another format version, a mismatch — it logs why and reports false, and
// the graph is built from the edges file instead.
func (st *state) useRowGraph(m tier.Manifest, d *derivedFiles, mismatch func(tier.DerivedHeader) string) bool {
	if d.graph == nil {
		return false
	}
	if why := mismatch(d.graphH); why != "" {
		st.rebuildDerived(m.Graph, why)
		return false
	}
	st.graph = d.graph
	return true
}

// readIndex reads the checkpoint's hnsw file into a new graph, or returns nil (with a
// warning when there was one to read). Its nodes may lie only on the last hot of the rows
// its header names, where the hot snapshot's memories load; whether those are the rows
// loaded is checked after (useIndex); a file of more than limit rows, which would size
// the graph by them, is refused at once.
func (st *state) readIndex(m tier.Manifest, hot, limit int) (*index.HNSW, tier.DerivedHeader) {
	if m.HNSW == "" {
		return nil, tier.DerivedHeader{}
	}
	f, err := tier.ReadHNSW(filepath.Join(st.sp.dir, m.HNSW))
	if err != nil {
		st.rebuildDerived(m.HNSW, "unreadable", "err", err)
		return nil, tier.DerivedHeader{}
	}
	rows := f.Rows
	if rows > uint64(limit) || rows > math.MaxUint32 {
		st.rebuildDerived(m.HNSW, "written for another checkpoint", "rows", rows, "listed", limit)
		return nil, tier.DerivedHeader{}
	}
	h := st.newHNSW()
	hotFrom := rows - uint64(min(uint64(hot), rows))
	if err := h.Load(int(rows), f.Payload, func(row uint32) bool { return uint64(row) >= hotFrom }); err != nil {
		st.rebuildDerived(m.HNSW, "invalid graph", "err", err)
		return nil, tier.DerivedHeader{}
	}
	return h, f.DerivedHeader
}

// useIndex installs the HNSW graph read from the checkpoint's hnsw file when it belongs
// to this checkpoint and to exactly the rows loaded from it. Otherwise — no file, damage,
// another format version, a mismatch — it logs why and leaves the index empty, and the
// index lane builds it after opening, as it takes the rows of the WAL tail in any case
// (indexFrom).
func (st *state) useIndex(m tier.Manifest, d *derivedFiles, mismatch func(tier.DerivedHeader) string) {
	if d.hnsw == nil {
		return
	}
	if why := mismatch(d.hnswH); why != "" {
		st.rebuildDerived(m.HNSW, why)
		return
	}
	st.hnsw = d.hnsw
}

// indexFrom is the first row the index lane offers the HNSW index after opening: the
// first live hot row the index does not hold. Rows below it are in the index (or dead, or
// in a segment, which the index never holds), as the watermark promises similar.
func (st *state) indexFrom() uint32 {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.hnsw.FirstMissing(uint32(len(st.byRow)), func(row uint32) bool {
		lm := st.byRow[row]
		return lm != nil && lm.seg == nil
	})
}

// removeUnlisted deletes files of the tier folders that the manifest does not reference.
func (st *state) removeUnlisted(keep map[string]bool) {
	for _, sub := range []string{"hot", "warm", "cold"} {
		ents, err := os.ReadDir(filepath.Join(st.sp.dir, sub))
		if err != nil {
			continue
		}
		for _, de := range ents {
			name := sub + "/" + de.Name()
			if !keep[name] && !de.IsDir() {
				_ = os.Remove(filepath.Join(st.sp.dir, name))
			}
		}
	}
}
