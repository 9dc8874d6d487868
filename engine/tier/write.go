package tier

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/engram-go/engram/internal/durable"
	"github.com/engram-go/engram/simd"
)

// WriteSegment writes recs, in order, into a new immutable segment file at path: record i
// of the file is recs[i]. The file is written to path+".tmp", fsynced and renamed into
// place, then the folder is fsynced, so path never holds a partial segment; a missing
// parent folder is created. Every vector must have exactly dim elements or none; a cold
// segment stores vectors quantised to int8 with one scale per row (see simd.Quantize).
func WriteSegment(path string, kind Kind, dim int, recs []Record) error {
	if err := checkRecords(kind, dim, recs); err != nil {
		return fmt.Errorf("tier: write segment %s: %w", path, err)
	}
	ids, err := encodeIDs(recs)
	if err != nil {
		return fmt.Errorf("tier: write segment %s: %w", path, err)
	}
	var coldMeta []byte
	if kind == KindCold {
		if coldMeta, err = encodeColdMeta(recs); err != nil {
			return fmt.Errorf("tier: write segment %s: %w", path, err)
		}
	}
	err = durable.WriteFile(path, 0o644, func(f *os.File) error {
		return writeSegmentFile(f, kind, dim, recs, ids, coldMeta)
	})
	if err != nil {
		return fmt.Errorf("tier: write segment %s: %w", path, err)
	}
	return nil
}

