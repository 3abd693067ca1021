package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A started process gets the harness's environment plus its own, writes to
// its log, and /proc tells what it holds; stop ends it.
func TestStartProcessEnvLogAndUsage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SCALE_TEST_INHERITED", "inherited")
	p, err := startProcess("child", dir, []string{"SCALE_TEST_OWN=own"}, "sh", "-c",
		`echo "$SCALE_TEST_INHERITED $SCALE_TEST_OWN"; exec sleep 30`)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	log := filepath.Join(dir, "child.log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := os.ReadFile(log)
		if strings.TrimSpace(string(out)) == "inherited own" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q, want %q", log, out, "inherited own")
		}
		time.Sleep(10 * time.Millisecond)
	}
	u, err := p.usage()
	if err != nil {
		t.Fatal(err)
	}
	if u.rss <= 0 || u.hwm < u.rss {
		t.Errorf("usage of a running sleep: RSS %d, peak %d bytes; want 0 < RSS <= peak", u.rss, u.hwm)
	}
	p.stop()
	if !p.exited() {
		t.Error("the process still runs after stop")
	}
}

// freeAddress names a local port that can be listened on.
func TestFreeAddressCanBeListenedOn(t *testing.T) {
	addr, err := freeAddress()
	if err != nil {
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
		t.Errorf("freeAddress() = %q, want a 127.0.0.1 address", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on freeAddress() %q: %v", addr, err)
	}
	_ = l.Close()
}
