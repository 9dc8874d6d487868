package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/engram-go/engram/engine/wal"
	"github.com/engram-go/engram/internal/durable"
)

// A space folder appears and disappears in one rename, so that a crash never leaves part
// of a space behind (docs/operations.md, "Creating and deleting spaces"):
//
//   - create: the folder is built as <root>/.creating-<id>-<random> (tier folders and
//     space.json, fsynced), then renamed to <root>/<id> and the root fsynced;
//   - delete: <root>/<id> is renamed to <root>/.deleted-<id>-<n> and the root fsynced (the
//     delete is now durable), then the tombstone is removed.
//
// Neither temporary name is a valid space id (ids never start with '.'), so discovery never
// takes one for a space; Open removes both kinds, finishing interrupted deletes.
const (
	metaFile        = "space.json"
	creatingPrefix  = ".creating-"
	tombstonePrefix = ".deleted-"
)

// spaceFolders are the sub-folders of every space folder.
var spaceFolders = [...]string{"wal", "hot", "warm", "cold"}

// spaceMeta is the small metadata file of a space folder.
type spaceMeta struct {
	ID        string        `json:"id"`
	CreatedAt time.Time     `json:"created_at"`
	Settings  SpaceSettings `json:"settings"`
}

// createSpaceFolder makes <root>/<id> with its sub-folders and metadata file, all at once
// (see above). A folder of that name that is not a space (isLeftover) is replaced; any
// other is an error.
func (e *Engine) createSpaceFolder(id string, settings SpaceSettings) error {
	root := e.cfg.DataRoot
	dir := filepath.Join(root, id)
	if _, err := os.Lstat(dir); err == nil {
		if !isLeftover(dir) {
			return fmt.Errorf("engine: create space %q: %s exists and is not a memory space", id, dir)
		}
		if err := durable.RemoveAll(dir); err != nil {
			return fmt.Errorf("engine: create space %q: %w", id, err)
		}
	}
	tmp, err := os.MkdirTemp(root, creatingPrefix+id+"-")
	if err != nil {
		return fmt.Errorf("engine: create space %q: %w", id, err)
	}
	if err := buildSpaceFolder(tmp, spaceMeta{ID: id, CreatedAt: e.cfg.Now().UTC(), Settings: settings}); err != nil {
		// Nothing was published: the half-built folder goes, and Open would remove it too.
		os.RemoveAll(tmp)
		return fmt.Errorf("engine: create space %q: %w", id, err)
	}
	if err := durable.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(tmp); serr == nil {
			os.RemoveAll(tmp)
		}
		return fmt.Errorf("engine: create space %q: %w", id, err)
	}
	return nil
}

// buildSpaceFolder fills the temporary folder tmp; durable.WriteFile's folder fsync
// makes the sub-folders' entries durable with the metadata file.
func buildSpaceFolder(tmp string, meta spaceMeta) error {
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it private
		return err
	}
	for _, sub := range spaceFolders {
		if err := os.Mkdir(filepath.Join(tmp, sub), 0o755); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return durable.WriteFileBytes(filepath.Join(tmp, metaFile), b, 0o644)
}

// removeSpaceFolder deletes a retired space's folder: after the rename to a tombstone the
// delete is durable, so a failure to remove the tombstone is only logged (Open finishes
// it). If the rename itself fails, the folder is whole and the error is returned.
func (e *Engine) removeSpaceFolder(s *Space) error {
	tomb := filepath.Join(e.cfg.DataRoot, tombstonePrefix+s.id+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := durable.Rename(s.dir, tomb); err != nil {
		if _, serr := os.Stat(s.dir); serr == nil {
			return fmt.Errorf("engine: delete space %q: %w", s.id, err)
		}
		// Renamed, but the root's fsync failed: the delete may not survive a crash; the
		// space then comes back whole, which the caller learns from the error.
		e.cfg.Logger.Warn("space deleted but not yet durably", "space", s.id, "err", err)
	}
	// The tombstone's removal need not be durable: should it be undone by a crash, the
	// next start removes the tombstone again. So no fsync of the root here.
	if err := os.RemoveAll(tomb); err != nil {
		e.cfg.Logger.Warn("removing a deleted space's files; the next start finishes it", "space", s.id, "err", err)
	}
	return nil
}

// tidyRoot removes what interrupted creates and deletes left in the data root: temporary
// folders of creates, tombstones of deletes, and space folders that a create of an older
// version left without a metadata file (isLeftover).
func tidyRoot(root string, log func(msg string, args ...any)) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("engine: read data root: %w", err)
	}
	for _, de := range ents {
		name := de.Name()
		path := filepath.Join(root, name)
		var what string
		switch {
		case !de.IsDir():
			continue
		case strings.HasPrefix(name, tombstonePrefix):
			what = "finished an interrupted space delete"
		case strings.HasPrefix(name, creatingPrefix):
			what = "removed an interrupted space create"
		case validFolderName(name) && isLeftover(path):
			what = "removed a space folder whose create never completed"
		default:
			continue
		}
		if err := durable.RemoveAll(path); err != nil {
			return fmt.Errorf("engine: tidy data root: %w", err)
		}
		log(what, "folder", name)
	}
	return nil
}

// discover lists the space folders of root: valid space ids holding a metadata file, or,
// without one, a WAL with at least one segment (a folder copied by hand or by an older
// version). A folder holding neither is no space, whatever its name.
func discover(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("engine: read data root: %w", err)
	}
	var ids []string
	for _, de := range ents {
		if !de.IsDir() || !validFolderName(de.Name()) {
			continue
		}
		dir := filepath.Join(root, de.Name())
		if fileExists(filepath.Join(dir, metaFile)) || wal.HasSegments(filepath.Join(dir, "wal")) {
			ids = append(ids, de.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func validFolderName(name string) bool {
	id, err := NormalizeSpaceID(name)
	return err == nil && id == name
}

// isLeftover reports whether dir is what an interrupted create of an older version left:
// nothing but the tier sub-folders, all empty, and perhaps a temporary metadata file.
func isLeftover(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		return false // an empty folder may be anyone's; it is no space either way
	}
	for _, de := range ents {
		switch name := de.Name(); {
		case name == metaFile+durable.TempSuffix && de.Type().IsRegular():
		case de.IsDir() && isSpaceFolder(name):
			if sub, err := os.ReadDir(filepath.Join(dir, name)); err != nil || len(sub) > 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isSpaceFolder(name string) bool {
	for _, s := range spaceFolders {
		if s == name {
			return true
		}
	}
	return false
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// readSpaceMeta reads a space folder's metadata file; a folder without one (discover)
// gets the folder's modification time as its creation time.
func readSpaceMeta(id, dir string) (spaceMeta, error) {
	meta := spaceMeta{ID: id}
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &meta); err != nil {
			return meta, fmt.Errorf("engine: space %q metadata: %w", id, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if st, err := os.Stat(dir); err == nil {
			meta.CreatedAt = st.ModTime().UTC()
		}
	default:
		return meta, fmt.Errorf("engine: space %q metadata: %w", id, err)
	}
	return meta, nil
}
