package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/transfer"
	"github.com/engram-go/engram/internal/durable"
)

// A backup file (docs/backup-and-merge.md) is three parts:
//
//	header   backupHeaderSize bytes: one JSON object padded with spaces, then "\n"
//	body     one zstd stream of the space's export (the transfer format of engine/transfer, NDJSON)
//	trailer  backupTrailerSize bytes: one JSON object padded with spaces, then "\n"
//
// Header and trailer have fixed sizes so that the body's extent is known without
// decompressing, and so that the header's count can be filled in once the export is
// done. Both must be exactly their canonical encoding; the trailer holds the xxhash64 of
// the header and of the uncompressed body, and both hold the memory count.
const (
	backupFormat        = "engram-space-backup"
	backupTrailerFormat = "engram-space-backup-trailer"
	backupVersion       = 1
	backupHeaderSize    = 1024
	backupTrailerSize   = 256
	backupCompression   = "zstd"
)

// errBackupDamaged marks a backup file that fails any check; nothing is restored from it.
var errBackupDamaged = errors.New("engram: backup file is damaged")

type backupHeader struct {
	Format        string `json:"format"`
	Version       int    `json:"version"`
	Space         string `json:"space"`
	Dimension     int    `json:"dimension"`
	Count         int64  `json:"count"`
	CreatedAt     string `json:"created_at"`
	Compression   string `json:"compression"`
	EngramVersion string `json:"engram_version"`
}

type backupTrailer struct {
	Format       string `json:"format"`
	Count        int64  `json:"count"`
	NDJSONBytes  int64  `json:"ndjson_bytes"`
	NDJSONXXHash string `json:"ndjson_xxhash64"`
	ZstdBytes    int64  `json:"zstd_bytes"`
	HeaderXXHash string `json:"header_xxhash64"`
}

// paddedJSON encodes v as one JSON object padded with spaces to size bytes, "\n" last.
func paddedJSON(v any, size int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b) > size-1 {
		return nil, fmt.Errorf("engram: backup %T is %d bytes, more than its %d-byte slot", v, len(b), size-1)
	}
	out := make([]byte, size)
	copy(out, b)
	for i := len(b); i < size-1; i++ {
		out[i] = ' '
	}
	out[size-1] = '\n'
	return out, nil
}

// parsePadded decodes a fixed-size slot and requires it to be exactly the canonical
// encoding of what it decodes to, so that no byte of it can change unnoticed.
func parsePadded(slot []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(slot))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: the %s does not decode: %v", errBackupDamaged, what, err)
	}
	canon, err := paddedJSON(v, len(slot))
	if err != nil || !bytes.Equal(canon, slot) {
		return fmt.Errorf("%w: the %s is not in its canonical form (a changed byte)", errBackupDamaged, what)
	}
	return nil
}

func hex64(x uint64) string { return fmt.Sprintf("%016x", x) }

// backupWriter writes a backup to <path>.tmp; commit completes, checks and renames it.
type backupWriter struct {
	path, tmp string
	f         *os.File
	hdr       backupHeader
	body      *countingWriter // compressed bytes on their way to f
	zw        *zstd.Encoder
	hash      *xxhash.Digest // of the uncompressed NDJSON
	ndjson    int64
	count     int64
}

// countingWriter counts what passes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// createBackup starts a backup file of hdr's space. The header slot is written now with
// a zero count and rewritten by commit.
func createBackup(path string, hdr backupHeader) (*backupWriter, error) {
	hdr.Format, hdr.Version, hdr.Compression = backupFormat, backupVersion, backupCompression
	slot, err := paddedJSON(hdr, backupHeaderSize)
	if err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("engram: create backup file: %w", err)
	}
	w := &backupWriter{path: path, tmp: tmp, f: f, hdr: hdr, hash: xxhash.New()}
	if _, err := f.Write(slot); err != nil {
		w.abort()
		return nil, fmt.Errorf("engram: write backup header: %w", err)
	}
	w.body = &countingWriter{w: bufio.NewWriterSize(f, 256<<10)}
	w.zw, err = zstd.NewWriter(w.body, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true))
	if err != nil {
		w.abort()
		return nil, fmt.Errorf("engram: start compression: %w", err)
	}
	return w, nil
}

// Write takes NDJSON in the transfer format, whole lines or not.
func (w *backupWriter) Write(p []byte) (int, error) {
	w.hash.Write(p)
	w.ndjson += int64(len(p))
	w.count += int64(bytes.Count(p, []byte{'\n'}))
	return w.zw.Write(p)
}

