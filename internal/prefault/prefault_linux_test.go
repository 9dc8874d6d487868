//go:build linux

package prefault

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestPopulateBacksPages: fresh anonymous memory has no pages behind it until it is
// populated; afterwards every page Populate covered is resident and none outside it is.
func TestPopulateBacksPages(t *testing.T) {
	const pages = 64
	mem, err := unix.Mmap(-1, 0, pages*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { unix.Munmap(mem) }()
	resident := func() []bool {
		vec := make([]byte, pages)
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), uintptr(unsafe.Pointer(&vec[0])))
		if errno != 0 {
			t.Fatal(errno)
		}
		out := make([]bool, pages)
		for i, v := range vec {
			out[i] = v&1 == 1
		}
		return out
	}
	for i, r := range resident() {
		if r {
			t.Fatalf("page %d of fresh memory is already resident", i)
		}
	}
	if err := unix.Madvise(mem[:pageSize], unix.MADV_POPULATE_WRITE); err == unix.EINVAL {
		t.Skip("this kernel predates MADV_POPULATE_WRITE (Linux 5.14)")
	}
	if err := unix.Munmap(mem); err != nil {
		t.Fatal(err)
	}
	if mem, err = unix.Mmap(-1, 0, pages*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE); err != nil {
		t.Fatal(err)
	}
	// From the middle of page 3 to the middle of page 40: whole pages 4..39 get backed.
	Populate(mem[3*pageSize+100 : 40*pageSize+100])
	for i, r := range resident() {
		if want := i >= 4 && i < 40; r != want {
			t.Errorf("page %d resident = %v, want %v", i, r, want)
		}
	}
}
