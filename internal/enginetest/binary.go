package enginetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/engram-go/engram/internal/apicheck"
)

// MainWithBinary runs the tests of a package whose end-to-end tests start the engram binary
// and returns the exit code; flags must be parsed. Unless -short, it first builds pkgDir
// (cmd/engram, as a path from the test's folder) into a temporary folder and calls built
// with the binary's path or the build's error. When the tests are over it fails the run if
// v saw an HTTP exchange that does not match the OpenAPI document.
func MainWithBinary(m *testing.M, pkgDir string, v *apicheck.Validator, built func(path string, err error)) int {
	if !testing.Short() {
		dir, err := os.MkdirTemp("", "engram-bin")
		if err != nil {
			built("", err)
		} else {
			defer os.RemoveAll(dir)
			bin := filepath.Join(dir, "engram")
			if out, err := exec.Command(GoTool(), "build", "-o", bin, pkgDir).CombinedOutput(); err != nil {
				built("", fmt.Errorf("go build: %v\n%s", err, out))
			} else {
				built(bin, nil)
			}
		}
	}
	code := m.Run()
	if f := v.Failures(); len(f) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d HTTP exchanges do not match the OpenAPI document:\n  %s\n", len(f), strings.Join(f, "\n  "))
		code = 1
	}
	return code
}

// GoTool is the go command on PATH, else the one of GOROOT.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}
