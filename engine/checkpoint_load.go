package engine

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/index"
	"github.com/engram-go/engram/engine/tier"
)

// Loading a checkpoint: the first step of opening a space (under Space.mu held
// exclusively), before the WAL tail is replayed. The state is not published yet, so
// nobody else can hold its locks; st.mu is taken around each insert only because the
// helpers shared with replay expect it.

// loadCheckpoint restores what the manifest lists: warm and cold segments (their records
// become rows whose vectors stay in the segments), the hot snapshot (copied into the
// slab) and the association graph, from the row graph when it matches what was loaded,
// else from the edges file, and the lexical and HNSW indexes from their files when these
// match (else the lexical index is built from the memories' text, and the HNSW index by
// the index lane after opening). It returns the LSN the checkpoint covers and how many
// memories it restored. Files of the tier folders that the manifest does not list are
// leftovers of an interrupted checkpoint and are removed.
func (st *state) loadCheckpoint() (covered uint64, loaded, corrupted int, err error) {
	dir := st.sp.dir
	m, err := tier.LoadManifest(dir)
	if err != nil {
		return 0, 0, 0, err
	}
	st.manifest = m
	keep := map[string]bool{}
	// A saved lexical index is read first, so that loading the memories need not index
	// their text; it is used only if it turns out to cover exactly the rows loaded.
	saved := st.readLexical(m)
	// A damaged file is reported, set aside as *.broken and its records counted as
	// corrupted; the space opens with everything else.
	setAside := func(name string, n int, err error) {
		st.sp.e.cfg.Logger.Error("damaged tier file set aside", "space", st.sp.id, "file", name, "records", n, "err", err)
		_ = os.Rename(filepath.Join(dir, name), filepath.Join(dir, name+".broken"))
		keep[name+".broken"] = true
		corrupted += n
	}
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
		for i := 0; i < seg.Len(); i++ {
			if del.Has(i) {
				continue
			}
			mem, _, err := decodeMemory(seg.Meta(i))
			if err != nil {
				corrupted++
				continue
			}
			st.mu.Lock()
			if old, ok := st.byID[mem.ID]; ok { // cannot happen in a consistent checkpoint
				st.killRow(old)
			}
			row := st.addRow(&liveMemory{m: mem, hasVec: seg.HasVector(i), linked: true, seg: sg, idx: int32(i)}, seg.Norm(i))
			st.mu.Unlock()
			if saved == nil {
				st.lex.Add(row, mem.Content)
			}
			loaded++
		}
	}
	if m.Hot != "" {
		keep[m.Hot] = true
		hot, err := tier.OpenSegment(filepath.Join(dir, m.Hot))
		if err != nil {
			setAside(m.Hot, 0, err)
			corrupted++ // the snapshot's record count is unknown without its header
			hot = nil
		}
		vec := make([]float32, st.dim)
		for i := 0; hot != nil && i < hot.Len(); i++ {
			mem, _, err := decodeMemory(hot.Meta(i))
			if err != nil {
				corrupted++
				continue
			}
			var raw []float32
			if hot.HasVector(i) {
				hot.Vector(i, vec)
				raw = vec
			}
			st.mu.Lock()
			row := st.applyStored(&mem, raw, hot.Norm(i))
			st.mu.Unlock()
			if saved == nil {
				st.lex.Add(row, mem.Content)
			}
			loaded++
		}
		if hot != nil {
			hot.Close()
		}
	}
	for _, name := range []string{m.Edges, m.Graph, m.Lexical, m.HNSW} {
		keep[name] = name != ""
	}
	mismatch := st.checkpointMismatch(m)
	if saved != nil {
		st.useLexical(m, saved, mismatch)
	}
	if m.Edges != "" && !st.loadRowGraph(m, mismatch) {
		edges, err := tier.ReadEdges(filepath.Join(dir, m.Edges))
		if err != nil {
			setAside(m.Edges, 0, err)
			edges = nil
			st.mu.Lock()
			for _, lm := range st.byRow {
				if lm != nil {
					lm.linked = false // the linker builds their edges again
				}
			}
			st.mu.Unlock()
		}
		st.mu.Lock()
		for _, e := range edges {
			a, okA := st.byID[e.From]
			b, okB := st.byID[e.To]
			if okA && okB {
				st.graph.AddEdge(a, b, e.Weight, graph.EdgeKind(e.Kind))
			}
		}
		st.mu.Unlock()
	}
	st.loadIndex(m, mismatch)
	st.removeUnlisted(keep)
	return m.CheckpointLSN, loaded, corrupted, nil
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

