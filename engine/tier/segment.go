package tier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/engram-go/engram/mmap"
)

// Segment is an open, memory-mapped segment file. Its methods read the mapping in place.
// All methods except Close are safe for concurrent use; Close must not run concurrently
// with any other method, and no method may be called after Close.
type Segment struct {
	path string
	file *mmap.File
	kind Kind
	dim  int
	n    int

	// ids section
	idOffsets []byte // n+1 uint32: record i's id is idBlob[idOffsets[i]:idOffsets[i+1]]
	idSorted  []byte // n uint32: record indexes in ascending id order
	idBlob    []byte

	// meta section, warm
	metaOffsets []byte // n+1 uint64 into metaBlob
	metaBlob    []byte
	// meta section, cold
	blockTable []byte // one metaBlockEntry per block
	blockData  []byte // the compressed blocks, back to back

	floats   []float32 // warm vectors, n rows of dim, in the mapping
	codes    []int8    // cold vectors, n rows of dim, in the mapping
	scales   []float32 // cold row scales, in the mapping
	norms    []float32 // in the mapping
	presence []byte    // bit i set when record i has a vector

	decoderOnce sync.Once
	decoder     *zstd.Decoder
	decoderErr  error
	blockBufs   sync.Pool // *[]byte, decompressed cold blocks
}

// OpenSegment maps the segment file at path and checks it: the header checksum, every
// section's checksum, the zero padding between sections, and the structure of the id
// index, the metadata offsets and the presence bitmap, so that no accessor can read out of
// bounds afterwards. Damage yields an error wrapping ErrCorrupt (a *CorruptError naming the
// section); an intact file of another format version yields ErrVersion.
//
// Checking reads the whole file once, which also brings it into the page cache.
func OpenSegment(path string) (*Segment, error) {
	if !hostLittleEndian() {
		return nil, fmt.Errorf("tier: open segment %s: %w", path, ErrByteOrder)
	}
	f, err := mmap.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tier: open segment: %w", err)
	}
	s, err := parseSegment(path, f.Bytes())
	if err != nil {
		f.Close()
		return nil, err
	}
	s.file = f
	return s, nil
}

