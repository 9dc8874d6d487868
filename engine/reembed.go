package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/engram-go/engram/engine/embed"
	"github.com/engram-go/engram/internal/durable"
)

// reembedFile is the resume point of a re-embedding that did not finish: the model being
// applied and the last memory id done (memories go in id order).
const reembedFile = "reembed.json"

type reembedMark struct {
	Target embed.Model `json:"target"`
	After  string      `json:"after"`
	Done   int         `json:"done"`
}

// reembedBatch is how many memories one step re-embeds and stores with the built-in
// embedder; with a remote provider a step is one of its batches.
const reembedBatch = 64

// Reembed gives every memory of the space a vector from the configured model, then records
// the model, so that a space whose model changed takes remembers and recalls again. Each
// step stores its memories (same id, every field preserved, the new vector) and then moves
// the resume point on disk: an interrupted run, started again, continues after the last
// step it finished. progress, when set, is called after each step with memories done and
// the total.
func (s *Space) Reembed(ctx context.Context, progress func(done, total int)) error {
	if s.emb.setup != nil {
		return fmt.Errorf("%w: space %q: %v", ErrEmbeddingUnavailable, s.id, s.emb.setup)
	}
	if s.emb.remote == nil && s.embedder == nil {
		return fmt.Errorf("%w: space %q has provider %q, which makes no vectors to re-embed with", ErrInvalidInput, s.id, s.emb.model.Provider)
	}
	mark, err := readMark(s.dir)
	if err != nil {
		return err
	}
	if mark.Target != s.emb.model {
		mark = reembedMark{Target: s.emb.model}
	}
	var todo []Memory
	if err := s.Export(ctx, func(m Memory) error {
		if m.ID > mark.After {
			todo = append(todo, m)
		}
		return nil
	}); err != nil {
		return err
	}
	total := mark.Done + len(todo)
	step := reembedBatch
	if s.emb.remote != nil {
		step = s.emb.remote.BatchSize()
	}
	for lo := 0; lo < len(todo); lo += step {
		batch := todo[lo:min(lo+step, len(todo))]
		if err := s.reembedStep(ctx, batch); err != nil {
			return fmt.Errorf("re-embedding space %q after %d of %d memories (run it again to continue): %w", s.id, mark.Done, total, err)
		}
		mark.After, mark.Done = batch[len(batch)-1].ID, mark.Done+len(batch)
		if err := writeMark(s.dir, mark); err != nil {
			return err
		}
		if progress != nil {
			progress(mark.Done, total)
		}
	}
	if err := writeModel(s.dir, s.emb.model); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.dir, reembedFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("engine: remove %s: %w", reembedFile, err)
	}
	s.emb.mu.Lock()
	s.emb.checked, s.emb.err = true, nil
	s.emb.ok.Store(true)
	s.emb.mu.Unlock()
	return nil
}

// reembedStep stores batch again with the configured model's vectors. The built-in
// embedder derives a vector from the content at every load, so for it the vector is left
// out and derived again.
func (s *Space) reembedStep(ctx context.Context, batch []Memory) error {
	if s.emb.remote != nil {
		texts := make([]string, len(batch))
		for i := range batch {
			texts[i] = batch[i].Content
		}
		vecs, err := s.emb.remote.EmbedBatch(ctx, texts)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrEmbeddingUnavailable, err)
		}
		for i := range batch {
			batch[i].Embedding = vecs[i]
		}
	} else {
		for i := range batch {
			batch[i].Embedding = nil
		}
	}
	_, errs := s.rememberBatch(ctx, batch, RememberOptions{Preserve: true})
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("memory %q: %w", batch[i].ID, err)
		}
	}
	return nil
}

func readMark(dir string) (reembedMark, error) {
	var m reembedMark
	b, err := os.ReadFile(filepath.Join(dir, reembedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("engine: read %s: %w", reembedFile, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("engine: %s in %s is malformed (delete it to start over): %w", reembedFile, dir, err)
	}
	return m, nil
}

func writeMark(dir string, m reembedMark) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := durable.WriteFileBytes(filepath.Join(dir, reembedFile), b, 0o644); err != nil {
		return fmt.Errorf("engine: record re-embedding progress: %w", err)
	}
	return nil
}