// commit ends the body, writes the trailer and the final header, syncs, verifies the
// whole file as restore would, and only then renames it into place.
func (w *backupWriter) commit() (backupHeader, backupTrailer, error) {
	fail := func(err error) (backupHeader, backupTrailer, error) {
		w.abort()
		return backupHeader{}, backupTrailer{}, err
	}
	if err := w.zw.Close(); err != nil {
		return fail(fmt.Errorf("engram: finish compression: %w", err))
	}
	if err := w.body.w.(*bufio.Writer).Flush(); err != nil {
		return fail(fmt.Errorf("engram: write backup body: %w", err))
	}
	w.hdr.Count = w.count
	hdrSlot, err := paddedJSON(w.hdr, backupHeaderSize)
	if err != nil {
		return fail(err)
	}
	tr := backupTrailer{
		Format: backupTrailerFormat, Count: w.count, NDJSONBytes: w.ndjson, NDJSONXXHash: hex64(w.hash.Sum64()),
		ZstdBytes: w.body.n, HeaderXXHash: hex64(xxhash.Sum64(hdrSlot)),
	}
	trSlot, err := paddedJSON(tr, backupTrailerSize)
	if err != nil {
		return fail(err)
	}
	if _, err := w.f.Write(trSlot); err != nil {
		return fail(fmt.Errorf("engram: write backup trailer: %w", err))
	}
	if _, err := w.f.WriteAt(hdrSlot, 0); err != nil {
		return fail(fmt.Errorf("engram: write backup header: %w", err))
	}
	if err := w.f.Sync(); err != nil {
		return fail(fmt.Errorf("engram: sync backup file: %w", err))
	}
	if err := w.f.Close(); err != nil {
		return fail(fmt.Errorf("engram: close backup file: %w", err))
	}
	w.f = nil
	b, err := openBackup(w.tmp)
	if err == nil {
		err = b.verify(nil)
		b.close()
	}
	if err != nil {
		return fail(fmt.Errorf("engram: the backup just written does not read back: %w", err))
	}
	if err := durable.Rename(w.tmp, w.path); err != nil {
		return fail(fmt.Errorf("engram: move backup into place: %w", err))
	}
	return w.hdr, tr, nil
}

// abort closes and removes the temporary file.
func (w *backupWriter) abort() {
	if w.zw != nil {
		w.zw.Close()
	}
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	os.Remove(w.tmp)
}

// backupFile is an opened backup whose header and trailer passed their checks.
type backupFile struct {
	path    string
	f       *os.File
	size    int64
	header  backupHeader
	trailer backupTrailer
}

// openBackup reads and checks the header and the trailer: formats, canonical encoding,
// the header checksum, the counts and the file size. The body is checked by verify.
func openBackup(path string) (*backupFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("engram: open backup: %w", err)
	}
	b := &backupFile{path: path, f: f}
	if err := b.check(); err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

func (b *backupFile) check() error {
	st, err := b.f.Stat()
	if err != nil {
		return fmt.Errorf("engram: stat backup: %w", err)
	}
	b.size = st.Size()
	if b.size < backupHeaderSize+backupTrailerSize {
		return fmt.Errorf("%w: %d bytes is too short for a backup (header and trailer alone are %d)", errBackupDamaged, b.size, backupHeaderSize+backupTrailerSize)
	}
	hdrSlot := make([]byte, backupHeaderSize)
	if _, err := b.f.ReadAt(hdrSlot, 0); err != nil {
		return fmt.Errorf("engram: read backup header: %w", err)
	}
	if !bytes.HasPrefix(hdrSlot, []byte(`{"format":"`+backupFormat+`"`)) {
		return fmt.Errorf("%w: this is not an Engram space backup (no %q header)", errBackupDamaged, backupFormat)
	}
	if err := parsePadded(hdrSlot, &b.header, "header"); err != nil {
		return err
	}
	if b.header.Version != backupVersion || b.header.Compression != backupCompression {
		return fmt.Errorf("engram: backup format version %d with %q compression is not supported (this engram reads version %d, %s)",
			b.header.Version, b.header.Compression, backupVersion, backupCompression)
	}
	trSlot := make([]byte, backupTrailerSize)
	if _, err := b.f.ReadAt(trSlot, b.size-backupTrailerSize); err != nil {
		return fmt.Errorf("engram: read backup trailer: %w", err)
	}
	if err := parsePadded(trSlot, &b.trailer, "trailer (is the file cut short?)"); err != nil {
		return err
	}
	t := &b.trailer
	switch {
	case t.Format != backupTrailerFormat:
		return fmt.Errorf("%w: the trailer format is %q, want %q", errBackupDamaged, t.Format, backupTrailerFormat)
	case t.HeaderXXHash != hex64(xxhash.Sum64(hdrSlot)):
		return fmt.Errorf("%w: the header checksum does not match (header changed)", errBackupDamaged)
	case t.Count != b.header.Count:
		return fmt.Errorf("%w: the header counts %d memories, the trailer %d", errBackupDamaged, b.header.Count, t.Count)
	case backupHeaderSize+t.ZstdBytes+backupTrailerSize != b.size:
		return fmt.Errorf("%w: the file is %d bytes, its trailer says %d", errBackupDamaged, b.size, backupHeaderSize+t.ZstdBytes+backupTrailerSize)
	}
	if _, err := engine.NormalizeSpaceID(b.header.Space); err != nil {
		return fmt.Errorf("%w: the header names space %q: %v", errBackupDamaged, b.header.Space, err)
	}
	return nil
}

