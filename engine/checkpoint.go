package engine

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/engram-go/engram/engine/tier"
	"github.com/engram-go/engram/engine/wal"
)

// hotSnapshotKind is the segment kind the hot snapshot is written with. The kind byte of a
// segment file selects its layout (docs/formats/segment.md): the hot snapshot keeps float32
// vectors and plain metadata, the warm layout. Which tier a file serves is said by where
// the manifest lists it (its hot field), so files written so far read the same.
const hotSnapshotKind = tier.KindWarm

// checkpoint writes the space's state to segment files so that the WAL below the covered
// LSN can be dropped: least recently activated hot memories past the hot capacity are
// sealed into a warm segment, warm segments past the warm capacity are compacted into a
// cold one, the remaining hot memories go into a hot snapshot, the graph into an edges
// file and a row graph (derived: the same edges by the rows loading will give the
// memories), the lexical index into a lexical file, the HNSW graph of the hot memories
// into an hnsw file and the memories' ids into an id map file (all derived, by the same
// rows), deletions into bitmaps, and a new manifest names them all.
//
// What writers wait for: the covered LSN is read under state.cp held exclusively, for an
// instant. Then, under state.mu held shared, every hot memory's metadata is encoded and
// its vector copied (snapshotHot), warm segments due for compaction are read
// (compactWarm), and the graph's edges, the lexical index and the deletion bitmaps are
// copied (snapshotEdges): each of these takes time proportional to what it copies, and a remember
// waiting for state.mu exclusively (its apply) waits that long. The HNSW graph is copied
// after, under the index's own read lock only (snapshotIndex), which holds back the index
// lane's inserts, not remembers. Files are written with no
// lock of the state held, and memories switch to their new tier under state.mu held
// exclusively (install). state.cpRun is held throughout, so checkpoints of a space never
// overlap.
func (st *state) checkpoint() error {
	st.cpRun.Lock()
	defer st.cpRun.Unlock()
	covered, err := st.coverLSN()
	if err != nil {
		return err
	}
	if covered == st.manifest.CheckpointLSN && covered != 0 {
		return nil
	}
	r := &checkpointRun{st: st, dir: st.sp.dir, tag: fmt.Sprintf("%020d", covered)}
	r.next.CheckpointLSN = covered
	if err := r.write(); err != nil {
		for _, sg := range r.opened {
			sg.s.Close()
		}
		return fmt.Errorf("engine: space %q: checkpoint: %w", st.sp.id, err)
	}
	r.install()
	return r.dropCovered()
}

// coverLSN syncs the log and returns its last LSN, read under state.cp held exclusively:
// at that instant every appended record that a checkpoint captures is applied (doc.go).
func (st *state) coverLSN() (uint64, error) {
	if err := st.log.Sync(); err != nil {
		return 0, err
	}
	st.cp.Lock()
	covered := st.log.Stats().LastLSN
	st.cp.Unlock()
	return covered, nil
}

// cpItem is one memory on its way into a checkpoint file.
type cpItem struct {
	row uint32
	rec tier.Record
	at  int64 // activation time, for the demotion order
}

// checkpointRun is the work of one checkpoint, step by step.
type checkpointRun struct {
	st  *state
	dir string
	tag string // the covered LSN, naming the files written

	hot, demote []cpItem
	warmLive    int        // live memories of warm segments at the snapshot
	segs        []*segment // the live segments at the snapshot
	compacted   []*segment // warm segments merged into newCold
	newWarm     *segment
	newCold     *segment
	opened      []*segment // closed again if the checkpoint fails
	edges       []tier.EdgeRecord
	rowGraph    tier.RowGraph
	lexical     []byte   // the lexical index file, header room included
	vectors     []byte   // the HNSW graph file, header room included; nil when there is no graph
	load        []uint32 // by current row, the row loading gives the memory (loadRows)
	loadIDs     []string // by load row, the memory's id (loadRows)
	keepBits    []keptSegment
	next        tier.Manifest
}

// keptSegment is a segment that stays, with its deletion bitmap as of the snapshot (later
// deletions are in the WAL).
type keptSegment struct {
	sg   *segment
	bits *tier.Bitmap
}

// write writes every file of the checkpoint, the manifest last.
func (r *checkpointRun) write() error {
	r.snapshotHot()
	r.chooseDemotions()
	if err := r.sealDemoted(); err != nil {
		return err
	}
	if err := r.compactWarm(); err != nil {
		return err
	}
	if err := r.writeHotSnapshot(); err != nil {
		return err
	}
	r.snapshotEdges()
	r.snapshotIndex()
	return r.writeEdgesAndManifest()
}