func parseSegment(path string, b []byte) (*Segment, error) {
	corrupt := func(sec, format string, args ...any) error {
		return &CorruptError{File: "segment", Path: path, Section: sec, Reason: fmt.Sprintf(format, args...)}
	}
	if len(b) < headerSize {
		return nil, corrupt("header", "file is %d bytes, shorter than the %d-byte header", len(b), headerSize)
	}
	if string(b[hdrMagic:hdrMagic+len(segmentMagic)]) != segmentMagic {
		return nil, corrupt("header", "bad magic %q", b[hdrMagic:hdrMagic+len(segmentMagic)])
	}
	if xxhash.Sum64(b[:hdrChecksum]) != binary.LittleEndian.Uint64(b[hdrChecksum:]) {
		return nil, corrupt("header", "checksum mismatch")
	}
	h := decodeHeader(b)
	if h.version != segmentVersion {
		return nil, fmt.Errorf("tier: open segment %s: %w: version %d, this build reads %d", path, ErrVersion, h.version, segmentVersion)
	}
	if !h.kind.Valid() {
		return nil, corrupt("header", "unknown kind %d", uint8(h.kind))
	}
	if !allZero(b[hdrReserved:hdrDim]) || !allZero(b[hdrCount+4:hdrSections]) ||
		!allZero(b[hdrSections+int(numSections)*sectionEntrySize:hdrChecksum]) {
		return nil, corrupt("header", "reserved bytes are not zero")
	}
	if h.dim > MaxDim {
		return nil, corrupt("header", "dimension %d exceeds %d", h.dim, MaxDim)
	}
	n, dim := uint64(h.count), uint64(h.dim)

	// Every section length either follows from the count, dimension and kind, or is checked
	// against the file size before it is added to anything, so no sum below overflows.
	want := fixedLengths(h.kind, dim, n)
	minimum := want
	minimum[secIDs] = 8*n + 4
	minimum[secMeta] = metaTableHeader
	if h.kind == KindWarm {
		minimum[secMeta] = 8 * (n + 1)
	}
	var lengths [numSections]uint64
	for s := range numSections {
		l := h.sections[s].length
		switch s {
		case secIDs, secMeta:
			if l < minimum[s] || l > uint64(len(b)) {
				return nil, corrupt(s.String(), "length %d is impossible for %d records in a %d-byte file", l, n, len(b))
			}
		default:
			if l != want[s] {
				return nil, corrupt(s.String(), "length %d, want %d for %d %s records of dimension %d", l, want[s], n, h.kind, dim)
			}
		}
		lengths[s] = l
	}
	refs, size := layout(lengths)
	for s := range numSections {
		if h.sections[s].offset != refs[s].offset {
			return nil, corrupt(s.String(), "offset %d, want %d", h.sections[s].offset, refs[s].offset)
		}
	}
	if size > uint64(len(b)) {
		for s := range numSections {
			if refs[s].end() > uint64(len(b)) {
				return nil, corrupt(s.String(), "truncated: the section ends at byte %d, the file at %d", refs[s].end(), len(b))
			}
		}
	}
	if size < uint64(len(b)) {
		return nil, corrupt("file", "%d bytes after the last section", uint64(len(b))-size)
	}
	var sec [numSections][]byte
	pos := uint64(headerSize)
	for s := range numSections {
		ref := h.sections[s]
		if !allZero(b[pos:ref.offset]) {
			return nil, corrupt("padding", "non-zero byte before the %s section", s)
		}
		sec[s] = b[ref.offset:ref.end():ref.end()]
		if xxhash.Sum64(sec[s]) != ref.checksum {
			return nil, corrupt(s.String(), "checksum mismatch")
		}
		pos = ref.end()
	}

	seg := &Segment{path: path, kind: h.kind, dim: int(dim), n: int(n)}
	if err := seg.setIDs(sec[secIDs]); err != nil {
		return nil, corrupt("ids", "%v", err)
	}
	var err error
	if h.kind == KindWarm {
		err = seg.setWarmMeta(sec[secMeta])
	} else {
		err = seg.setColdMeta(sec[secMeta])
	}
	if err != nil {
		return nil, corrupt("meta", "%v", err)
	}
	if n%8 != 0 && sec[secPresence][n/8]>>(n%8) != 0 {
		return nil, corrupt("presence", "bits set past the last record")
	}
	seg.presence = sec[secPresence]
	views := []struct {
		s   section
		dst *[]float32
	}{{secVectors, &seg.floats}, {secScales, &seg.scales}, {secNorms, &seg.norms}}
	for _, v := range views {
		if h.kind == KindCold && v.s == secVectors {
			continue
		}
		if *v.dst, err = float32View(sec[v.s]); err != nil {
			return nil, corrupt(v.s.String(), "%v", err)
		}
	}
	if h.kind == KindCold && len(sec[secVectors]) > 0 {
		seg.codes = unsafe.Slice((*int8)(unsafe.Pointer(&sec[secVectors][0])), len(sec[secVectors]))
	}
	return seg, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// float32View reinterprets little-endian float32 bytes in place. The mapping is page
// aligned and sections start on 64-byte boundaries, so the check only fails for bytes that
// did not come from a mapping.
func float32View(b []byte) ([]float32, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%4 != 0 {
		return nil, errors.New("float32 data is not 4-byte aligned in memory")
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4), nil
}

func (s *Segment) setIDs(b []byte) error {
	n := uint64(s.n)
	s.idOffsets = b[:4*(n+1)]
	s.idSorted = b[4*(n+1) : 8*n+4]
	s.idBlob = b[8*n+4:]
	var prev uint32
	for i := range n + 1 {
		off := binary.LittleEndian.Uint32(s.idOffsets[4*i:])
		if i == 0 && off != 0 {
			return fmt.Errorf("first id offset is %d, want 0", off)
		}
		if i > 0 && off <= prev {
			return fmt.Errorf("id of record %d is empty or has a negative length", i-1)
		}
		prev = off
	}
	if uint64(prev) != uint64(len(s.idBlob)) {
		return fmt.Errorf("ids end at %d, the blob holds %d bytes", prev, len(s.idBlob))
	}
	// Strictly ascending ids make the index a permutation: no record appears twice.
	for j := range n {
		r := binary.LittleEndian.Uint32(s.idSorted[4*j:])
		if uint64(r) >= n {
			return fmt.Errorf("index entry %d names record %d of %d", j, r, n)
		}
		if j > 0 && s.idAt(int(binary.LittleEndian.Uint32(s.idSorted[4*(j-1):]))) >= s.idAt(int(r)) {
			return fmt.Errorf("index entry %d is not in strictly ascending id order", j)
		}
	}
	return nil
}

func (s *Segment) setWarmMeta(b []byte) error {
	n := uint64(s.n)
	s.metaOffsets = b[:8*(n+1)]
	s.metaBlob = b[8*(n+1):]
	var prev uint64
	for i := range n + 1 {
		off := binary.LittleEndian.Uint64(s.metaOffsets[8*i:])
		if (i == 0 && off != 0) || off < prev {
			return fmt.Errorf("metadata offset %d of record %d is out of order", off, i)
		}
		prev = off
	}
	if prev != uint64(len(s.metaBlob)) {
		return fmt.Errorf("metadata ends at %d, the blob holds %d bytes", prev, len(s.metaBlob))
	}
	return nil
}

func (s *Segment) setColdMeta(b []byte) error {
	blocks := uint64(binary.LittleEndian.Uint32(b))
	if binary.LittleEndian.Uint32(b[4:]) != 0 {
		return errors.New("reserved table bytes are not zero")
	}
	if blocks > uint64(s.n) || (s.n > 0) != (blocks > 0) {
		return fmt.Errorf("%d blocks for %d records", blocks, s.n)
	}
	if uint64(len(b)) < metaTableHeader+metaBlockEntry*blocks {
		return fmt.Errorf("block table of %d entries does not fit in %d bytes", blocks, len(b))
	}
	s.blockTable = b[metaTableHeader : metaTableHeader+metaBlockEntry*blocks]
	s.blockData = b[metaTableHeader+metaBlockEntry*blocks:]
	for j := range int(blocks) {
		first, last := s.blockRecords(j)
		rawLen, start := s.blockRaw(j), s.blockOffset(j)
		end := uint64(len(s.blockData))
		if j+1 < int(blocks) {
			end = s.blockOffset(j + 1)
		}
		switch {
		case j == 0 && first != 0:
			return fmt.Errorf("block 0 starts at record %d", first)
		case first >= last || last > s.n:
			return fmt.Errorf("block %d holds records %d to %d of %d", j, first, last-1, s.n)
		case j == 0 && start != 0, start >= end, end > uint64(len(s.blockData)):
			return fmt.Errorf("block %d spans bytes %d to %d of %d", j, start, end, len(s.blockData))
		case rawLen < 4*uint64(last-first+1) || rawLen > maxMetaBlockRaw:
			return fmt.Errorf("block %d claims %d uncompressed bytes for %d records", j, rawLen, last-first)
		}
	}
	return nil
}

func (s *Segment) numBlocks() int { return len(s.blockTable) / metaBlockEntry }

func (s *Segment) blockFirst(j int) int {
	return int(binary.LittleEndian.Uint32(s.blockTable[metaBlockEntry*j:]))
}

// blockRecords returns the records [first, last) of block j.
func (s *Segment) blockRecords(j int) (first, last int) {
	first, last = s.blockFirst(j), s.n
	if j+1 < s.numBlocks() {
		last = s.blockFirst(j + 1)
	}
	return first, last
}

func (s *Segment) blockRaw(j int) uint64 {
	return uint64(binary.LittleEndian.Uint32(s.blockTable[metaBlockEntry*j+4:]))
}

func (s *Segment) blockOffset(j int) uint64 {
	return binary.LittleEndian.Uint64(s.blockTable[metaBlockEntry*j+8:])
}

// Kind returns the segment's kind.
func (s *Segment) Kind() Kind { return s.kind }

// Dim returns the dimension of the segment's vectors (0 when no record has one).
func (s *Segment) Dim() int { return s.dim }

// Len returns the number of records.
func (s *Segment) Len() int { return s.n }

// Path returns the path the segment was opened from.
func (s *Segment) Path() string { return s.path }

func (s *Segment) checkIndex(i int) {
	if uint(i) >= uint(s.n) {
		panic(fmt.Sprintf("tier: record index %d out of range [0, %d)", i, s.n))
	}
}

// idAt returns record i's id as a string that aliases the mapping; it must not escape.
func (s *Segment) idAt(i int) string {
	a := binary.LittleEndian.Uint32(s.idOffsets[4*i:])
	b := binary.LittleEndian.Uint32(s.idOffsets[4*i+4:])
	return unsafe.String(&s.idBlob[a], b-a)
}

// ID returns the id of record i. It panics if i is out of range.
func (s *Segment) ID(i int) string {
	s.checkIndex(i)
	return strings.Clone(s.idAt(i))
}

// Lookup returns the index of the record with the given id, by binary search of the
// segment's sorted id index.
func (s *Segment) Lookup(id string) (int, bool) {
	lo, hi := 0, s.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		r := int(binary.LittleEndian.Uint32(s.idSorted[4*m:]))
		switch c := strings.Compare(s.idAt(r), id); {
		case c == 0:
			return r, true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return 0, false
}

// Meta returns a copy of record i's metadata, which stays valid after Close. An empty blob
// is returned as an empty, non-nil slice. In a cold segment the record's block is
// decompressed; nil means the block failed to decompress, which a file that passed
// OpenSegment's checksums cannot do unless it was forged (Verify reports it as an error).
// It panics if i is out of range.
func (s *Segment) Meta(i int) []byte {
	s.checkIndex(i)
	if s.kind == KindWarm {
		return append([]byte{}, s.warmMeta(i)...)
	}
	j := sort.Search(s.numBlocks(), func(j int) bool { return s.blockFirst(j) > i }) - 1
	buf, err := s.decodeBlock(j)
	if err != nil {
		return nil
	}
	defer s.blockBufs.Put(buf)
	first, last := s.blockRecords(j)
	blob, offs := blockParts(*buf, last-first)
	k := i - first
	a, b := binary.LittleEndian.Uint32(offs[4*k:]), binary.LittleEndian.Uint32(offs[4*k+4:])
	if a > b || uint64(b) > uint64(len(blob)) {
		return nil
	}
	return append([]byte{}, blob[a:b]...)
}

// MetaInPlace returns the metadata of record i as Meta does, but, in a warm segment, in
// place in the mapped file: the bytes must not be modified, and not be used after Close.
// A cold segment's metadata is compressed, and comes as Meta's copy.
func (s *Segment) MetaInPlace(i int) []byte {
	s.checkIndex(i)
	if s.kind == KindWarm {
		return s.warmMeta(i)
	}
	return s.Meta(i)
}

// warmMeta is record i's metadata in a warm segment, in place.
func (s *Segment) warmMeta(i int) []byte {
	a := binary.LittleEndian.Uint64(s.metaOffsets[8*i:])
	b := binary.LittleEndian.Uint64(s.metaOffsets[8*i+8:])
	return s.metaBlob[a:b:b]
}

// blockParts splits a decompressed block of m records into its metadata blob and its
// m+1 offsets.
func blockParts(raw []byte, m int) (blob, offsets []byte) {
	return raw[4*(m+1):], raw[:4*(m+1)]
}

// decodeBlock decompresses cold block j into a buffer from the pool; the caller puts it back.
func (s *Segment) decodeBlock(j int) (*[]byte, error) {
	s.decoderOnce.Do(func() {
		s.decoder, s.decoderErr = zstd.NewReader(nil,
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(maxMetaBlockRaw))
	})
	if s.decoderErr != nil {
		return nil, fmt.Errorf("zstd decoder: %w", s.decoderErr)
	}
	end := uint64(len(s.blockData))
	if j+1 < s.numBlocks() {
		end = s.blockOffset(j + 1)
	}
	buf, _ := s.blockBufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	raw, err := s.decoder.DecodeAll(s.blockData[s.blockOffset(j):end], (*buf)[:0])
	*buf = raw
	if err == nil && uint64(len(raw)) != s.blockRaw(j) {
		err = fmt.Errorf("decompressed to %d bytes, the table says %d", len(raw), s.blockRaw(j))
	}
	if err != nil {
		s.blockBufs.Put(buf)
		return nil, fmt.Errorf("block %d: %w", j, err)
	}
	return buf, nil
}

// Verify decompresses every metadata block of a cold segment and checks its offsets: the
// one check OpenSegment leaves to the first read of each block. Damage yields a
// *CorruptError for the meta section. A warm segment is fully checked by OpenSegment, so
// Verify returns nil for it.
func (s *Segment) Verify() error {
	for j := range s.numBlocks() {
		buf, err := s.decodeBlock(j)
		if err != nil {
			return &CorruptError{File: "segment", Path: s.path, Section: "meta", Reason: err.Error()}
		}
		first, last := s.blockRecords(j)
		blob, offs := blockParts(*buf, last-first)
		var prev uint32
		for k := range last - first + 1 {
			off := binary.LittleEndian.Uint32(offs[4*k:])
			if (k == 0 && off != 0) || off < prev {
				err = fmt.Errorf("block %d: metadata offset %d of record %d is out of order", j, off, first+k)
				break
			}
			prev = off
		}
		if err == nil && uint64(prev) != uint64(len(blob)) {
			err = fmt.Errorf("block %d: metadata ends at %d, the block holds %d bytes", j, prev, len(blob))
		}
		s.blockBufs.Put(buf)
		if err != nil {
			return &CorruptError{File: "segment", Path: s.path, Section: "meta", Reason: err.Error()}
		}
	}
	return nil
}

// HasVector reports whether record i has a vector. It panics if i is out of range.
func (s *Segment) HasVector(i int) bool {
	s.checkIndex(i)
	return s.hasVector(i)
}

func (s *Segment) hasVector(i int) bool { return s.presence[i>>3]&(1<<(i&7)) != 0 }

// Vector writes record i's normalised vector into out[:Dim()]: the stored float32 values
// of a warm segment, or the dequantised int8 codes (code × row scale) of a cold one, whose
// elements differ from the written vector by at most half the row scale. A record without
// a vector yields zeros. It panics if i is out of range or len(out) < Dim().
func (s *Segment) Vector(i int, out []float32) {
	s.checkIndex(i)
	if len(out) < s.dim {
		panic(fmt.Sprintf("tier: Vector: len(out) = %d, the segment's dimension is %d", len(out), s.dim))
	}
	out = out[:s.dim]
	if !s.hasVector(i) {
		clear(out)
		return
	}
	row := i * s.dim
	if s.kind == KindWarm {
		copy(out, s.floats[row:row+s.dim])
		return
	}
	scale := s.scales[i]
	for j, c := range s.codes[row : row+s.dim] {
		out[j] = float32(c) * scale
	}
}

// Norm returns the L2 norm record i's vector had before normalisation, 0 for a record
// without a vector. It panics if i is out of range.
func (s *Segment) Norm(i int) float32 {
	s.checkIndex(i)
	return s.norms[i]
}

// Close unmaps the file and releases the decompressor. Slices and strings returned
// earlier (ID, Meta, Scan's hits) stay valid; nothing else may be used afterwards.
func (s *Segment) Close() error {
	if s.file == nil {
		return fmt.Errorf("tier: close segment %s: %w", s.path, ErrClosed)
	}
	if s.decoder != nil {
		s.decoder.Close()
	}
	err := s.file.Close()
	// Dropping the views turns a use after Close into an index panic instead of a fault on
	// unmapped memory.
	s.file, s.decoder, s.n = nil, nil, 0
	s.idOffsets, s.idSorted, s.idBlob = nil, nil, nil
	s.metaOffsets, s.metaBlob, s.blockTable, s.blockData = nil, nil, nil, nil
	s.floats, s.codes, s.scales, s.norms, s.presence = nil, nil, nil, nil, nil
	if err != nil {
		return fmt.Errorf("tier: close segment: %w", err)
	}
	return nil
}
