package spacecost

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
)

// ErrNoProc is returned where /proc/self is not available (not Linux).
var ErrNoProc = errors.New("spacecost: /proc/self is not available")

// Sample is the process's footprint at one instant.
type Sample struct {
	RSSKiB    int64  // VmRSS of /proc/self/status
	HeapInuse uint64 // bytes in in-use heap spans (runtime.MemStats)
	OpenFiles int    // entries of /proc/self/fd
}

// TakeSample collects garbage, returns freed memory to the OS and reads the footprint.
func TakeSample() (Sample, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := rssKiB()
	if err != nil {
		return Sample{}, err
	}
	fds, err := openFiles()
	if err != nil {
		return Sample{}, err
	}
	return Sample{RSSKiB: rss, HeapInuse: ms.HeapInuse, OpenFiles: fds}, nil
}

// openFiles counts the process's open file descriptors.
func openFiles() (int, error) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoProc, err)
	}
	return len(fds), nil
}

func rssKiB() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoProc, err)
	}
	return parseVmRSS(b)
}

// parseVmRSS reads the "VmRSS:   1234 kB" line of a /proc/<pid>/status file.
func parseVmRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("spacecost: unexpected VmRSS line %q", sc.Text())
		}
		return strconv.ParseInt(string(f[0]), 10, 64)
	}
	return 0, errors.New("spacecost: no VmRSS line in /proc/self/status")
}

// diskUsage sums the sizes of the regular files under root and counts the files and
// folders (inodes), root included.
func diskUsage(root string) (bytes int64, files, dirs int, err error) {
	err = filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			dirs++
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			files++
			bytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("size of %s: %w", root, err)
	}
	return bytes, files, dirs, nil
}
