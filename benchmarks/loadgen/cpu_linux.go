//go:build linux

package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func readCPU() cpuSample {
	var s cpuSample
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return s
	}
	s.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	f, err := os.Open("/proc/stat")
	if err != nil {
		return s
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "cpu ") {
		return s
	}
	// cpu  user nice system idle iowait irq softirq steal guest guest_nice
	for i, field := range strings.Fields(line)[1:] {
		v, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			return s
		}
		if i >= 8 { // guest time is already counted in user time
			break
		}
		s.all += v
		if i == 3 || i == 4 {
			s.idle += v
		}
	}
	s.measurable = s.all > 0
	return s
}