func (b *backupFile) close() error { return b.f.Close() }

// bodyReader is the uncompressed NDJSON of a backup, hashed and counted as it is read.
type bodyReader struct {
	dec   *zstd.Decoder
	hash  *xxhash.Digest
	bytes int64
	lines int64
}

func (r *bodyReader) Read(p []byte) (int, error) {
	n, err := r.dec.Read(p)
	r.hash.Write(p[:n])
	r.bytes += int64(n)
	r.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: the compressed body does not decode: %v", errBackupDamaged, err)
	}
	return n, err
}

func (r *bodyReader) close() { r.dec.Close() }

// matches compares what was read with the trailer; call it at EOF.
func (r *bodyReader) matches(t *backupTrailer) error {
	switch {
	case r.bytes != t.NDJSONBytes:
		return fmt.Errorf("%w: the body holds %d bytes of NDJSON, the trailer says %d", errBackupDamaged, r.bytes, t.NDJSONBytes)
	case hex64(r.hash.Sum64()) != t.NDJSONXXHash:
		return fmt.Errorf("%w: the body checksum is %s, the trailer says %s", errBackupDamaged, hex64(r.hash.Sum64()), t.NDJSONXXHash)
	case r.lines != t.Count:
		return fmt.Errorf("%w: the body holds %d memories, the trailer says %d", errBackupDamaged, r.lines, t.Count)
	}
	return nil
}

// body opens the NDJSON of the backup; read allows progress on the compressed bytes.
func (b *backupFile) body(read func(n int)) (*bodyReader, error) {
	var src io.Reader = io.NewSectionReader(b.f, backupHeaderSize, b.trailer.ZstdBytes)
	if read != nil {
		src = &progressReader{r: src, read: read}
	}
	dec, err := zstd.NewReader(bufio.NewReaderSize(src, 256<<10), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("engram: start decompression: %w", err)
	}
	return &bodyReader{dec: dec, hash: xxhash.New()}, nil
}

// progressReader reports how many bytes pass.
type progressReader struct {
	r    io.Reader
	read func(n int)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read(n)
	return n, err
}

// verify reads the whole body: it must decompress, match the trailer's checksum, size
// and count, and every line must be a memory the transfer format accepts, with a valid id
// and an embedding of the header's dimension. read reports compressed bytes.
func (b *backupFile) verify(read func(n int)) error {
	r, err := b.body(read)
	if err != nil {
		return err
	}
	defer r.close()
	br := bufio.NewReaderSize(r, 256<<10)
	var p fastjson.Parser
	for line := 1; ; line++ {
		text, err := br.ReadBytes('\n')
		if len(text) > 0 {
			if text[len(text)-1] != '\n' {
				return fmt.Errorf("%w: the body ends without a newline", errBackupDamaged)
			}
			m, perr := transfer.ParseLine(&p, text[:len(text)-1])
			if perr == nil {
				perr = engine.ValidateID(m.ID)
			}
			if perr == nil && m.Embedding != nil && b.header.Dimension > 0 && len(m.Embedding) != b.header.Dimension {
				perr = fmt.Errorf("the embedding has %d components, the space %d", len(m.Embedding), b.header.Dimension)
			}
			if perr != nil {
				return fmt.Errorf("%w: memory %d: %v", errBackupDamaged, line, perr)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
	}
	return r.matches(&b.trailer)
}

// describe is a one-line account of a backup, for messages.
func (b *backupFile) describe() string {
	return "backup of space '" + b.header.Space + "' taken " + formatTime(b.header.CreatedAt) + ", " +
		strconv.FormatInt(b.header.Count, 10) + " memories"
}
