package engine

import (
	"context"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/engine/graph"
	"github.com/engram-go/engram/engine/record"
	"github.com/engram-go/engram/engine/wal"
	"github.com/engram-go/engram/simd"
)

// Consolidation defaults (docs/consolidation.md).
const (
	consolidationSimilarity = 0.6 // members of a cluster are at least this similar to its seed
	consolidationMinCluster = 3   // episodes needed to form a semantic memory
	consolidationMaxCluster = 64
	consolidationMaxPerRun  = 32 // semantic memories formed per space per run
)

// Consolidate turns clusters of similar, old-enough episodic memories of the space into
// semantic memories: the centroid of the cluster as vector, the most central episode's
// content as representative content, the episode ids as citations, and consolidation edges
// to every episode. Each one is stored through the WAL like any memory, so it is durable.
// It returns how many semantic memories were formed. Writes are never blocked: the search
// runs under the shared lock and the new memories go through the normal remember path.
func (s *Space) Consolidate(ctx context.Context) (int, error) {
	formed, err := s.consolidate(ctx, s.e.cfg.Now().UTC().Add(-s.e.cfg.Consolidation.MinAge))
	return len(formed), err
}

// ConsolidateBefore runs consolidation now over the episodes observed before cutoff (the
// zero time means the configured minimum age) and returns the semantic memories it formed,
// with their citations. What it formed before an error is returned with the error.
func (s *Space) ConsolidateBefore(ctx context.Context, cutoff time.Time) ([]Memory, error) {
	if cutoff.IsZero() {
		cutoff = s.e.cfg.Now().UTC().Add(-s.e.cfg.Consolidation.MinAge)
	}
	return s.consolidate(ctx, cutoff)
}

func (s *Space) consolidate(ctx context.Context, cutoff time.Time) ([]Memory, error) {
	st, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	clusters := st.findClusters(cutoff)
	var formed []Memory
	for _, c := range clusters {
		if ctx.Err() != nil {
			break
		}
		sem, ok := st.semanticFrom(c)
		if !ok {
			continue
		}
		stored, err := s.storeSemantic(ctx, st, sem)
		if err != nil {
			return formed, err
		}
		formed = append(formed, stored)
	}
	return formed, nil
}

// storeSemantic stores a semantic memory and its consolidation edges to the episodes it
// cites, both through the WAL, and accounts for the consolidation. It returns the memory
// as stored, without its embedding. Caller holds s.mu shared (st is open).
func (s *Space) storeSemantic(ctx context.Context, st *state, sem Memory) (Memory, error) {
	res, errs := s.rememberLocked(ctx, st, []Memory{sem}, RememberOptions{Preserve: true})
	if errs[0] != nil {
		return Memory{}, errs[0]
	}
	links := make([]record.Link, 0, len(sem.Citations))
	for _, id := range sem.Citations {
		links = append(links, record.Link{Target: id, Weight: 0.9, Kind: uint8(graph.KindConsolidation)})
	}
	version := res[0].Memory.StoredAt.UnixNano()
	st.cp.RLock()
	if _, err := st.log.Append(wal.Entry{Type: record.TypeLinks, Payload: record.AppendLinks(nil, sem.ID, version, links)}); err != nil {
		st.cp.RUnlock()
		return Memory{}, st.checkLog(err)
	}
	st.mu.Lock()
	st.applyLinks(sem.ID, version, links)
	st.mu.Unlock()
	st.cp.RUnlock()
	s.consol.add(s.e.cfg.Now(), len(sem.Citations))
	s.publish(EventConsolidation, sem.ID, sem.Confidence, map[string]any{
		"episodes": len(sem.Citations), "content_preview": preview(sem.Content, 80),
	})
	return res[0].Memory, nil
}

// findClusters groups unconsolidated episodic memories observed before cutoff. Greedy and
// deterministic: episodes are taken oldest first; each unclaimed one seeds a cluster of the
// unclaimed episodes most similar to it.
func (st *state) findClusters(cutoff time.Time) [][]uint32 {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var eligible []uint32
	for row, lm := range st.byRow {
		if lm != nil && lm.hasVec && lm.seg == nil && lm.m.Type == Episodic && !st.consolidated[lm.m.ID] && lm.m.ObservedAt.Before(cutoff) {
			eligible = append(eligible, uint32(row))
		}
	}
	sort.Slice(eligible, func(i, j int) bool {
		a, b := &st.byRow[eligible[i]].m, &st.byRow[eligible[j]].m
		if !a.ObservedAt.Equal(b.ObservedAt) {
			return a.ObservedAt.Before(b.ObservedAt)
		}
		return a.ID < b.ID
	})
	claimed := map[uint32]bool{}
	var out [][]uint32
	scores := make([]float32, 0, len(eligible))
	for _, seed := range eligible {
		if claimed[seed] || len(out) >= consolidationMaxPerRun {
			continue
		}
		q := st.vectorOf(seed)
		cluster := []uint32{seed}
		scores = scores[:0]
		for _, r := range eligible {
			scores = append(scores, simd.Dot(q, st.vectorOf(r)))
		}
		for i, r := range eligible {
			if r != seed && !claimed[r] && scores[i] >= consolidationSimilarity && len(cluster) < consolidationMaxCluster {
				cluster = append(cluster, r)
			}
		}
		if len(cluster) < consolidationMinCluster {
			continue
		}
		for _, r := range cluster {
			claimed[r] = true
		}
		out = append(out, cluster)
	}
	return out
}

// semanticFrom builds the semantic memory of a cluster, or false if the cluster changed.
func (st *state) semanticFrom(rows []uint32) (Memory, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	centroid := make([]float32, st.dim)
	vec := make([]float32, st.dim)
	var ids []string
	tags := map[string]bool{}
	var conf float32
	for _, r := range rows {
		if !st.aliveLocked(r) || !st.byRow[r].hasVec {
			return Memory{}, false
		}
		st.vectorInto(r, vec) // any tier: CONSOLIDATE … INTO may name warm or cold episodes
		simd.Axpy(1, vec, centroid)
		lm := st.byRow[r]
		ids = append(ids, lm.m.ID)
		conf += lm.m.Confidence
		for _, t := range lm.m.Tags {
			tags[t] = true
		}
	}
	simd.Normalize(centroid)
	// The representative content is the episode closest to the centroid.
	best, bestScore := rows[0], float32(-2)
	for _, r := range rows {
		st.vectorInto(r, vec)
		if d := simd.Dot(centroid, vec); d > bestScore {
			best, bestScore = r, d
		}
	}
	sort.Strings(ids)
	var tagList []string
	for t := range tags {
		tagList = append(tagList, t)
	}
	sort.Strings(tagList)
	if len(tagList) > MaxTags {
		tagList = tagList[:MaxTags]
	}
	h := xxhash.Sum64String(strings.Join(ids, "\x00"))
	var hb [8]byte
	for i := range hb {
		hb[i] = byte(h >> (8 * i))
	}
	return Memory{
		ID:         "sem_" + hex.EncodeToString(hb[:]),
		Content:    st.byRow[best].m.Content,
		Embedding:  centroid,
		Confidence: conf / float32(len(rows)),
		Type:       Semantic,
		Tags:       tagList,
		Citations:  ids,
	}, true
}
