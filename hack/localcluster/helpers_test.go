package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// withEnv must replace, not add: a child that saw two LOCALCLUSTER_STAGE
// values read the first and started its own stage again, without end.
func TestWithEnvReplaces(t *testing.T) {
	got := withEnv([]string{"A=1", stageEnv + "=init", "B=2"}, stageEnv+"=run")
	want := []string{"A=1", "B=2", stageEnv + "=run"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("withEnv = %q, want %q", got, want)
	}
}

func TestShellQuoteRoundTrips(t *testing.T) {
	for _, s := range []string{"", "plain/path-1.2:3", "with space", "it's", "$HOME", "a\nb"} {
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Errorf("sh read %q back as %q (quoted %s)", s, out, shellQuote(s))
		}
	}
}

func TestUnescapeMountPath(t *testing.T) {
	if got := unescapeMountPath(`/tmp/a\040b\134c`); got != `/tmp/a b\c` {
		t.Fatalf("got %q", got)
	}
}

func TestOwnerAlive(t *testing.T) {
	dir, err := newRunDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !ownerAlive(dir) {
		t.Fatal("the run directory of this very process counts as stale")
	}
	// A PID that is running but started at another time is someone else.
	if err := os.WriteFile(dir+"/"+ownerFile, []byte("1 never\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ownerAlive(dir) {
		t.Fatal("a reused PID counts as the owner")
	}
}
