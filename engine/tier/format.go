package tier

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// The segment layout is specified byte by byte in docs/formats/segment.md.

const (
	segmentMagic   = "ENGRMSEG"
	segmentVersion = 1

	headerSize = 256
	// Offsets inside the header.
	hdrMagic    = 0
	hdrVersion  = 8
	hdrKind     = 10
	hdrReserved = 11
	hdrDim      = 12
	hdrCount    = 16
	hdrSections = 32 // section table: numSections entries of sectionEntrySize bytes
	hdrChecksum = headerSize - 8

	sectionEntrySize = 24 // offset, length, checksum: three uint64

	// sectionAlign is the alignment of every section's first byte. 64 bytes is a cache line
	// and the widest vector load, and it makes the float32 sections naturally aligned.
	sectionAlign = 64

	// MaxDim is the largest vector dimension a segment can hold.
	MaxDim = 1 << 16
	// MaxRecords is the largest number of records in one segment.
	MaxRecords = math.MaxUint32

	// Cold metadata is compressed in blocks of consecutive records. A block closes after
	// metaBlockRecords records or once its uncompressed size reaches metaBlockTarget, so that
	// reading one record's metadata decompresses a bounded amount of data.
	metaBlockRecords = 64
	metaBlockTarget  = 64 << 10
	// maxMetaBlockRaw bounds the uncompressed size of one block, hence one record's metadata
	// in a cold segment.
	maxMetaBlockRaw = 1 << 30
	metaBlockEntry  = 16 // first record uint32, raw length uint32, data offset uint64
	metaTableHeader = 8  // block count uint32, reserved uint32
)

// section identifies one section of a segment; sections are laid out in this order.
type section int

const (
	secIDs section = iota
	secMeta
	secVectors
	secScales
	secNorms
	secPresence
	numSections
)

var sectionNames = [numSections]string{"ids", "meta", "vectors", "scales", "norms", "presence"}

func (s section) String() string { return sectionNames[s] }

// sectionRef locates a section in the file.
type sectionRef struct {
	offset, length, checksum uint64
}

func (r sectionRef) end() uint64 { return r.offset + r.length }

// header is the decoded fixed header of a segment.
type header struct {
	version  uint16
	kind     Kind
	dim      uint32
	count    uint32
	sections [numSections]sectionRef
}

func encodeHeader(h header, sum func([]byte) uint64) []byte {
	b := make([]byte, headerSize)
	copy(b[hdrMagic:], segmentMagic)
	binary.LittleEndian.PutUint16(b[hdrVersion:], h.version)
	b[hdrKind] = byte(h.kind)
	binary.LittleEndian.PutUint32(b[hdrDim:], h.dim)
	binary.LittleEndian.PutUint32(b[hdrCount:], h.count)
	for i, s := range h.sections {
		e := b[hdrSections+i*sectionEntrySize:]
		binary.LittleEndian.PutUint64(e[0:], s.offset)
		binary.LittleEndian.PutUint64(e[8:], s.length)
		binary.LittleEndian.PutUint64(e[16:], s.checksum)
	}
	binary.LittleEndian.PutUint64(b[hdrChecksum:], sum(b[:hdrChecksum]))
	return b
}

// decodeHeader reads the fields of a header whose magic and checksum were already checked.
func decodeHeader(b []byte) header {
	var h header
	h.version = binary.LittleEndian.Uint16(b[hdrVersion:])
	h.kind = Kind(b[hdrKind])
	h.dim = binary.LittleEndian.Uint32(b[hdrDim:])
	h.count = binary.LittleEndian.Uint32(b[hdrCount:])
	for i := range h.sections {
		e := b[hdrSections+i*sectionEntrySize:]
		h.sections[i] = sectionRef{
			offset:   binary.LittleEndian.Uint64(e[0:]),
			length:   binary.LittleEndian.Uint64(e[8:]),
			checksum: binary.LittleEndian.Uint64(e[16:]),
		}
	}
	return h
}

func alignUp(n uint64) uint64 { return (n + sectionAlign - 1) &^ (sectionAlign - 1) }

// layout places sections of the given lengths one after another, each at the next
// 64-byte boundary after the header or the previous section, and returns the file size.
func layout(lengths [numSections]uint64) (refs [numSections]sectionRef, size uint64) {
	end := uint64(headerSize)
	for i, n := range lengths {
		refs[i] = sectionRef{offset: alignUp(end), length: n}
		end = refs[i].end()
	}
	return refs, end
}

// fixedLengths returns the lengths of the sections whose size follows from the record
// count, the dimension and the kind alone; the ids and meta entries are left zero.
func fixedLengths(kind Kind, dim, count uint64) [numSections]uint64 {
	var l [numSections]uint64
	switch kind {
	case KindWarm:
		l[secVectors] = count * dim * 4
	case KindCold:
		l[secVectors] = count * dim
		l[secScales] = count * 4
	}
	l[secNorms] = count * 4
	l[secPresence] = (count + 7) / 8
	return l
}

// hostLittleEndian reports whether this machine stores integers little endian, which is
// what reading float32 sections in place assumes.
func hostLittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}
