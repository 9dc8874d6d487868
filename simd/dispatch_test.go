package simd

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestChoosePath(t *testing.T) {
	all := []string{pathGeneric, pathAVX2, pathAVX512}
	tests := []struct {
		requested string
		available []string
		want      string
	}{
		{"", all, pathAVX512},
		{"generic", all, pathGeneric},
		{"avx2", all, pathAVX2},
		{"avx512", all, pathAVX512},
		{"avx512", []string{pathGeneric, pathAVX2}, pathAVX2},
		{"avx2", []string{pathGeneric}, pathGeneric},
		{"sse9", all, pathAVX512},
		{"AVX2", all, pathAVX512},
		{"", []string{pathGeneric}, pathGeneric},
	}
	for _, tt := range tests {
		if got := choosePath(tt.requested, tt.available); got != tt.want {
			t.Errorf("choosePath(%q, %v) = %q, want %q", tt.requested, tt.available, got, tt.want)
		}
	}
}

func TestKernelsFor(t *testing.T) {
	avail := Available()
	if avail[0] != pathGeneric {
		t.Fatalf("Available() = %v, want generic first", avail)
	}
	for _, p := range []string{pathGeneric, pathAVX2, pathAVX512, "neon", ""} {
		k, ok := kernelsFor(p)
		if ok != slices.Contains(avail, p) {
			t.Errorf("kernelsFor(%q) ok = %v, Available() = %v", p, ok, avail)
		}
		if ok && k.path != p {
			t.Errorf("kernelsFor(%q).path = %q", p, k.path)
		}
	}
}

// TestAvailableIsACopy guards the package's read-only state against callers.
func TestAvailableIsACopy(t *testing.T) {
	Available()[0] = "mutated"
	if Available()[0] != pathGeneric {
		t.Fatal("Available returned shared state")
	}
}

// TestEnvOverride starts the test binary again with ENGRAM_SIMD set, since the variable
// is read only by init, and checks the path the new process chose.
func TestEnvOverride(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	widest := Available()[len(Available())-1]
	tests := []struct{ env, want string }{
		{"", widest},
		{"no-such-path", widest},
	}
	for _, p := range Available() {
		tests = append(tests, struct{ env, want string }{p, p})
	}
	for _, tt := range tests {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPrintPath$", "-test.count=1")
		cmd.Env = append(os.Environ(), envPath+"="+tt.env, printPathEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s=%q: %v\n%s", envPath, tt.env, err, out)
		}
		if !strings.Contains(string(out), "path="+tt.want+"\n") {
			t.Errorf("%s=%q: want path %q, child printed:\n%s", envPath, tt.env, tt.want, out)
		}
	}
}

const printPathEnv = "SIMD_TEST_PRINT_PATH"

// TestPrintPath reports the chosen path for TestEnvOverride; it does nothing in a
// normal run.
func TestPrintPath(t *testing.T) {
	if os.Getenv(printPathEnv) != "1" {
		t.Skip("helper for TestEnvOverride")
	}
	fmt.Printf("path=%s\n", Path())
}
