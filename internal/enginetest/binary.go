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
		bin, cleanup, err := BuildBinary(pkgDir)
		defer cleanup()
		built(bin, err)
	}
	code := m.Run()
	if f := v.Failures(); len(f) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d HTTP exchanges do not match the OpenAPI document:\n  %s\n", len(f), strings.Join(f, "\n  "))
		code = 1
	}
	return code
}

// BuildBinary builds pkgDir (a path from the test's folder) into a temporary folder and
// returns the binary's path; cleanup removes the folder and is never nil.
func BuildBinary(pkgDir string) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "engram-bin")
	if err != nil {
		return "", func() {}, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	bin = filepath.Join(dir, "engram")
	if out, err := exec.Command(GoTool(), "build", "-o", bin, pkgDir).CombinedOutput(); err != nil {
		return "", cleanup, fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, cleanup, nil
}

// IsolatedEnv is the test process's environment without ENGRAM_ and XDG_ variables and
// with home as HOME, so that no developer configuration reaches a started binary.
func IsolatedEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "ENGRAM_") || strings.HasPrefix(kv, "XDG_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
}

// GoTool is the go command on PATH, else the one of GOROOT.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}
