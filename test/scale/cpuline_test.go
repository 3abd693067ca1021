package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The CPU line must see the CPU a process spends, and the machine's. The
// busy loop runs until the harness's counter has moved 200 ms, so that a
// loaded machine (go test runs packages in parallel) slows the test down
// rather than failing it; it fails only if the counter never moves.
func TestCPULineSeesWork(t *testing.T) {
	self := newCPULine(nil)
	before, busy := self.processes()["harness"], machineBusy()
	deadline := time.Now().Add(30 * time.Second)
	var used time.Duration
	for n := 0; used < 200*time.Millisecond; n++ {
		if time.Now().After(deadline) {
			t.Fatalf("a busy loop of 30 s counted as %s of the harness's CPU", used)
		}
		if n%1_000_000 == 0 {
			used = self.processes()["harness"] - before
		}
	}
	// The machine's count includes the harness's (10 ms ticks on both).
	if machine := machineBusy() - busy; machine < used-20*time.Millisecond {
		t.Errorf("the machine was busy %s while the harness alone used %s", machine, used)
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
