package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCountAuditedSplitsByToolKindAndTime(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) string { return base.Add(time.Duration(s) * time.Second).Format(time.RFC3339Nano) }
	line := func(id, stage, verb, uri, agent string, s int) string {
		return `{"auditID":"` + id + `","stage":"` + stage + `","verb":"` + verb + `","requestURI":"` + uri +
			`","userAgent":"` + agent + `","requestReceivedTimestamp":"` + at(s) + `"}` + "\n"
	}
	const kcm, op = "kube-controller-manager/v1.37.1 (linux/amd64) kubernetes/abc/shared-informers", "manager/v0.0.0 (linux/amd64) kubernetes/$Format"
	log := line("1", "ResponseComplete", "list", "/api/v1/pods?limit=500", op, 1) + // before the stop: not counted
		line("2", "ResponseStarted", "watch", "/api/v1/pods?watch=true&sendInitialEvents=true", op, 12) +
		line("2", "ResponseComplete", "watch", "/api/v1/pods?watch=true&sendInitialEvents=true", op, 12) + // the same request
		line("3", "ResponseComplete", "watch", "/api/v1/pods?watch=true&resourceVersion=5", kcm, 12) +
		line("4", "ResponseComplete", "list", "/apis/discovery.k8s.io/v1/endpointslices", kcm, 15) +
		line("5", "ResponseComplete", "get", "/readyz", op, 8) +
		line("6", "ResponseComplete", "list", "/api/v1/pods", "kwok/v0.8.0", 15) + // neither tool
		line("7", "ResponseComplete", "list", "/api/v1/pods", op, 40) // after the end
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	counts, err := countAudited(path, "bin/manager", base.Add(5*time.Second), base.Add(14*time.Second), base.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := [2]auditCounts{
		endpointSlices: {lists: [2]int{0, 1}, watches: [2]int{1, 0}},
		operator:       {lists: [2]int{1, 0}, readyz: [2]int{1, 0}},
	}
	if counts != want {
		t.Errorf("got %+v, want %+v", counts, want)
	}
}
