package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/engram-go/engram/engine/wal"
)

// TestDiskFaultStaysInItsSpace fails one durable space's log with a real write error while
// other durable spaces write through the same commit coordinator: only that space's
// writers get ErrStorage (the API's 500 "system" error, frontend/errors.go), the others
// are acknowledged and keep only their own memories, and once the cause is gone the
// failed space recovers from disk with everything it acknowledged.
//
// The error is EFBIG from a file size limit (RLIMIT_FSIZE) set just above the size of the
// victim's segment, which is far larger than any other file the test writes meanwhile; Go
// ignores the SIGXFSZ that comes with it. The limit is the process's, so the test does not
// run in parallel with others.
func TestDiskFaultStaysInItsSpace(t *testing.T) {
	root := t.TempDir()
	e := openTest(t, testConfig(t, root))
	defer e.Close()
	ctx := context.Background()
	remember := func(id, content string) (string, error) {
		res, err := mustSpace(t, e, id).Remember(ctx, Memory{Content: content, Confidence: 0.5}, RememberOptions{})
		return res.Memory.ID, err
	}
	victim, others := "victim", []string{"bystander-1", "bystander-2", "bystander-3"}
	acked := map[string][]string{}
	// The victim's segment grows well past every other file, but stays below the size
	// at which a log writes a zero runway ahead (its next writes must extend the file).
	filler := strings.Repeat("a long memory of the victim space ", 60)
	for i := range 80 {
		id, err := remember(victim, fmt.Sprintf("%d %s", i, filler))
		if err != nil {
			t.Fatal(err)
		}
		acked[victim] = append(acked[victim], id)
	}
	for _, sp := range others {
		id, err := remember(sp, sp+" before the fault")
		if err != nil {
			t.Fatal(err)
		}
		acked[sp] = append(acked[sp], id)
	}
	segment := largestFile(t, filepath.Join(root, victim, "wal"))
	if segment.size < 64<<10 {
		t.Fatalf("victim's segment holds %d bytes, want a clear margin over the other files", segment.size)
	}
	for _, sp := range others {
		if f := largestFile(t, filepath.Join(root, sp)); f.size*4 > segment.size {
			t.Fatalf("%s has a file of %d bytes, too close to the victim's %d", sp, f.size, segment.size)
		}
	}
	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
		t.Skip("no RLIMIT_FSIZE:", err)
	}
	limit := saved
	limit.Cur = uint64(segment.size) + 16
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Skip("cannot lower RLIMIT_FSIZE:", err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restore()

	var mu sync.Mutex
	var victimErrs int
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				sp := others[(w+i)%len(others)]
				content := fmt.Sprintf("%s note %d of writer %d", sp, i, w)
				if w%2 == 0 {
					sp, content = victim, fmt.Sprintf("%d/%d %s", w, i, filler)
				}
				id, err := remember(sp, content)
				mu.Lock()
				switch {
				case sp == victim && err != nil:
					if !errors.Is(err, ErrStorage) {
						t.Errorf("victim: %v, want ErrStorage", err)
					}
					victimErrs++
				case err != nil:
					t.Errorf("%s failed with the victim: %v", sp, err)
				default:
					acked[sp] = append(acked[sp], id)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if victimErrs == 0 {
		t.Fatal("no write to the victim failed under the size limit")
	}
	restore()
	vs := mustSpace(t, e, victim)
	vs.mu.RLock()
	cause, _ := vs.st.cause.Load().(error)
	vs.mu.RUnlock()
	if !errors.Is(cause, wal.ErrFailed) || !errors.Is(cause, syscall.EFBIG) {
		t.Fatalf("the victim's log failed with %v, want wal.ErrFailed wrapping EFBIG", cause)
	}

	// The victim recovers from disk by itself once the cause is gone (after the backoff).
	var after string
	for {
		id, err := remember(victim, "after the fault")
		if err == nil {
			after = id
			break
		}
		if !errors.Is(err, ErrStorage) {
			t.Fatalf("victim after the fault: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	acked[victim] = append(acked[victim], after)
	for sp, ids := range acked {
		s := mustSpace(t, e, sp)
		for _, id := range ids {
			if _, err := s.Get(id); err != nil {
				t.Errorf("%s: acknowledged %s: %v", sp, id, err)
			}
		}
		other := mustSpace(t, e, others[0])
		if sp == others[0] {
			other = mustSpace(t, e, victim)
		}
		for _, id := range ids {
			if _, err := other.Get(id); err == nil {
				t.Errorf("%s of %s visible from %s", id, sp, other.id)
			}
		}
	}
}

// sizedFile is a file and its size.
type sizedFile struct {
	path string
	size int64
}

// largestFile returns the largest regular file under dir.
func largestFile(t *testing.T, dir string) sizedFile {
	t.Helper()
	var best sizedFile
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Size() > best.size {
			best = sizedFile{path, fi.Size()}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return best
}