func checkRecords(kind Kind, dim int, recs []Record) error {
	if !kind.Valid() {
		return fmt.Errorf("%w: kind %d", ErrInvalidArgument, uint8(kind))
	}
	if dim < 0 || dim > MaxDim {
		return fmt.Errorf("%w: dimension %d outside [0, %d]", ErrInvalidArgument, dim, MaxDim)
	}
	if uint64(len(recs)) > MaxRecords {
		return fmt.Errorf("%w: %d records, the limit is %d", ErrInvalidArgument, len(recs), uint64(MaxRecords))
	}
	var idBytes uint64
	for i := range recs {
		r := &recs[i]
		if r.ID == "" {
			return fmt.Errorf("%w: record %d has an empty id", ErrInvalidRecord, i)
		}
		idBytes += uint64(len(r.ID))
		if len(r.Vector) == 0 {
			continue
		}
		if len(r.Vector) != dim {
			return fmt.Errorf("%w: vector of %q has %d elements, the segment's dimension is %d", ErrInvalidRecord, r.ID, len(r.Vector), dim)
		}
		for _, x := range r.Vector {
			if !finite(x) {
				return fmt.Errorf("%w: vector of %q has a non-finite element", ErrInvalidRecord, r.ID)
			}
		}
		if !finite(r.Norm) || r.Norm < 0 {
			return fmt.Errorf("%w: norm of %q is %v", ErrInvalidRecord, r.ID, r.Norm)
		}
	}
	if idBytes > math.MaxUint32 {
		return fmt.Errorf("%w: ids total %d bytes, the limit is %d", ErrInvalidArgument, idBytes, uint64(math.MaxUint32))
	}
	return nil
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// encodeIDs builds the ids section: the offsets of each record's id in the blob, the
// record indexes in id order, and the ids in record order.
func encodeIDs(recs []Record) ([]byte, error) {
	n := len(recs)
	sorted := make([]uint32, n)
	for i := range sorted {
		sorted[i] = uint32(i)
	}
	slices.SortFunc(sorted, func(a, b uint32) int { return strings.Compare(recs[a].ID, recs[b].ID) })
	for j := 1; j < n; j++ {
		if recs[sorted[j-1]].ID == recs[sorted[j]].ID {
			return nil, fmt.Errorf("%w: %q (records %d and %d)", ErrDuplicateID, recs[sorted[j]].ID, sorted[j-1], sorted[j])
		}
	}
	var blobLen int
	for i := range recs {
		blobLen += len(recs[i].ID)
	}
	b := make([]byte, 4*(n+1)+4*n, 4*(n+1)+4*n+blobLen)
	var off uint32
	for i := range recs {
		binary.LittleEndian.PutUint32(b[4*i:], off)
		off += uint32(len(recs[i].ID))
		b = append(b, recs[i].ID...)
	}
	binary.LittleEndian.PutUint32(b[4*n:], off)
	for j, i := range sorted {
		binary.LittleEndian.PutUint32(b[4*(n+1)+4*j:], i)
	}
	return b, nil
}

// encodeColdMeta builds the meta section of a cold segment: a table of blocks, then the
// blocks, each the zstd compression of (m+1) uint32 offsets followed by the metadata of m
// consecutive records.
func encodeColdMeta(recs []Record) ([]byte, error) {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false), // the section checksum already covers the blocks
		zstd.WithZeroFrames(true))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	defer enc.Close()

	type block struct{ first, rawLen, offset int }
	var blocks []block
	var data, raw []byte
	for start := 0; start < len(recs); {
		end, size := start, 4
		for end < len(recs) && end-start < metaBlockRecords && size < metaBlockTarget {
			size += 4 + len(recs[end].Meta)
			end++
		}
		if size > maxMetaBlockRaw {
			return nil, fmt.Errorf("%w: metadata of records %d to %d totals %d bytes, a cold block holds at most %d",
				ErrInvalidRecord, start, end-1, size, maxMetaBlockRaw)
		}
		m := end - start
		raw = slices.Grow(raw[:0], size)[:4*(m+1)]
		var off uint32
		for j := start; j < end; j++ {
			binary.LittleEndian.PutUint32(raw[4*(j-start):], off)
			off += uint32(len(recs[j].Meta))
		}
		binary.LittleEndian.PutUint32(raw[4*m:], off)
		for j := start; j < end; j++ {
			raw = append(raw, recs[j].Meta...)
		}
		blocks = append(blocks, block{first: start, rawLen: len(raw), offset: len(data)})
		data = enc.EncodeAll(raw, data)
		start = end
	}

	b := make([]byte, metaTableHeader+metaBlockEntry*len(blocks), metaTableHeader+metaBlockEntry*len(blocks)+len(data))
	binary.LittleEndian.PutUint32(b, uint32(len(blocks)))
	for j, bl := range blocks {
		e := b[metaTableHeader+metaBlockEntry*j:]
		binary.LittleEndian.PutUint32(e[0:], uint32(bl.first))
		binary.LittleEndian.PutUint32(e[4:], uint32(bl.rawLen))
		binary.LittleEndian.PutUint64(e[8:], uint64(bl.offset))
	}
	return append(b, data...), nil
}

// sectionWriter streams sections into the file, padding each to its planned offset and
// hashing its bytes.
type sectionWriter struct {
	w      *bufio.Writer
	digest *xxhash.Digest
	pos    uint64
	zeros  [sectionAlign]byte
}

func (sw *sectionWriter) raw(p []byte) error {
	n, err := sw.w.Write(p)
	sw.pos += uint64(n)
	return err
}

func (sw *sectionWriter) write(p []byte) error {
	sw.digest.Write(p)
	return sw.raw(p)
}

func (sw *sectionWriter) begin(ref sectionRef) error {
	if ref.offset < sw.pos || ref.offset-sw.pos > sectionAlign {
		return fmt.Errorf("section planned at %d, writer at %d", ref.offset, sw.pos)
	}
	sw.digest.Reset()
	return sw.raw(sw.zeros[:ref.offset-sw.pos])
}

func (sw *sectionWriter) end(s section, ref *sectionRef) error {
	if sw.pos != ref.end() {
		return fmt.Errorf("%s section is %d bytes, planned %d", s, sw.pos-ref.offset, ref.length)
	}
	ref.checksum = sw.digest.Sum64()
	return nil
}