// snapshotHot copies the hot tier, holding state.mu shared: each memory's metadata is
// encoded and its vector copied. Everything up to the covered LSN is applied; later
// changes may be included too, which replay from covered+1 makes harmless.
func (r *checkpointRun) snapshotHot() {
	st := r.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	for row, lm := range st.byRow {
		if lm == nil || lm.seg != nil {
			continue
		}
		m := lm.memory()
		it := cpItem{row: uint32(row), rec: tier.Record{ID: m.ID, Meta: encodeMemory(nil, &m, nil)}}
		if lm.hasVec {
			it.rec.Vector = append([]float32(nil), st.vectorOf(uint32(row))...)
			it.rec.Norm = st.norms[row]
		}
		last := m.LastAccess
		if last.IsZero() || last.Before(m.StoredAt) {
			last = m.StoredAt
		}
		it.at = last.UnixNano()
		r.hot = append(r.hot, it)
	}
	for _, sg := range st.segs {
		if sg.kind == tier.KindWarm {
			r.warmLive += sg.live
		}
	}
	r.segs = append([]*segment(nil), st.segs...)
}

// chooseDemotions picks the least recently activated hot memories beyond hotTargetFill ×
// the hot capacity. No lock.
func (r *checkpointRun) chooseDemotions() {
	c := r.st.sp.settings.HotCapacity
	if c <= 0 || len(r.hot) <= c {
		return
	}
	hot := r.hot
	sort.Slice(hot, func(i, j int) bool {
		if hot[i].at != hot[j].at {
			return hot[i].at < hot[j].at
		}
		return hot[i].row < hot[j].row
	})
	n := len(hot) - int(float64(c)*hotTargetFill)
	r.demote, r.hot = hot[:n], hot[n:]
}

// sealDemoted writes the demoted memories into a new warm segment. No lock.
func (r *checkpointRun) sealDemoted() error {
	if len(r.demote) == 0 {
		return nil
	}
	sort.Slice(r.demote, func(i, j int) bool { return r.demote[i].rec.ID < r.demote[j].rec.ID })
	sg, err := r.writeSegment("warm/"+r.tag+".seg", tier.KindWarm, r.demote)
	r.newWarm = sg
	return err
}

// compactWarm merges every warm segment into one cold segment once warm holds more than
// its capacity. The warm segments' live rows are read (vectors copied) holding
// state.mu shared, since deletions mark their bitmaps under it; the cold segment is
// written with no lock.
func (r *checkpointRun) compactWarm() error {
	st := r.st
	if c := st.sp.settings.WarmCapacity; c <= 0 || r.warmLive+len(r.demote) <= c {
		return nil
	}
	var items []cpItem
	st.mu.RLock()
	for _, sg := range r.segs {
		if sg.kind != tier.KindWarm {
			continue
		}
		r.compacted = append(r.compacted, sg)
		for i := 0; i < sg.s.Len(); i++ {
			if sg.deleted.Has(i) {
				continue
			}
			rec := tier.Record{ID: sg.s.ID(i), Meta: sg.s.Meta(i), Norm: sg.s.Norm(i)}
			if sg.s.HasVector(i) {
				rec.Vector = make([]float32, st.dim)
				sg.s.Vector(i, rec.Vector)
			}
			items = append(items, cpItem{row: sg.rows[i], rec: rec})
		}
	}
	st.mu.RUnlock()
	if len(items) == 0 {
		return nil
	}
	sort.Slice(items, func(i, j int) bool { return items[i].rec.ID < items[j].rec.ID })
	sg, err := r.writeSegment("cold/"+r.tag+".seg", tier.KindCold, items)
	r.newCold = sg
	return err
}

// writeSegment writes items as a new segment file and opens it. No lock.
func (r *checkpointRun) writeSegment(name string, kind tier.Kind, items []cpItem) (*segment, error) {
	recs := make([]tier.Record, len(items))
	for i := range items {
		recs[i] = items[i].rec
	}
	path := filepath.Join(r.dir, name)
	if err := tier.WriteSegment(path, kind, r.st.dim, recs); err != nil {
		return nil, err
	}
	s, err := tier.OpenSegment(path)
	if err != nil {
		return nil, err
	}
	sg := &segment{name: name, kind: kind, s: s, rows: make([]uint32, len(items)), deleted: tier.NewBitmap(len(items))}
	for i := range items {
		sg.rows[i] = items[i].row
	}
	r.opened = append(r.opened, sg)
	return sg, nil
}

// writeHotSnapshot writes the memories that stay hot. No lock.
func (r *checkpointRun) writeHotSnapshot() error {
	sort.Slice(r.hot, func(i, j int) bool { return r.hot[i].rec.ID < r.hot[j].rec.ID })
	recs := make([]tier.Record, len(r.hot))
	for i := range r.hot {
		recs[i] = r.hot[i].rec
	}
	r.next.Hot = "hot/" + r.tag + ".seg"
	return tier.WriteSegment(filepath.Join(r.dir, r.next.Hot), hotSnapshotKind, r.st.dim, recs)
}

