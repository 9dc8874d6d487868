// Package durable makes changes to files and folders survive a crash: a file is replaced
// whole or not at all, and a creation, rename or removal is on disk once the call returns.
//
// Invariants:
//   - WriteFile writes <path>.tmp, fsyncs it, renames it over path and fsyncs the folder.
//     After a crash path holds its previous contents or the complete new ones, never a
//     prefix. A leftover <path>.tmp is an interrupted write and may be deleted.
//   - WriteFile removes its temporary file whenever it fails, whatever step failed; the
//     file at path is then unchanged.
//   - Rename, RemoveAll and MkdirAll fsync the parent folder(s) whose entries they changed
//     before they return.
//
// Error policy (one for every function): a failure is returned, wrapped with the
// operation and the path ("durable: sync folder /x: ..."), and never logged or dropped.
// The single exception is a folder fsync the platform does not support (the file system
// answers EINVAL or ENOTSUP, as some network and FUSE file systems do): there is no
// durability to wait for, so SyncDir reports success. A function that fails after its
// rename or removal took effect does not undo it (the change is atomic by itself); the
// error says the change may not be durable yet.
package durable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// TempSuffix is appended to a path to name the temporary file WriteFile writes first.
const TempSuffix = ".tmp"

// ops is the file-system seam. system is the real one; tests build their own with
// injected faults.
type ops struct {
	openFile  func(name string, flag int, perm fs.FileMode) (*os.File, error)
	syncFile  func(f *os.File) error
	rename    func(oldpath, newpath string) error
	remove    func(name string) error
	removeAll func(path string) error
	mkdir     func(name string, perm fs.FileMode) error
	syncDir   func(dir string) error
}

// system is the operating system's file system; it is never reassigned.
var system = ops{
	openFile:  os.OpenFile,
	syncFile:  (*os.File).Sync,
	rename:    os.Rename,
	remove:    os.Remove,
	removeAll: os.RemoveAll,
	mkdir:     os.Mkdir,
	syncDir:   fsyncDir,
}

// SyncDir fsyncs the folder dir, so that the creations, renames and removals of entries in
// it are durable.
func SyncDir(dir string) error { return system.SyncDir(dir) }

// WriteFile atomically replaces path with the bytes write produces (see the package
// invariants). write gets the temporary file, positioned at its start; the file is
// created with perm. A missing parent folder is created (MkdirAll, 0o755).
func WriteFile(path string, perm fs.FileMode, write func(f *os.File) error) error {
	return system.WriteFile(path, perm, write)
}

// WriteFileBytes is WriteFile for contents already in memory.
func WriteFileBytes(path string, b []byte, perm fs.FileMode) error {
	return system.WriteFile(path, perm, func(f *os.File) error {
		_, err := f.Write(b)
		return err
	})
}

// Rename renames oldpath to newpath and fsyncs the folders of both.
func Rename(oldpath, newpath string) error { return system.Rename(oldpath, newpath) }

// RemoveAll removes path and everything below it, then fsyncs its parent folder. A path
// that does not exist is not an error.
func RemoveAll(path string) error { return system.RemoveAll(path) }

// MkdirAll creates dir and any missing parents with perm, fsyncing the parent of each
// folder it created. An existing folder is left as it is.
func MkdirAll(dir string, perm fs.FileMode) error { return system.MkdirAll(dir, perm) }

func (o ops) SyncDir(dir string) error {
	if err := o.syncDir(dir); err != nil {
		return fmt.Errorf("durable: sync folder %s: %w", dir, err)
	}
	return nil
}

func (o ops) WriteFile(path string, perm fs.FileMode, write func(f *os.File) error) (err error) {
	if err := o.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + TempSuffix
	f, err := o.openFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("durable: create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			// The temporary file is garbage whatever went wrong; its removal error adds nothing.
			f.Close()
			o.remove(tmp)
		}
	}()
	// A leftover temporary file keeps its old mode through O_TRUNC.
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("durable: chmod %s: %w", tmp, err)
	}
	if err := write(f); err != nil {
		return fmt.Errorf("durable: write %s: %w", tmp, err)
	}
	if err := o.syncFile(f); err != nil {
		return fmt.Errorf("durable: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("durable: close %s: %w", tmp, err)
	}
	if err := o.rename(tmp, path); err != nil {
		return fmt.Errorf("durable: rename %s: %w", tmp, err)
	}
	return o.SyncDir(filepath.Dir(path))
}

func (o ops) Rename(oldpath, newpath string) error {
	if err := o.rename(oldpath, newpath); err != nil {
		return fmt.Errorf("durable: rename %s: %w", oldpath, err)
	}
	from, to := filepath.Dir(oldpath), filepath.Dir(newpath)
	if from != to {
		if err := o.SyncDir(from); err != nil {
			return err
		}
	}
	return o.SyncDir(to)
}

func (o ops) RemoveAll(path string) error {
	if err := o.removeAll(path); err != nil {
		return fmt.Errorf("durable: remove %s: %w", path, err)
	}
	return o.SyncDir(filepath.Dir(path))
}

func (o ops) MkdirAll(dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("durable: create folder %s: %w", dir, syscall.ENOTDIR)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := o.MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	if err := o.mkdir(dir, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("durable: create folder %s: %w", dir, err)
	}
	return o.SyncDir(parent)
}

// fsyncDir opens and fsyncs a folder. A file system that cannot fsync folders answers
// EINVAL or ENOTSUP; that is success (see the package's error policy).
func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	return errors.Join(err, d.Close())
}
