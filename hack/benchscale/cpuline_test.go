package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// burn keeps one core busy for d.
func burn(d time.Duration) int {
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		n++
	}
	return n
}

// The CPU line must see the CPU a process spends, and the machine's.
func TestCPULineSeesWork(t *testing.T) {
	self := newCPULine(nil)
	before, busy := self.processes()["harness"], machineBusy()
	burn(300 * time.Millisecond)
	used := self.processes()["harness"] - before
	if used < 150*time.Millisecond || used > 2*time.Second {
		t.Errorf("300 ms of busy loop counted as %s of the harness's CPU", used)
	}
	if machineBusy()-busy < 150*time.Millisecond {
		t.Errorf("300 ms of busy loop counted as %s of the machine's", machineBusy()-busy)
	}
	line := self.sample()
	if !strings.HasPrefix(line, "cpu: machine ") || !strings.Contains(line, "harness ") {
		t.Errorf("sample line %q names neither the machine nor the harness", line)
	}
}

// Only the harness's own children are followed: a control plane of another
// run on the same machine must not be counted.
func TestChildByNameFindsOnlyChildren(t *testing.T) {
	cmd := exec.CommandContext(context.Background(), "sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid, ok := childByName("sleep")
	if !ok || pid != cmd.Process.Pid {
		t.Errorf("childByName(sleep) = %d, %v; want the child %d", pid, ok, cmd.Process.Pid)
	}
	if _, ok := childByName("init"); ok {
		t.Error("found a process named init among the harness's children")
	}
}
