package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestMissingCaps(t *testing.T) {
	// This machine's bounding set: every capability up to bit 40 but 24.
	missing, err := missingCaps("Name:\tx\nCapBnd:\t000001fffeffffff\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"CAP_SYS_RESOURCE": true}; !reflect.DeepEqual(missing, want) {
		t.Errorf("missing = %v, want %v", missing, want)
	}
	full, err := missingCaps("CapBnd:\t000001ffffffffff\n")
	if err != nil || len(full) != 0 {
		t.Errorf("full set: missing = %v, %v; want none", full, err)
	}
	if _, err := missingCaps("CapEff:\t0\n"); err == nil {
		t.Error("no CapBnd line: want an error")
	}
}

func TestSpecFile(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--root", "/run/r", "--log", "l.json", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "p", "id"}, "/b/config.json"},
		{[]string{"--systemd-cgroup", "create", "--bundle=/b", "id"}, "/b/config.json"},
		{[]string{"run", "-b", "/b", "id"}, "/b/config.json"},
		{[]string{"create", "id"}, "config.json"},
		{[]string{"--root", "/run/r", "exec", "--process", "/tmp/p.json", "--detach", "id"}, "/tmp/p.json"},
		{[]string{"exec", "-p", "/tmp/p.json", "id"}, "/tmp/p.json"},
		{[]string{"exec", "id", "sh"}, ""},
		{[]string{"--root", "/run/r", "start", "id"}, ""},
		{[]string{"--version"}, ""},
	} {
		if got := specFile(tc.args); got != tc.want {
			t.Errorf("specFile(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestDropCaps(t *testing.T) {
	missing := map[string]bool{"CAP_SYS_RESOURCE": true}
	all := []any{"CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN"}
	kept := []any{"CAP_CHOWN", "CAP_SYS_ADMIN"}
	spec := map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"capabilities": map[string]any{"bounding": all, "effective": all, "permitted": all},
			"rlimits":      []any{map[string]any{"type": "RLIMIT_NOFILE", "hard": uint64(1 << 62), "soft": uint64(1 << 62)}},
		},
	}
	in, _ := json.Marshal(spec)
	out, changed, err := dropCaps(in, missing)
	if err != nil || !changed {
		t.Fatalf("dropCaps: changed %v, err %v", changed, err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	caps := got["process"].(map[string]any)["capabilities"].(map[string]any)
	for _, set := range []string{"bounding", "effective", "permitted"} {
		if !reflect.DeepEqual(caps[set], kept) {
			t.Errorf("%s = %v, want %v", set, caps[set], kept)
		}
	}
	// Integers too large for a float64 stay exact.
	var limits struct {
		Process struct {
			Rlimits []struct{ Hard uint64 } `json:"rlimits"`
		} `json:"process"`
	}
	if err := json.Unmarshal(out, &limits); err != nil || limits.Process.Rlimits[0].Hard != 1<<62 {
		t.Errorf("rlimit changed: %+v, %v", limits, err)
	}

	// A process file (runc exec --process) has its capabilities at the top.
	proc, _ := json.Marshal(map[string]any{"args": []any{"sh"}, "capabilities": map[string]any{"effective": all}})
	out, changed, err = dropCaps(proc, missing)
	if err != nil || !changed {
		t.Fatalf("process file: changed %v, err %v", changed, err)
	}
	if err := json.Unmarshal(out, &got); err != nil || !reflect.DeepEqual(got["capabilities"].(map[string]any)["effective"], kept) {
		t.Errorf("process file: got %v, %v", got, err)
	}

	// A spec that asks for no missing capability is left byte for byte.
	none, _ := json.Marshal(map[string]any{"process": map[string]any{"capabilities": map[string]any{"bounding": kept}}})
	if out, changed, err := dropCaps(none, missing); err != nil || changed || string(out) != string(none) {
		t.Errorf("unchanged spec: changed %v, err %v", changed, err)
	}
}

func TestDropFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"process":{"capabilities":{"bounding":["CAP_SYS_RESOURCE","CAP_KILL"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := dropFromFile(path, map[string]bool{"CAP_SYS_RESOURCE": true}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != `{"process":{"capabilities":{"bounding":["CAP_KILL"]}}}` {
		t.Errorf("config.json = %s", data)
	}
}
