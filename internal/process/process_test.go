package process

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Fatal("this process is not alive")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if Alive(cmd.Process.Pid) {
		t.Errorf("pid %d, exited and reaped, is alive", cmd.Process.Pid)
	}
}

func TestIsEngram(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	// The test binary is named process.test: not an engram binary.
	if IsEngram(os.Getpid()) {
		t.Errorf("%s taken for an engram binary", os.Args[0])
	}
}
