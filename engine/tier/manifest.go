package tier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cespare/xxhash/v2"
	"github.com/engram-go/engram/internal/durable"
)

// ManifestName is the manifest's file name inside a space folder.
const ManifestName = "MANIFEST"

// ManifestVersion is the manifest format this package reads and writes.
const ManifestVersion = 1

const manifestMagic = "ENGRAM-MANIFEST"

// Manifest lists the files that make up a space's tiers and the WAL position they cover:
// every record with an LSN at or below CheckpointLSN is reflected in the listed segments,
// deletion bitmaps, hot snapshot and edges file, so recovery replays the WAL from
// CheckpointLSN+1. File names are relative to the space folder, with forward slashes
// (for example "warm/0000000000000001.seg").
type Manifest struct {
	// Version is the manifest format; LoadManifest returns ManifestVersion and SaveManifest
	// accepts 0 (meaning ManifestVersion) or ManifestVersion.
	Version       int          `json:"version"`
	CheckpointLSN uint64       `json:"checkpoint_lsn"`
	Segments      []SegmentRef `json:"segments"`
	// Hot is the hot snapshot segment (warm format), or "" when there is none.
	Hot string `json:"hot,omitempty"`
	// Edges is the association graph's edges file, or "" when there is none.
	Edges string `json:"edges,omitempty"`
	// Graph is the row graph file (docs/formats/rowgraph.md), derived from the edges file
	// and the listed memories, or "" when there is none. Readers that do not know it
	// ignore it and load the edges file.
	Graph string `json:"graph,omitempty"`
	// Lexical is the lexical index file (docs/formats/lexical.md), derived from the listed
	// memories, or "" when there is none; readers that do not know it ignore it.
	Lexical string `json:"lexical,omitempty"`
	// HNSW is the vector index file (docs/formats/hnsw.md), derived from the listed hot
	// memories' vectors, or "" when there is none; readers that do not know it ignore it.
	HNSW string `json:"hnsw,omitempty"`
	// IDMap is the id map file (docs/formats/idmap.md), derived from the listed memories'
	// ids, or "" when there is none; readers that do not know it ignore it.
	IDMap string `json:"idmap,omitempty"`
}

// SegmentRef is one live warm or cold segment.
type SegmentRef struct {
	Name  string `json:"name"`
	Kind  Kind   `json:"kind"`
	Count int    `json:"count"`
	// Deleted is the segment's deletion bitmap, or "" when nothing in it is deleted.
	Deleted string `json:"deleted,omitempty"`
}

// LoadManifest reads the manifest of the space folder dir. A missing manifest is an empty
// one (a space that has sealed nothing yet). Damage yields an error wrapping ErrCorrupt.
func LoadManifest(dir string) (Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{Version: ManifestVersion}, nil
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("tier: load manifest: %w", err)
	}
	corrupt := func(format string, args ...any) error {
		return &CorruptError{File: "manifest", Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	line, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return Manifest{}, corrupt("no header line")
	}
	var magic string
	var version int
	var sum uint64
	var length int
	if n, _ := fmt.Sscanf(string(line), "%s %d %x %d", &magic, &version, &sum, &length); n != 4 || magic != manifestMagic {
		return Manifest{}, corrupt("bad header line %q", line)
	}
	if version != ManifestVersion {
		return Manifest{}, fmt.Errorf("tier: load manifest %s: %w: version %d", path, ErrVersion, version)
	}
	if string(line)+"\n" != manifestHead(sum, length) {
		return Manifest{}, corrupt("bad header line %q", line)
	}
	if len(body) != length {
		return Manifest{}, corrupt("body is %d bytes, the header says %d", len(body), length)
	}
	if xxhash.Sum64(body) != sum {
		return Manifest{}, corrupt("checksum mismatch")
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return Manifest{}, corrupt("%v", err)
	}
	if m.Version != ManifestVersion {
		return Manifest{}, corrupt("body version %d differs from the header's %d", m.Version, version)
	}
	if err := m.check(); err != nil {
		return Manifest{}, corrupt("%v", err)
	}
	return m, nil
}

// SaveManifest replaces the manifest of the space folder dir atomically: write a
// temporary file, fsync it, rename it over the manifest, fsync the folder. A crash leaves
// either the previous manifest or the new one.
func SaveManifest(dir string, m Manifest) error {
	if m.Version == 0 {
		m.Version = ManifestVersion
	}
	if m.Version != ManifestVersion {
		return fmt.Errorf("tier: save manifest: %w: version %d", ErrInvalidArgument, m.Version)
	}
	if err := m.check(); err != nil {
		return fmt.Errorf("tier: save manifest: %w: %v", ErrInvalidArgument, err)
	}
	if m.Segments == nil {
		m.Segments = []SegmentRef{}
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("tier: save manifest: %w", err)
	}
	body = append(body, '\n')
	head := manifestHead(xxhash.Sum64(body), len(body))
	err = durable.WriteFile(filepath.Join(dir, ManifestName), 0o644, func(f *os.File) error {
		_, err := f.Write(append([]byte(head), body...))
		return err
	})
	if err != nil {
		return fmt.Errorf("tier: save manifest: %w", err)
	}
	return nil
}

// manifestHead returns the manifest's first line: magic, version, body checksum (16 hex
// digits) and body length.
func manifestHead(sum uint64, length int) string {
	return fmt.Sprintf("%s %d %016x %d\n", manifestMagic, ManifestVersion, sum, length)
}

// check rejects a manifest that names a file outside the space folder, names one twice,
// or describes a segment impossibly.
func (m Manifest) check() error {
	seen := make(map[string]bool)
	name := func(what, n string) error {
		if !filepath.IsLocal(filepath.FromSlash(n)) || n != filepath.ToSlash(filepath.Clean(filepath.FromSlash(n))) {
			return fmt.Errorf("%s %q is not a clean path inside the space folder", what, n)
		}
		if seen[n] {
			return fmt.Errorf("%s %q is listed twice", what, n)
		}
		seen[n] = true
		return nil
	}
	for _, r := range m.Segments {
		if err := name("segment", r.Name); err != nil {
			return err
		}
		if !r.Kind.Valid() {
			return fmt.Errorf("segment %q has kind %d", r.Name, uint8(r.Kind))
		}
		if r.Count < 0 || uint64(r.Count) > MaxRecords {
			return fmt.Errorf("segment %q has count %d", r.Name, r.Count)
		}
		if r.Deleted != "" {
			if err := name("deletion bitmap", r.Deleted); err != nil {
				return err
			}
		}
	}
	for _, f := range []struct{ what, n string }{{"hot snapshot", m.Hot}, {"edges file", m.Edges}, {"row graph", m.Graph}, {"lexical index", m.Lexical}, {"hnsw graph", m.HNSW}, {"id map", m.IDMap}} {
		if f.n != "" {
			if err := name(f.what, f.n); err != nil {
				return err
			}
		}
	}
	return nil
}
