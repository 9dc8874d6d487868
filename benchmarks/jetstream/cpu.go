package jetstream

import "time"

// CPUSample is the CPU time this process has used and the machine's busy and total time, at
// one instant. Machine times are zero where the platform does not expose them.
type CPUSample struct {
	Process      time.Duration
	MachineBusy  time.Duration
	MachineTotal time.Duration
}

// CPUUse is what happened between two samples.
type CPUUse struct {
	Process time.Duration // CPU time of this process (user + system)
	// OthersBusy is the fraction of the machine's CPU time, over all cores, that went to
	// other processes: the load this run competed with. -1 when unknown.
	OthersBusy float64
}

// Since returns the use from s to now.
func (s CPUSample) Since(now CPUSample) CPUUse {
	u := CPUUse{Process: now.Process - s.Process, OthersBusy: -1}
	if total := now.MachineTotal - s.MachineTotal; total > 0 {
		others := now.MachineBusy - s.MachineBusy - u.Process
		u.OthersBusy = max(0, float64(others)/float64(total))
	}
	return u
}
