package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/engram-go/engram/engine/wal"
)

// WAL record types written by the engine. Payload layouts are documented in
// docs/formats/wal.md; every payload starts with a one-byte payload version.
const (
	recRemember wal.RecordType = 1 // a whole memory (insert or replace)
	recForget   wal.RecordType = 2 // tombstone for one memory id
	recLinks    wal.RecordType = 3 // association edges computed for one memory
	recAccess   wal.RecordType = 4 // reinforcement: access counts and last-access times
)

const payloadVersion = 1

var errShortPayload = errors.New("engine: payload truncated")

// Memory flags in the remember payload.
const (
	flagEpisode = 1 << iota
	flagEmbedding
	flagCitations
)

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendF32(b []byte, f float32) []byte {
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, math.MinInt64)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// appendF32s appends every value of fs as appendF32 would, in one growth of b.
func appendF32s(b []byte, fs []float32) []byte {
	n := len(b)
	b = slices.Grow(b, 4*len(fs))[:n+4*len(fs)]
	out := b[n:]
	for i, f := range fs {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return b
}

// encodeMemory appends the remember payload of m, with raw (the embedding as given) as vector.
func encodeMemory(b []byte, m *Memory, raw []float32) []byte {
	// One allocation for the whole payload: the embedding is most of it.
	b = slices.Grow(b, 64+len(m.ID)+len(m.Content)+4*len(raw)+16*len(m.Tags))
	b = append(b, payloadVersion)
	var flags byte
	if m.Episode != nil {
		flags |= flagEpisode
	}
	if raw != nil {
		flags |= flagEmbedding
	}
	if len(m.Citations) > 0 {
		flags |= flagCitations
	}
	b = append(b, flags, byte(m.Type))
	b = appendString(b, m.ID)
	b = appendString(b, m.Content)
	b = appendF32(b, m.Confidence)
	b = appendTime(b, m.ObservedAt)
	b = appendTime(b, m.StoredAt)
	b = appendTime(b, m.LastAccess)
	b = appendUvarint(b, uint64(m.AccessCount))
	b = appendStrings(b, m.Tags)
	if raw != nil {
		b = appendUvarint(b, uint64(len(raw)))
		b = appendF32s(b, raw)
	}
	if e := m.Episode; e != nil {
		b = appendString(b, e.Where)
		b = appendStrings(b, e.Who)
		b = appendString(b, e.Why)
		b = appendString(b, e.How)
		b = appendF32(b, e.EmotionalValence)
		b = appendF32(b, e.Importance)
	}
	if len(m.Citations) > 0 {
		b = appendStrings(b, m.Citations)
	}
	return b
}

// decoder reads a payload and remembers the first error, so decode functions stay linear.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: reading %s", errShortPayload, what)
	}
}

func (d *decoder) byte1(what string) byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail(what)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint(what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str(what string) string {
	n := d.uvarint(what)
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.fail(what)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) strs(what string) []string {
	n := d.uvarint(what)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) { // each string needs at least one byte
		d.fail(what)
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		out = append(out, d.str(what))
	}
	return out
}

// f32s reads a length and that many float32 values, as appendUvarint and appendF32s wrote
// them, in one pass; a length the input cannot hold fails without allocating.
func (d *decoder) f32s(what string) []float32 {
	n := d.uvarint(what + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b))/4 {
		d.fail(what)
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d.b[4*i:]))
	}
	d.b = d.b[4*n:]
	return out
}

func (d *decoder) f32(what string) float32 {
	if d.err != nil || len(d.b) < 4 {
		d.fail(what)
		return 0
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(d.b))
	d.b = d.b[4:]
	return v
}

func (d *decoder) time(what string) time.Time {
	v := d.varint(what)
	if d.err != nil || v == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

func (d *decoder) version() {
	if v := d.byte1("version"); d.err == nil && v != payloadVersion {
		d.err = fmt.Errorf("engine: unknown payload version %d", v)
	}
}

// decodeMemory reads a remember payload; the embedding returned is the raw vector as given.
func decodeMemory(p []byte) (Memory, []float32, error) {
	d := decoder{b: p}
	d.version()
	flags := d.byte1("flags")
	var m Memory
	m.Type = MemoryType(d.byte1("type"))
	m.ID = d.str("id")
	m.Content = d.str("content")
	m.Confidence = d.f32("confidence")
	m.ObservedAt = d.time("observed_at")
	m.StoredAt = d.time("stored_at")
	m.LastAccess = d.time("last_access")
	m.AccessCount = uint32(d.uvarint("access_count"))
	m.Tags = d.strs("tags")
	var raw []float32
	if flags&flagEmbedding != 0 {
		raw = d.f32s("embedding")
	}
	if flags&flagEpisode != 0 {
		e := &Episode{}
		e.Where = d.str("where")
		e.Who = d.strs("who")
		e.Why = d.str("why")
		e.How = d.str("how")
		e.EmotionalValence = d.f32("emotional_valence")
		e.Importance = d.f32("importance")
		m.Episode = e
	}
	if flags&flagCitations != 0 {
		m.Citations = d.strs("citations")
	}
	if d.err == nil && (m.Type < Episodic || m.Type > Procedural) {
		d.err = fmt.Errorf("engine: unknown memory type %d", m.Type)
	}
	return m, raw, d.err
}

func encodeForget(b []byte, id string) []byte {
	b = append(b, payloadVersion)
	return appendString(b, id)
}

func decodeForget(p []byte) (string, error) {
	d := decoder{b: p}
	d.version()
	id := d.str("id")
	return id, d.err
}

// link is one association edge as stored in the WAL, by memory id so that it does not
// depend on in-memory row numbers.
type link struct {
	Target string
	Weight float32
	Kind   uint8
}

// encodeLinks stores the edges computed for source; version is the source's stored_at in
// unix nanos, so edges computed for a replaced memory are not attached to its successor.
func encodeLinks(b []byte, source string, version int64, links []link) []byte {
	b = append(b, payloadVersion)
	b = appendString(b, source)
	b = binary.AppendVarint(b, version)
	b = appendUvarint(b, uint64(len(links)))
	for _, l := range links {
		b = appendString(b, l.Target)
		b = appendF32(b, l.Weight)
		b = append(b, l.Kind)
	}
	return b
}

func decodeLinks(p []byte) (string, int64, []link, error) {
	d := decoder{b: p}
	d.version()
	src := d.str("source")
	version := d.varint("source version")
	n := d.uvarint("link count")
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("links")
	}
	var out []link
	for i := uint64(0); i < n && d.err == nil; i++ {
		var l link
		l.Target = d.str("target")
		l.Weight = d.f32("weight")
		l.Kind = d.byte1("kind")
		out = append(out, l)
	}
	return src, version, out, d.err
}

// access is one reinforcement update.
type access struct {
	ID    string
	Count uint32
	Last  time.Time
}

func encodeAccess(b []byte, as []access) []byte {
	b = append(b, payloadVersion)
	b = appendUvarint(b, uint64(len(as)))
	for _, a := range as {
		b = appendString(b, a.ID)
		b = appendUvarint(b, uint64(a.Count))
		b = appendTime(b, a.Last)
	}
	return b
}

func decodeAccess(p []byte) ([]access, error) {
	d := decoder{b: p}
	d.version()
	n := d.uvarint("access count")
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("accesses")
	}
	var out []access
	for i := uint64(0); i < n && d.err == nil; i++ {
		var a access
		a.ID = d.str("id")
		a.Count = uint32(d.uvarint("count"))
		a.Last = d.time("last")
		out = append(out, a)
	}
	return out, d.err
}
