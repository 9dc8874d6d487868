package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/tier"
	"github.com/engram-go/engram/engine/wal"
)

// Tiering and checkpoints (docs/tiers.md).
const (
	// checkpointBytes: a checkpoint runs once the WAL holds this much since the last one
	// (or the hot snapshot's size, if larger: checkpointTrigger), so recovery replays at
	// most about this much.
	checkpointBytes = 64 << 20
	// checkpointOnCloseBytes: closing a space checkpoints it when its WAL holds more.
	checkpointOnCloseBytes = 1 << 20
	// hotTargetFill: demotion brings the hot tier down to this fraction of its capacity.
	hotTargetFill = 0.9
	// hotHardLimit: past this multiple of hot_capacity, remembers wait (503) for the
	// checkpoint to demote.
	hotHardLimit = 2
)

// segment is an open warm or cold segment of the space.
type segment struct {
	name    string // relative to the space folder
	kind    tier.Kind
	s       *tier.Segment
	rows    []uint32     // segment index → row; valid for live entries
	deleted *tier.Bitmap // entries forgotten or replaced since the segment was written
	live    int
}

func (st *state) closeSegments() {
	for _, sg := range st.segs {
		_ = sg.s.Close()
	}
	st.segs = nil
}

// loadCheckpoint restores what the manifest lists: warm and cold segments (their records
// become rows whose vectors stay in the segments), the hot snapshot (copied into the
// slab) and the association edges. It returns the LSN the checkpoint covers and how many
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
			st.lex.Add(row, mem.Content)
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
			st.lex.Add(row, mem.Content)
			loaded++
		}
		if hot != nil {
			hot.Close()
		}
	}
	if m.Edges != "" {
		keep[m.Edges] = true
		edges, err := tier.ReadEdges(filepath.Join(dir, m.Edges))
		if err != nil {
			setAside(m.Edges, 0, err)
			edges = nil
			st.mu.Lock()
			for _, rec := range st.recs {
				if rec != nil {
					rec.linked = false // the linker builds their edges again
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
	st.removeUnlisted(keep)
	return m.CheckpointLSN, loaded, corrupted, nil
}

// applyStored inserts a memory restored from a checkpoint: vec is already normalised and
// norm is its original length. Caller holds st.mu.
func (st *state) applyStored(m *Memory, vec []float32, norm float32) uint32 {
	if old, ok := st.byID[m.ID]; ok {
		st.killRow(old)
	}
	row := uint32(len(st.recs))
	rec := &liveMemory{m: *m, idx: -1, linked: true, hasVec: vec != nil}
	st.slab.reserve(int(row), int(row)+1)
	if vec != nil {
		copy(st.slab.row(row), vec)
		st.slab.encode(row)
	}
	return st.addRow(rec, norm)
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

// checkpoint writes the space's state to segment files so that the WAL below the covered
// LSN can be dropped: least recently activated hot memories past the hot capacity are
// sealed into a warm segment, warm segments past the warm capacity are compacted into a
// cold one, the remaining hot memories into a hot snapshot, the graph into an edges file,
// deletions into bitmaps, and a new manifest names them all. Writers are held up only
// for the instant the covered LSN is read and for switching memories to their new tier.
func (st *state) checkpoint() error {
	st.cpRun.Lock()
	defer st.cpRun.Unlock()
	if err := st.log.Sync(); err != nil {
		return err
	}
	st.cp.Lock()
	covered := st.log.Stats().LastLSN
	st.cp.Unlock()
	if covered == st.manifest.CheckpointLSN && covered != 0 {
		return nil
	}
	dir := st.sp.dir
	tag := fmt.Sprintf("%020d", covered)

	// Snapshot under the read lock: everything up to covered is applied; later changes
	// may be included too, which replay from covered+1 makes harmless.
	type item struct {
		row uint32
		rec tier.Record
		at  int64 // activation time for the demotion order
	}
	var hot []item
	st.mu.RLock()
	for row, rec := range st.recs {
		if rec == nil || rec.seg != nil {
			continue
		}
		it := item{row: uint32(row), rec: tier.Record{ID: rec.m.ID, Meta: encodeMemory(nil, &rec.m, nil)}}
		if rec.hasVec {
			it.rec.Vector = append([]float32(nil), st.vectorOf(uint32(row))...)
			it.rec.Norm = st.norms[row]
		}
		last := rec.m.LastAccess
		if last.IsZero() || last.Before(rec.m.StoredAt) {
			last = rec.m.StoredAt
		}
		it.at = last.UnixNano()
		hot = append(hot, it)
	}
	var warmLive int
	for _, sg := range st.segs {
		if sg.kind == tier.KindWarm {
			warmLive += sg.live
		}
	}
	segs := append([]*segment(nil), st.segs...)
	st.mu.RUnlock()

	// Demotion: the least recently activated beyond hotTargetFill × capacity.
	var demote []item
	if c := st.sp.settings.HotCapacity; c > 0 && len(hot) > c {
		sort.Slice(hot, func(i, j int) bool {
			if hot[i].at != hot[j].at {
				return hot[i].at < hot[j].at
			}
			return hot[i].row < hot[j].row
		})
		n := len(hot) - int(float64(c)*hotTargetFill)
		demote, hot = hot[:n], hot[n:]
	}
	var next tier.Manifest
	next.CheckpointLSN = covered
	var opened []*segment
	fail := func(err error) error {
		for _, sg := range opened {
			sg.s.Close()
		}
		return fmt.Errorf("engine: space %q: checkpoint: %w", st.sp.id, err)
	}
	writeSeg := func(name string, kind tier.Kind, items []item) (*segment, error) {
		recs := make([]tier.Record, len(items))
		for i := range items {
			recs[i] = items[i].rec
		}
		if err := tier.WriteSegment(filepath.Join(dir, name), kind, st.dim, recs); err != nil {
			return nil, err
		}
		s, err := tier.OpenSegment(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		sg := &segment{name: name, kind: kind, s: s, rows: make([]uint32, len(items)), deleted: tier.NewBitmap(len(items))}
		for i := range items {
			sg.rows[i] = items[i].row
		}
		opened = append(opened, sg)
		return sg, nil
	}

	var newWarm *segment
	if len(demote) > 0 {
		sort.Slice(demote, func(i, j int) bool { return demote[i].rec.ID < demote[j].rec.ID })
		sg, err := writeSeg("warm/"+tag+".seg", tier.KindWarm, demote)
		if err != nil {
			return fail(err)
		}
		newWarm = sg
	}

	// Compaction: warm past its capacity → the oldest warm segments become one cold segment.
	var compacted []*segment
	var newCold *segment
	if c := st.sp.settings.WarmCapacity; c > 0 && warmLive+len(demote) > c {
		var items []item
		st.mu.RLock()
		for _, sg := range segs {
			if sg.kind != tier.KindWarm {
				continue
			}
			compacted = append(compacted, sg)
			for i := 0; i < sg.s.Len(); i++ {
				if sg.deleted.Has(i) {
					continue
				}
				r := tier.Record{ID: sg.s.ID(i), Meta: sg.s.Meta(i), Norm: sg.s.Norm(i)}
				if sg.s.HasVector(i) {
					r.Vector = make([]float32, st.dim)
					sg.s.Vector(i, r.Vector)
				}
				items = append(items, item{row: sg.rows[i], rec: r})
			}
		}
		st.mu.RUnlock()
		if len(items) > 0 {
			sort.Slice(items, func(i, j int) bool { return items[i].rec.ID < items[j].rec.ID })
			sg, err := writeSeg("cold/"+tag+".seg", tier.KindCold, items)
			if err != nil {
				return fail(err)
			}
			newCold = sg
		}
	}

	sort.Slice(hot, func(i, j int) bool { return hot[i].rec.ID < hot[j].rec.ID })
	hotRecs := make([]tier.Record, len(hot))
	for i := range hot {
		hotRecs[i] = hot[i].rec
	}
	next.Hot = "hot/" + tag + ".seg"
	if err := tier.WriteSegment(filepath.Join(dir, next.Hot), tier.KindWarm, st.dim, hotRecs); err != nil {
		return fail(err)
	}

	st.mu.RLock()
	var edges []tier.EdgeRecord
	for row, rec := range st.recs {
		if rec == nil {
			continue
		}
		for _, e := range st.graph.Neighbors(uint32(row)) {
			if e.To > uint32(row) && st.aliveLocked(e.To) {
				edges = append(edges, tier.EdgeRecord{From: rec.m.ID, To: st.recs[e.To].m.ID, Weight: e.Weight, Kind: uint8(e.Kind)})
			}
		}
	}
	// Bitmaps of the segments that stay, as of now (later deletions are in the WAL).
	type bm struct {
		sg   *segment
		bits *tier.Bitmap
	}
	var keepSegs []bm
	isCompacted := func(sg *segment) bool {
		for _, c := range compacted {
			if c == sg {
				return true
			}
		}
		return false
	}
	for _, sg := range segs {
		if !isCompacted(sg) {
			keepSegs = append(keepSegs, bm{sg, cloneBitmap(sg.deleted)})
		}
	}
	st.mu.RUnlock()
	next.Edges = "hot/" + tag + ".edges"
	if err := tier.WriteEdges(filepath.Join(dir, next.Edges), edges); err != nil {
		return fail(err)
	}
	for _, k := range keepSegs {
		ref := tier.SegmentRef{Name: k.sg.name, Kind: k.sg.kind, Count: k.sg.s.Len()}
		if k.bits.Count() > 0 {
			ref.Deleted = k.sg.name + "." + tag + ".del"
			if err := tier.WriteBitmap(filepath.Join(dir, ref.Deleted), k.bits); err != nil {
				return fail(err)
			}
		}
		next.Segments = append(next.Segments, ref)
	}
	for _, sg := range []*segment{newCold, newWarm} {
		if sg != nil {
			next.Segments = append(next.Segments, tier.SegmentRef{Name: sg.name, Kind: sg.kind, Count: sg.s.Len()})
		}
	}
	if err := tier.SaveManifest(dir, next); err != nil {
		return fail(err)
	}

	// The manifest is durable: switch memories to their new tiers. Entries that changed
	// since the snapshot are marked deleted in their new segment (the WAL holds the change).
	st.mu.Lock()
	move := func(sg *segment) {
		for i, row := range sg.rows {
			rec := st.recs[row]
			if rec == nil || rec.m.ID != sg.s.ID(i) {
				sg.deleted.Set(i)
				continue
			}
			if rec.seg == nil {
				st.hotCount--
				st.hnsw.Delete(row)
			} else {
				rec.seg.live--
			}
			rec.seg, rec.idx = sg, int32(i)
			sg.live++
		}
	}
	if newCold != nil {
		move(newCold)
	}
	if newWarm != nil {
		move(newWarm)
	}
	var live []*segment
	for _, sg := range st.segs {
		if !isCompacted(sg) {
			live = append(live, sg)
		}
	}
	for _, sg := range []*segment{newCold, newWarm} {
		if sg != nil {
			live = append(live, sg)
		}
	}
	st.segs = live
	st.manifest = next
	st.mu.Unlock()
	for _, sg := range compacted {
		sg.s.Close()
	}

	if err := st.log.TruncateBefore(covered + 1); err != nil && !errors.Is(err, wal.ErrClosed) {
		return fmt.Errorf("engine: space %q: checkpoint: %w", st.sp.id, err)
	}
	keep := map[string]bool{next.Hot: true, next.Edges: true}
	for _, ref := range next.Segments {
		keep[ref.Name] = true
		if ref.Deleted != "" {
			keep[ref.Deleted] = true
		}
	}
	st.removeUnlisted(keep)
	st.sp.e.cfg.Logger.Debug("checkpoint", "space", st.sp.id, "lsn", covered,
		"demoted", len(demote), "hot", len(hot), "segments", len(next.Segments))
	return nil
}

// tierNames lists the tiers a recall searched.
func (st *state) tierNames() []string {
	out := []string{"hot"}
	var warm, cold bool
	for _, sg := range st.segs {
		warm = warm || sg.kind == tier.KindWarm
		cold = cold || sg.kind == tier.KindCold
	}
	if warm {
		out = append(out, "warm")
	}
	if cold {
		out = append(out, "cold")
	}
	return out
}

func cloneBitmap(b *tier.Bitmap) *tier.Bitmap {
	c := tier.NewBitmap(b.Len())
	for i := 0; i < b.Len(); i++ {
		if b.Has(i) {
			c.Set(i)
		}
	}
	return c
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

// minSlabWaste is the fewest stranded slab rows worth a renumbering.
const minSlabWaste = 4 * slabChunkRows

// slabWaste counts slab rows that hold no hot memory: vectors of memories demoted or
// forgotten while the space was open. The indexes keep using them (the HNSW index
// navigates through deleted nodes), so they are only reclaimed by renumber.
func (st *state) slabWaste() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.slab.allocatedRows() - st.hotCount
}

// renumber reopens the space from its checkpoint right after one, so rows are numbered
// afresh and the slab holds only hot vectors: this is what bounds a space's memory while
// it keeps demoting. Requests to the space wait for the reopen (the WAL tail is short, as
// a checkpoint just ran); other spaces are not affected.
func (s *Space) renumber(st *state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != st || st.failed.Load() {
		return
	}
	start := time.Now()
	if err := st.close(); err != nil {
		s.e.cfg.Logger.Warn("renumbering: closing the space", "space", s.id, "err", err)
	}
	fresh, _, err := openState(s)
	if err != nil {
		// The data is on disk; the next request opens the space again.
		s.st = nil
		s.e.openCount.Add(-1)
		s.e.cfg.Logger.Error("renumbering: reopening the space", "space", s.id, "err", err)
		return
	}
	s.st = fresh
	s.e.cfg.Logger.Info("space rows renumbered", "space", s.id, "took", time.Since(start).Round(time.Millisecond))
}

// promote queues a recalled warm or cold memory for promotion to the hot tier. Caller may
// hold st.mu (l.mu is always taken after it).
func (l *linker) promote(id string) {
	l.mu.Lock()
	if l.promos == nil {
		l.promos = map[string]bool{}
	}
	l.promos[id] = true
	l.mu.Unlock()
	l.poke()
}

// runPromotions promotes the queued memories.
func (l *linker) runPromotions() {
	l.mu.Lock()
	ids := make([]string, 0, len(l.promos))
	for id := range l.promos {
		ids = append(ids, id)
	}
	l.promos = nil
	l.mu.Unlock()
	sort.Strings(ids)
	for _, id := range ids {
		if err := l.st.promoteNow(id); err != nil {
			l.st.sp.e.cfg.Logger.Warn("promotion failed", "space", l.st.sp.id, "memory", id, "err", err)
			return
		}
	}
}

// promoteNow moves one memory to the hot tier in place (same row, same edges), logged so
// that recovery repeats it.
func (st *state) promoteNow(id string) error {
	defer st.lockIDs(id)()
	st.mu.RLock()
	row, ok := st.byID[id]
	if !ok || st.recs[row].seg == nil {
		st.mu.RUnlock()
		return nil
	}
	version := st.recs[row].m.StoredAt.UnixNano()
	rows := len(st.recs)
	st.mu.RUnlock()
	st.slab.reserve(int(row), int(row)+1)
	st.cp.RLock()
	if _, err := st.log.Append(wal.Entry{Type: recPromote, Payload: encodePromote(nil, id, version)}); err != nil {
		st.cp.RUnlock()
		return st.checkLog(err)
	}
	st.mu.Lock()
	moved := st.applyPromote(id, version)
	st.mu.Unlock()
	st.cp.RUnlock()
	if moved && rows >= hnswStartRows {
		st.hnsw.Insert(row) // idempotent: the index lane may insert it as well
	}
	return nil
}

// applyPromote copies a segment memory's vector into the slab at its row and marks it
// deleted in its segment. Caller holds st.mu.
func (st *state) applyPromote(id string, version int64) bool {
	row, ok := st.byID[id]
	if !ok {
		return false
	}
	rec := st.recs[row]
	if rec.seg == nil || rec.m.StoredAt.UnixNano() != version {
		return false
	}
	st.slab.reserve(int(row), int(row)+1)
	rec.seg.s.Vector(int(rec.idx), st.slab.row(row))
	st.slab.encode(row)
	rec.seg.deleted.Set(int(rec.idx))
	rec.seg.live--
	rec.seg, rec.idx = nil, -1
	st.hotCount++
	return true
}