// snapshotEdges copies the graph's edges, the lexical index and the deletion bitmaps of
// the segments that stay, holding state.mu shared.
func (r *checkpointRun) snapshotEdges() {
	st := r.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, sg := range r.segs {
		if !slices.Contains(r.compacted, sg) {
			r.keepBits = append(r.keepBits, keptSegment{sg, cloneBitmap(sg.deleted)})
		}
	}
	load := r.loadRows(len(st.byRow))
	for row, lm := range st.byRow {
		if lm == nil {
			continue
		}
		for _, e := range st.graph.Neighbors(uint32(row)) {
			if e.To > uint32(row) && st.aliveLocked(e.To) {
				r.edges = append(r.edges, tier.EdgeRecord{From: lm.m.ID, To: st.byRow[e.To].m.ID, Weight: e.Weight, Kind: uint8(e.Kind)})
				if a, b := load[row], load[e.To]; a != noLoadRow && b != noLoadRow {
					r.rowGraph.Edges = append(r.rowGraph.Edges, tier.RowEdge{A: min(a, b), B: max(a, b), Weight: e.Weight, Kind: uint8(e.Kind)})
				}
			}
		}
	}
	slices.SortFunc(r.rowGraph.Edges, func(x, y tier.RowEdge) int {
		if x.A != y.A {
			return cmp.Compare(x.A, y.A)
		}
		return cmp.Compare(x.B, y.B)
	})
	r.lexical = st.lex.AppendSaved(make([]byte, tier.PayloadHeaderSize), int(r.rowGraph.Rows), func(row uint32) (uint32, bool) {
		if int(row) >= len(load) || load[row] == noLoadRow {
			return 0, false
		}
		return load[row], true
	})
}

// noLoadRow marks a row that the checkpoint does not hold.
const noLoadRow = ^uint32(0)

// loadRows numbers the memories of the checkpoint in the order loadCheckpoint will give
// them rows (the manifest's segments in order, each one's entries not in its deletion
// bitmap, then the hot snapshot) and returns, by current row, the row each will get. It
// sets the row graph's row count and id sum. Caller holds st.mu shared, after the hot
// snapshot is sorted and the kept bitmaps are copied.
func (r *checkpointRun) loadRows(rows int) []uint32 {
	load := make([]uint32, rows)
	for i := range load {
		load[i] = noLoadRow
	}
	ids := tier.NewIDSum()
	next := uint32(0)
	add := func(row uint32, id string) {
		if int(row) < len(load) {
			load[row] = next
		}
		ids.Add(id)
		r.loadIDs = append(r.loadIDs, id)
		next++
	}
	for _, k := range r.keepBits {
		for i := 0; i < k.sg.s.Len(); i++ {
			if !k.bits.Has(i) {
				add(k.sg.rows[i], k.sg.s.ID(i))
			}
		}
	}
	for _, sg := range []*segment{r.newCold, r.newWarm} {
		if sg != nil {
			for i, row := range sg.rows {
				add(row, sg.s.ID(i))
			}
		}
	}
	for _, it := range r.hot {
		add(it.row, it.rec.ID)
	}
	r.rowGraph.LSN, r.rowGraph.Rows, r.rowGraph.IDSum = r.next.CheckpointLSN, uint64(next), ids.Sum()
	r.load = load
	return load
}

// snapshotIndex copies the HNSW graph's nodes of the hot snapshot's memories, by the rows
// loading will give them (the last len(r.hot) rows), holding no lock of the state: the
// graph locks itself, and r.load no longer changes. Nodes of other rows — memories the
// checkpoint does not hold, or holds in a segment, whose vectors the slab will not have —
// are left out with their links, and so are rows the index has not taken yet: loading
// finds them missing and the index lane inserts them.
func (r *checkpointRun) snapshotIndex() {
	h := r.st.hnsw
	if h.Len() == 0 {
		return
	}
	hotFrom := uint32(r.rowGraph.Rows) - uint32(len(r.hot))
	r.vectors = h.AppendSaved(make([]byte, tier.PayloadHeaderSize), func(row uint32) (uint32, bool) {
		if int(row) >= len(r.load) || r.load[row] == noLoadRow || r.load[row] < hotFrom {
			return 0, false
		}
		return r.load[row], true
	})
}

