package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/engram-go/engram/engine"
	"github.com/engram-go/engram/engine/transfer"
)

// writeBackup writes a backup of the given NDJSON lines with the backup writer.
func writeBackup(t *testing.T, path, space string, lines ...string) {
	t.Helper()
	w, err := createBackup(path, backupHeader{Space: space, Dimension: transferDim, CreatedAt: "2026-01-02T03:04:05.123456789Z", EngramVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if _, err := io.WriteString(w, l+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.commit(); err != nil {
		t.Fatal(err)
	}
}

// TestBackupFileLayout checks the documented layout byte by byte: a padded JSON header,
// a plain zstd stream of the export, a padded JSON trailer whose checksums hold.
func TestBackupFileLayout(t *testing.T) {
	eng := openTransferEngine(t, t.TempDir())
	defer eng.Close()
	fillSpace(t, eng, "alpha", 50)
	addr := startHTTP(t, eng, 0)
	file := filepath.Join(t.TempDir(), "a.backup")
	newCLI(t).mustRun(t, "space", "backup", "alpha", "--out", file, "--addr", addr)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	hdrSlot, body, trSlot := raw[:backupHeaderSize], raw[backupHeaderSize:len(raw)-backupTrailerSize], raw[len(raw)-backupTrailerSize:]
	var hdr map[string]any
	if err := json.Unmarshal(hdrSlot, &hdr); err != nil || hdrSlot[backupHeaderSize-1] != '\n' {
		t.Fatalf("header %q: %v", hdrSlot, err)
	}
	if hdr["format"] != "engram-space-backup" || hdr["version"] != 1.0 || hdr["space"] != "alpha" || hdr["count"] != 50.0 ||
		hdr["dimension"] != float64(transferDim) || hdr["compression"] != "zstd" || hdr["created_at"] == "" {
		t.Fatalf("header %v", hdr)
	}
	var tr backupTrailer
	if err := json.Unmarshal(trSlot, &tr); err != nil || trSlot[backupTrailerSize-1] != '\n' {
		t.Fatalf("trailer %q: %v", trSlot, err)
	}
	dec, err := zstd.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	ndjson, err := io.ReadAll(dec)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Count != 50 || tr.ZstdBytes != int64(len(body)) || tr.NDJSONBytes != int64(len(ndjson)) ||
		tr.NDJSONXXHash != fmt.Sprintf("%016x", xxhash.Sum64(ndjson)) || tr.HeaderXXHash != fmt.Sprintf("%016x", xxhash.Sum64(hdrSlot)) {
		t.Fatalf("trailer %+v does not describe the file (%d body bytes, %d NDJSON bytes)", tr, len(body), len(ndjson))
	}
	// The body is exactly what the export route sends.
	resp, err := http.Get("http://" + addr + "/api/v1/spaces/alpha/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	exported, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(exported, ndjson) {
		t.Fatalf("the backup body differs from the export (%v)", err)
	}
}

func TestRestoreReportsRefusedMemories(t *testing.T) {
	eng := openTransferEngine(t, t.TempDir())
	defer eng.Close()
	addr := startHTTP(t, eng, 0)
	file := filepath.Join(t.TempDir(), "mixed.backup")
	writeBackup(t, file, "alpha",
		`{"id":"ok-1","content":"fine"}`,
		`{"id":"bad-1","content":"a tag too long","tags":["`+strings.Repeat("x", engine.MaxTagLen+1)+`"]}`,
		`{"id":"ok-2","content":"fine too"}`,
	)
	c := newCLI(t)
	code, out, errOut := c.run("space", "restore", file, "--as", "beta", "--addr", addr)
	if code != 1 || !strings.Contains(out, "Restored 2 of 3 memories") || !strings.Contains(errOut, "line 2 (bad-1): ") ||
		!strings.Contains(errOut, "tags[0]") || !strings.Contains(errOut, "1 memory was refused") {
		t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	sp, err := eng.Space("beta")
	if err != nil || sp.Stats().Memories != 2 {
		t.Fatalf("beta: %v", err)
	}
}

// rawBackup builds a backup file by the documented layout alone, without the writer
// (whose own read-back check would refuse bad lines).
func rawBackup(t *testing.T, path, space string, lines ...string) {
	t.Helper()
	ndjson := []byte(strings.Join(lines, "\n") + "\n")
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	body := enc.EncodeAll(ndjson, nil)
	enc.Close()
	pad := func(s string, n int) []byte { return []byte(s + strings.Repeat(" ", n-1-len(s)) + "\n") }
	hdr := pad(fmt.Sprintf(`{"format":"engram-space-backup","version":1,"space":%q,"dimension":%d,"count":%d,"created_at":"2026-01-02T03:04:05Z","compression":"zstd","engram_version":"test"}`,
		space, transferDim, len(lines)), backupHeaderSize)
	tr := pad(fmt.Sprintf(`{"format":"engram-space-backup-trailer","count":%d,"ndjson_bytes":%d,"ndjson_xxhash64":"%016x","zstd_bytes":%d,"header_xxhash64":"%016x"}`,
		len(lines), len(ndjson), xxhash.Sum64(ndjson), len(body), xxhash.Sum64(hdr)), backupTrailerSize)
	if err := os.WriteFile(path, append(append(hdr, body...), tr...), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRestoreRefusesLinesBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	rawBackup(t, good, "alpha", `{"id":"fine","content":"x"}`)
	b, err := openBackup(good)
	if err != nil {
		t.Fatalf("a file built by the documented layout does not open: %v", err)
	}
	if err := b.verify(nil); err != nil {
		t.Fatalf("a file built by the documented layout does not verify: %v", err)
	}
	b.close()
	for _, tc := range []struct {
		name, line, words string
	}{
		{"bad id", `{"id":"no spaces allowed","content":"x"}`, "id contains"},
		{"other dimension", `{"id":"a","content":"x","embedding":[1,2,3]}`, "3 components"},
		{"not the format", `{"id":"a","content":"x","colour":"red"}`, `unknown field "colour"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			rawBackup(t, file, "alpha", `{"id":"fine","content":"x"}`, tc.line)
			code, _, errOut := newCLI(t).run("space", "restore", file, "--data-root", root)
			if code == 0 || !strings.Contains(errOut, "memory 2: ") || !strings.Contains(errOut, tc.words) || !strings.Contains(errOut, "nothing was written") {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if entries, _ := os.ReadDir(root); len(entries) != 0 {
				t.Fatalf("the data root was touched: %v", entries)
			}
		})
	}
}

// fakeStore records import chunks and refuses those over a size, like a server's body
// limit; line n of the input is refused when it holds "bad".
type fakeStore struct {
	limit  int
	chunks []string
}

func (f *fakeStore) describe(context.Context, string) (spaceShape, error) { return spaceShape{}, nil }
func (f *fakeStore) create(context.Context, string, int) error            { return nil }
func (f *fakeStore) export(context.Context, string, io.Writer) error      { return nil }
func (f *fakeStore) where() string                                        { return "fake" }
func (f *fakeStore) close() error                                         { return nil }

func (f *fakeStore) importChunk(_ context.Context, _ string, chunk []byte) (transfer.Result, error) {
	if len(chunk) > f.limit {
		return transfer.Result{}, errChunkTooLarge
	}
	f.chunks = append(f.chunks, string(chunk))
	res := transfer.Result{}
	for i, line := range strings.Split(strings.TrimSuffix(string(chunk), "\n"), "\n") {
		if strings.Contains(line, "bad") {
			res.Failed++
			res.Errors = append(res.Errors, transfer.LineError{Line: i + 1, Error: "refused"})
		} else {
			res.Imported++
		}
	}
	return res, nil
}

func TestChunkImporterSplitsAndNumbersLines(t *testing.T) {
	var in strings.Builder
	for i := 1; i <= 40; i++ {
		word := "good"
		if i%9 == 0 {
			word = "bad"
		}
		fmt.Fprintf(&in, "%02d-%s-%s\n", i, word, strings.Repeat("x", 40)) // 49 bytes a line
	}
	for _, tc := range []struct {
		name            string
		limit, maxChunk int
	}{
		{"chunks fit", 1 << 20, 500},
		{"server limit below the chunk size", 300, 4096},
		{"one line per request", 49, 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{limit: tc.limit}
			seen := 0
			ci := chunkImporter{store: st, space: "s", maxChunk: tc.maxChunk, progress: func(n int) { seen += n }}
			if err := ci.run(context.Background(), strings.NewReader(in.String())); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(st.chunks, ""); got != in.String() {
				t.Fatalf("the chunks do not add up to the input:\n%s", got)
			}
			for _, c := range st.chunks {
				if len(c) > tc.limit || !strings.HasSuffix(c, "\n") {
					t.Fatalf("chunk of %d bytes (limit %d) or not whole lines: %q", len(c), tc.limit, c)
				}
			}
			if ci.totals.Imported != 36 || ci.totals.Failed != 4 || seen != 40 || ci.lines != 40 {
				t.Fatalf("totals %+v, progress %d, lines %d", ci.totals, seen, ci.lines)
			}
			for k, e := range ci.totals.Errors {
				if e.Line != 9*(k+1) {
					t.Fatalf("error %d on line %d, want %d", k, e.Line, 9*(k+1))
				}
			}
		})
	}
	st := &fakeStore{limit: 10}
	ci := chunkImporter{store: st, space: "s"}
	if err := ci.run(context.Background(), strings.NewReader(in.String())); err == nil || !strings.Contains(err.Error(), "line 1 alone") {
		t.Fatalf("a line over the limit: %v", err)
	}
}
