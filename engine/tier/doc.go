// Package tier stores the warm and cold tiers of a memory space on disk: immutable segment
// files that are memory-mapped and scanned in place, per-segment deletion bitmaps, the
// space's manifest and the checkpointed association edges. The byte layouts are specified
// in docs/formats/segment.md. It also frames the derived files of a checkpoint (the row
// graph, the lexical index and the HNSW graph, docs/formats/rowgraph.md, lexical.md and
// hnsw.md): structures the
// engine could rebuild from the memories, valid only for the checkpoint LSN, row count and
// id sum their header names.
//
// A segment holds, per memory, its id, an opaque metadata blob (the engine's encoding of
// every other field), its L2-normalised vector or none, and the vector's original norm.
// Warm segments (and hot snapshots, which use the warm format) keep float32 vectors in a
// 64-byte-aligned row-major block that Scan reads with simd.DotBatch without copying. Cold
// segments keep int8 codes with one float32 scale per row and zstd-compress the metadata
// in blocks of up to 64 records (fewer once a block's metadata reaches 64 KiB), so reading
// one record's metadata decompresses one small block.
//
// Invariants:
//
//   - Every file is written once, to <path>.tmp, fsynced, renamed into place and its folder
//     fsynced. A path holds either nothing, the previous file or the complete new one.
//     Segments are never modified after the rename; deletions go to a separate bitmap.
//   - OpenSegment checks the header checksum, every section's xxHash64, the zero padding and
//     the structure of the id index and metadata offsets before returning, so an accessor
//     on an index in [0, Len()) never reads outside the mapping. Damage is reported as a
//     *CorruptError (wrapping ErrCorrupt) naming the section; nothing panics on bad bytes.
//   - Cold metadata blocks are decompressed on demand. Their compressed bytes are covered by
//     the section checksum; Verify decompresses them all for offline checks.
//   - Float32 sections are read in place through unsafe.Slice over the mapping. They are
//     stored little endian and start on 64-byte boundaries of a page-aligned mapping, so on
//     a little-endian host the view is exact and aligned. OpenSegment refuses to run on a
//     big-endian host (ErrByteOrder) rather than misread; WriteSegment works anywhere.
//   - Ids within a segment are non-empty and unique, and the id index is sorted by the ids'
//     bytes, so Lookup is a binary search.
//   - A Segment is safe for concurrent readers. Close unmaps the file: it must wait until no
//     reader uses the segment, and values returned before (ids, metadata, hits) stay valid.
//   - A Bitmap is safe for concurrent Set, Has and Count.
package tier