// writeEdgesAndManifest writes the edges file and the bitmaps, then the manifest naming
// every file of the checkpoint: once it is durable, the checkpoint is. No lock.
func (r *checkpointRun) writeEdgesAndManifest() error {
	r.next.Edges = "hot/" + r.tag + ".edges"
	if err := tier.WriteEdges(filepath.Join(r.dir, r.next.Edges), r.edges); err != nil {
		return err
	}
	r.next.Graph = "hot/" + r.tag + ".graph"
	if err := tier.WriteRowGraph(filepath.Join(r.dir, r.next.Graph), r.rowGraph); err != nil {
		return err
	}
	r.next.Lexical = "hot/" + r.tag + ".lex"
	if err := tier.WriteLexical(filepath.Join(r.dir, r.next.Lexical), r.rowGraph.DerivedHeader, r.lexical); err != nil {
		return err
	}
	if r.vectors != nil {
		r.next.HNSW = "hot/" + r.tag + ".hnsw"
		if err := tier.WriteHNSW(filepath.Join(r.dir, r.next.HNSW), r.rowGraph.DerivedHeader, r.vectors); err != nil {
			return err
		}
	}
	if err := r.writeIDMap(); err != nil {
		return err
	}
	for _, k := range r.keepBits {
		ref := tier.SegmentRef{Name: k.sg.name, Kind: k.sg.kind, Count: k.sg.s.Len()}
		if k.bits.Count() > 0 {
			ref.Deleted = k.sg.name + "." + r.tag + ".del"
			if err := tier.WriteBitmap(filepath.Join(r.dir, ref.Deleted), k.bits); err != nil {
				return err
			}
		}
		r.next.Segments = append(r.next.Segments, ref)
	}
	for _, sg := range []*segment{r.newCold, r.newWarm} {
		if sg != nil {
			r.next.Segments = append(r.next.Segments, tier.SegmentRef{Name: sg.name, Kind: sg.kind, Count: sg.s.Len()})
		}
	}
	return tier.SaveManifest(r.dir, r.next)
}

// writeIDMap writes the id map file: the table of the checkpoint's ids by load row, built
// here with no lock held so that loading reads it instead of building it. The ids are
// those of live memories, one row each, so the table holds every row.
func (r *checkpointRun) writeIDMap() error {
	slots, superseded := buildIDTable(len(r.loadIDs), func(row uint32) string { return r.loadIDs[row] })
	if len(superseded) > 0 {
		return fmt.Errorf("id %q is at two load rows", r.loadIDs[superseded[0]])
	}
	r.next.IDMap = "hot/" + r.tag + ".ids"
	return tier.WriteIDMap(filepath.Join(r.dir, r.next.IDMap), r.rowGraph.DerivedHeader, slots)
}

// install switches memories to their new tiers now that the manifest is durable, holding
// state.mu exclusively. Entries that changed since the snapshot are marked deleted in
// their new segment (the WAL holds the change). The compacted segments are closed after.
func (r *checkpointRun) install() {
	st := r.st
	st.mu.Lock()
	move := func(sg *segment) {
		for i, row := range sg.rows {
			lm := st.byRow[row]
			if lm == nil || lm.m.ID != sg.s.ID(i) {
				sg.deleted.Set(i)
				continue
			}
			if lm.seg == nil {
				st.hotCount--
				st.hnsw.Delete(row)
			} else {
				lm.seg.live--
			}
			lm.seg, lm.idx = sg, int32(i)
			sg.live++
		}
	}
	if r.newCold != nil {
		move(r.newCold)
	}
	if r.newWarm != nil {
		move(r.newWarm)
	}
	var live []*segment
	for _, sg := range st.segs {
		if !slices.Contains(r.compacted, sg) {
			live = append(live, sg)
		}
	}
	for _, sg := range []*segment{r.newCold, r.newWarm} {
		if sg != nil {
			live = append(live, sg)
		}
	}
	st.segs = live
	st.manifest = r.next
	st.mu.Unlock()
	for _, sg := range r.compacted {
		sg.s.Close()
	}
}

// dropCovered removes the WAL segments the checkpoint covers and the tier files the new
// manifest does not list. No lock of the state; the WAL takes its own.
func (r *checkpointRun) dropCovered() error {
	st := r.st
	if err := st.log.TruncateBefore(r.next.CheckpointLSN + 1); err != nil && !errors.Is(err, wal.ErrClosed) {
		return fmt.Errorf("engine: space %q: checkpoint: %w", st.sp.id, err)
	}
	keep := map[string]bool{r.next.Hot: true, r.next.Edges: true, r.next.Graph: true, r.next.Lexical: true, r.next.HNSW: r.next.HNSW != "", r.next.IDMap: true}
	for _, ref := range r.next.Segments {
		keep[ref.Name] = true
		if ref.Deleted != "" {
			keep[ref.Deleted] = true
		}
	}
	st.removeUnlisted(keep)
	st.sp.e.cfg.Logger.Debug("checkpoint", "space", st.sp.id, "lsn", r.next.CheckpointLSN,
		"demoted", len(r.demote), "hot", len(r.hot), "segments", len(r.next.Segments))
	return nil
}