func writeSegmentFile(f *os.File, kind Kind, dim int, recs []Record, ids, coldMeta []byte) error {
	n := len(recs)
	lengths := fixedLengths(kind, uint64(dim), uint64(n))
	lengths[secIDs] = uint64(len(ids))
	if kind == KindCold {
		lengths[secMeta] = uint64(len(coldMeta))
	} else {
		lengths[secMeta] = 8 * uint64(n+1)
		for i := range recs {
			lengths[secMeta] += uint64(len(recs[i].Meta))
		}
	}
	refs, _ := layout(lengths)
	hdr := header{version: segmentVersion, kind: kind, dim: uint32(dim), count: uint32(n), sections: refs}

	// Cold rows are quantised while the vectors section is written; their scales follow in
	// the next section.
	var scales []byte
	if kind == KindCold {
		scales = make([]byte, 4*n)
	}
	sw := &sectionWriter{w: bufio.NewWriterSize(f, 1<<20), digest: xxhash.New()}
	// The header goes in last, once the section checksums are known.
	if err := sw.raw(make([]byte, headerSize)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	sections := [numSections]func() error{
		secIDs: func() error { return sw.write(ids) },
		secMeta: func() error {
			if kind == KindCold {
				return sw.write(coldMeta)
			}
			return writeWarmMeta(sw, recs)
		},
		secVectors: func() error {
			if kind == KindCold {
				return writeColdVectors(sw, dim, recs, scales)
			}
			return writeWarmVectors(sw, dim, recs)
		},
		secScales: func() error { return sw.write(scales) },
		secNorms: func() error {
			b := make([]byte, 4*n)
			for i := range recs {
				if len(recs[i].Vector) > 0 {
					binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(recs[i].Norm))
				}
			}
			return sw.write(b)
		},
		secPresence: func() error {
			b := make([]byte, (n+7)/8)
			for i := range recs {
				if len(recs[i].Vector) > 0 {
					b[i/8] |= 1 << (i % 8)
				}
			}
			return sw.write(b)
		},
	}
	for s := range numSections {
		if err := sw.begin(hdr.sections[s]); err != nil {
			return err
		}
		if err := sections[s](); err != nil {
			return fmt.Errorf("write %s section: %w", s, err)
		}
		if err := sw.end(s, &hdr.sections[s]); err != nil {
			return err
		}
	}
	if err := sw.w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := f.WriteAt(encodeHeader(hdr, xxhash.Sum64), 0); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	return nil
}

func writeWarmMeta(sw *sectionWriter, recs []Record) error {
	offsets := make([]byte, 8*(len(recs)+1))
	var off uint64
	for i := range recs {
		binary.LittleEndian.PutUint64(offsets[8*i:], off)
		off += uint64(len(recs[i].Meta))
	}
	binary.LittleEndian.PutUint64(offsets[8*len(recs):], off)
	if err := sw.write(offsets); err != nil {
		return err
	}
	for i := range recs {
		if err := sw.write(recs[i].Meta); err != nil {
			return err
		}
	}
	return nil
}

func writeWarmVectors(sw *sectionWriter, dim int, recs []Record) error {
	row := make([]byte, 4*dim)
	for i := range recs {
		if len(recs[i].Vector) == 0 {
			clear(row)
		} else {
			for j, x := range recs[i].Vector {
				binary.LittleEndian.PutUint32(row[4*j:], math.Float32bits(x))
			}
		}
		if err := sw.write(row); err != nil {
			return err
		}
	}
	return nil
}

// writeColdVectors writes each row's int8 codes and puts its scale in scales.
func writeColdVectors(sw *sectionWriter, dim int, recs []Record, scales []byte) error {
	if dim == 0 {
		return nil
	}
	codes := make([]int8, dim)
	row := unsafe.Slice((*byte)(unsafe.Pointer(&codes[0])), dim)
	for i := range recs {
		var scale float32
		if len(recs[i].Vector) == 0 {
			clear(codes)
		} else {
			scale = simd.Quantize(recs[i].Vector, codes)
		}
		binary.LittleEndian.PutUint32(scales[4*i:], math.Float32bits(scale))
		if err := sw.write(row); err != nil {
			return err
		}
	}
	return nil
}
