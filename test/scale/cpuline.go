package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuLine samples, for the progress log, how busy the machine is and which
// process keeps it busy: the time targets compare two tools that share one
// API server and, on a small machine, a few cores, so a phase's timeline must
// show whether a tool waited for the API server or for a core.
type cpuLine struct {
	names []string
	pids  []int
	last  []time.Duration
	busy  time.Duration // machine-wide, all cores
	at    time.Time
}

// newCPULine follows the harness itself, the processes it started and the
// control plane's etcd and kube-apiserver (envtest starts those; they are
// found as the harness's children by name).
func newCPULine(procs []*process) *cpuLine {
	l := &cpuLine{names: []string{"harness"}, pids: []int{os.Getpid()}}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if pid, ok := childByName(name); ok {
			l.names, l.pids = append(l.names, name), append(l.pids, pid)
		}
	}
	for _, p := range procs {
		if strings.HasPrefix(p.name, "floor-informer") {
			continue
		}
		l.names, l.pids = append(l.names, p.name), append(l.pids, p.cmd.Process.Pid)
	}
	l.last = make([]time.Duration, len(l.pids))
	l.sample()
	return l
}

// processes returns the CPU time each followed process has used, by name.
func (l *cpuLine) processes() map[string]time.Duration {
	out := map[string]time.Duration{}
	for i, pid := range l.pids {
		out[l.names[i]], _ = processCPU(pid)
	}
	return out
}

// sample returns each process's share of one core and the machine's busy
// cores since the last sample.
func (l *cpuLine) sample() string {
	now := time.Now()
	elapsed := now.Sub(l.at)
	var b strings.Builder
	for i, pid := range l.pids {
		cpu, _ := processCPU(pid)
		if !l.at.IsZero() {
			fmt.Fprintf(&b, " %s %.0f%%", l.names[i], 100*float64(cpu-l.last[i])/float64(elapsed))
		}
		l.last[i] = cpu
	}
	busy := machineBusy()
	line := fmt.Sprintf("cpu: machine %.2f cores busy;%s", float64(busy-l.busy)/float64(elapsed), b.String())
	l.busy, l.at = busy, now
	return line
}

// processCPU is utime + stime of pid.
func processCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, may hold spaces: count from its closing ')'.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat: %q", pid, stat)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// machineBusy is the CPU time all cores spent not idle (nor waiting for I/O),
// from the first line of /proc/stat.
func machineBusy() time.Duration {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	fields := strings.Fields(line)[1:]
	var busy int64
	for i, f := range fields {
		v, _ := strconv.ParseInt(f, 10, 64)
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is already counted in user.
		if i != 3 && i != 4 && i < 8 {
			busy += v
		}
	}
	return time.Duration(busy) * time.Second / clockTicks
}

// childByName finds a direct child of the harness by its command name.
func childByName(name string) (int, bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open || s[open+1:end] != name {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
			return pid, true
		}
	}
	return 0, false
}
