//go:build linux

package jetstream

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of /proc/stat; 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// ReadCPU samples getrusage(RUSAGE_SELF) and the first line of /proc/stat.
func ReadCPU() CPUSample {
	var s CPUSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.Process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	f, err := os.Open("/proc/stat")
	if err != nil {
		return s
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "cpu ") {
		return s
	}
	var busy, total uint64
	// cpu  user nice system idle iowait irq softirq steal guest guest_nice
	for i, field := range strings.Fields(line)[1:] {
		if i >= 8 { // guest time is already counted in user time
			break
		}
		v, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			return s
		}
		total += v
		if i != 3 && i != 4 {
			busy += v
		}
	}
	s.MachineBusy = time.Duration(busy) * clockTick
	s.MachineTotal = time.Duration(total) * clockTick
	return s
}