// readLexical reads and decodes the checkpoint's lexical index file, or returns nil (with
// a warning when there was one to read) so that loading indexes the memories' text.
func (st *state) readLexical(m tier.Manifest) *savedLexical {
	if m.Lexical == "" || st.sp.e.cfg.rebuildDerived {
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
// otherwise indexes every loaded memory's text, as loading does without one.
func (st *state) useLexical(m tier.Manifest, saved *savedLexical, mismatch func(tier.DerivedHeader) string) {
	if why := mismatch(saved.h); why != "" {
		st.rebuildDerived(m.Lexical, why)
		st.mu.RLock()
		defer st.mu.RUnlock()
		for row, lm := range st.byRow {
			if lm != nil {
				st.lex.Add(uint32(row), lm.m.Content)
			}
		}
		return
	}
	st.lex = saved.lex
}

// loadRowGraph restores the graph from the checkpoint's row graph file when it belongs to
// this checkpoint and to exactly the rows loaded from it. Otherwise — no file, damage,
// another format version, a mismatch — it logs why and reports false, and the graph is
// built from the edges file instead.
func (st *state) loadRowGraph(m tier.Manifest, mismatch func(tier.DerivedHeader) string) bool {
	if m.Graph == "" || st.sp.e.cfg.rebuildDerived {
		return false
	}
	g, err := tier.ReadRowGraph(filepath.Join(st.sp.dir, m.Graph))
	if err != nil {
		st.rebuildDerived(m.Graph, "unreadable", "err", err)
		return false
	}
	if why := mismatch(g.DerivedHeader); why != "" {
		st.rebuildDerived(m.Graph, why)
		return false
	}
	err = st.graph.Load(len(g.Edges), func(i int) (uint32, uint32, float32, graph.EdgeKind) {
		e := g.Edges[i]
		return e.A, e.B, e.Weight, graph.EdgeKind(e.Kind)
	})
	if err != nil {
		st.rebuildDerived(m.Graph, "invalid edges", "err", err)
		return false
	}
	return true
}

// loadIndex restores the HNSW index from the checkpoint's hnsw file when it belongs to
// this checkpoint and to exactly the rows loaded from it, and its nodes are hot rows.
// Otherwise — no file, damage, another format version, a mismatch — it logs why and
// leaves the index empty, and the index lane builds it after opening, as it takes the
// rows of the WAL tail in any case (indexFrom).
func (st *state) loadIndex(m tier.Manifest, mismatch func(tier.DerivedHeader) string) {
	if m.HNSW == "" || st.sp.e.cfg.rebuildDerived {
		return
	}
	f, err := tier.ReadHNSW(filepath.Join(st.sp.dir, m.HNSW))
	if err != nil {
		st.rebuildDerived(m.HNSW, "unreadable", "err", err)
		return
	}
	if why := mismatch(f.DerivedHeader); why != "" {
		st.rebuildDerived(m.HNSW, why)
		return
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	hot := func(row uint32) bool { lm := st.byRow[row]; return lm != nil && lm.seg == nil }
	if err := st.hnsw.Load(len(st.byRow), f.Payload, hot); err != nil {
		st.rebuildDerived(m.HNSW, "invalid graph", "err", err)
	}
}

// indexFrom is the first row the index lane offers the HNSW index after opening: the
// first live hot row the index does not hold. Rows below it are in the index (or dead, or
// in a segment, which the index never holds), as the watermark promises similar.
func (st *state) indexFrom() uint32 {
	st.mu.RLock()
	defer st.mu.RUnlock()
	for row, lm := range st.byRow {
		if lm != nil && lm.seg == nil && !st.hnsw.Contains(uint32(row)) {
			return uint32(row)
		}
	}
	return uint32(len(st.byRow))
}

// applyStored inserts a memory restored from a checkpoint: vec is already normalised and
// norm is its original length. Caller holds st.mu.
func (st *state) applyStored(m *Memory, vec []float32, norm float32) uint32 {
	if old, ok := st.byID[m.ID]; ok {
		st.killRow(old)
	}
	row := uint32(len(st.byRow))
	lm := &liveMemory{m: *m, idx: -1, linked: true, hasVec: vec != nil}
	st.slab.reserve(int(row), int(row)+1)
	if vec != nil {
		copy(st.slab.row(row), vec)
		st.slab.encode(row)
	}
	return st.addRow(lm, norm)
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
