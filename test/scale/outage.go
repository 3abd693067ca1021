package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The API server outage phase (--apiserver-outage): kube-apiserver is killed,
// started again on the same etcd, and some pods are relabelled right after
// its return. Each tool's time from the return until every record is right
// says how long client-go's reflector backoff keeps it blind; the list and
// watch requests each sent from the stop until then, read from the API
// server's audit log, say what its recovery cost the API server.

// auditPolicy logs the requests that the outage phase counts, at Metadata
// level (no bodies): lists, watches, and GET /readyz.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["list", "watch"]
- level: Metadata
  nonResourceURLs: ["/readyz", "/readyz/*", "/livez", "/healthz"]
- level: None
`

// prepareOutage makes a restart of api possible and audited: a serving
// certificate kept in a directory of the run (envtest makes a new one, which
// no kubeconfig trusts, in a directory of its own) and the audit log.
func (r *run) prepareOutage(api *envtest.APIServer) error {
	if r.p.outage <= 0 {
		return nil
	}
	certs := filepath.Join(r.p.outDir, "kube-apiserver")
	if err := os.RemoveAll(certs); err != nil {
		return err
	}
	if err := os.MkdirAll(certs, 0o700); err != nil {
		return err
	}
	api.CertDir = certs
	policy := filepath.Join(r.p.outDir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		return err
	}
	r.auditLog = filepath.Join(r.p.outDir, "logs", "kube-apiserver-audit.log")
	_ = os.Remove(r.auditLog)
	api.Configure().Set("audit-policy-file", policy).Set("audit-log-path", r.auditLog)
	return nil
}

// apiServerOutage runs the phase and prints its table.
func (r *run) apiServerOutage(ctx context.Context) error {
	pods := r.w.pick(min(r.p.outageRelabels, r.p.pods), 13)
	api := r.env.ControlPlane.GetAPIServer()
	logf("killing kube-apiserver, for %s", r.p.outage)
	stopped := time.Now()
	if err := killAPIServer(api); err != nil {
		return err
	}
	if err := r.settle(ctx, r.p.outage); err != nil {
		return err
	}
	logf("starting kube-apiserver again on the same etcd")
	if err := api.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver: %w", err)
	}
	back := time.Now() // envtest returns once /healthz answers ok
	logf("kube-apiserver back after %.1fs; relabelling %d pods", back.Sub(stopped).Seconds(), len(pods))
	stopProgress := r.logProgress(back)
	for _, pod := range pods {
		if err := r.waitServing(ctx, pod); err != nil {
			stopProgress()
			return err
		}
		if err := r.w.relabel(ctx, pod.ns, pod.j); err != nil {
			stopProgress()
			return fmt.Errorf("relabelling after the outage: %w", err)
		}
	}
	wrote := time.Now()
	last, err := r.tr.converged(ctx, 2*time.Second, r.p.timeout)
	stopProgress()
	if err != nil {
		return fmt.Errorf("after the outage: %w", err)
	}
	end := time.Now()
	counts, err := countAudited(r.auditLog, r.p.operatorBin, stopped, back, end)
	if err != nil {
		return err
	}
	w := r.out
	fmt.Fprintf(w, "\n### API server outage: kube-apiserver killed, started again on the same etcd %s later, then %d relabels\n\n", r.p.outage, len(pods))
	fmt.Fprintf(w, "The API server was back (/healthz ok) %.1f s after the kill; the relabels were written %.2f s after its return, and the harness's own pod watch saw the last %.2f s after that.\n\n",
		back.Sub(stopped).Seconds(), wrote.Sub(back).Seconds(), max(0, r.tr.deliveredAt().Sub(wrote)).Seconds())
	fmt.Fprintf(w, "| | %s | %s |\n| --- | --- | --- |\n", endpointSlices, operator)
	fmt.Fprintf(w, "| right again, after the API server's return | **%.2f s** | **%.2f s** |\n", last[0].Sub(back).Seconds(), last[1].Sub(back).Seconds())
	row := func(name string, get func(c auditCounts) int) {
		fmt.Fprintf(w, "| %s | %d | %d |\n", name, get(counts[endpointSlices]), get(counts[operator]))
	}
	row("lists received from the kill until its return", func(c auditCounts) int { return c.lists[0] })
	row("lists received from its return until both were right (+2 s)", func(c auditCounts) int { return c.lists[1] })
	row("watches received from the kill until its return", func(c auditCounts) int { return c.watches[0] })
	row("watches received from its return until both were right (+2 s)", func(c auditCounts) int { return c.watches[1] })
	row("GET /readyz received, kill until both were right (+2 s)", func(c auditCounts) int { return c.readyz[0] + c.readyz[1] })
	fmt.Fprintf(w, "\nA list here is a list request or a watch with sendInitialEvents=true (client-go's streaming list); counted from the API server's audit log by user agent. Requests refused while no API server listened reach no log.\n")
	return nil
}

// killAPIServer kills kube-apiserver (SIGKILL, as a crash or an OOM kill
// would) and lets envtest see it gone. A graceful stop (SIGTERM) is no
// outage of a known length: kube-apiserver 1.37 then serves the open watches
// for up to 60 s more before it exits.
func killAPIServer(api *envtest.APIServer) error {
	pid, ok := childByName("kube-apiserver")
	if !ok {
		return fmt.Errorf("no kube-apiserver process found")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing kube-apiserver: %w", err)
	}
	// envtest's Stop returns at once for a process that has exited, and
	// readies the APIServer for Start.
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			break
		}
	}
	return api.Stop()
}

// waitServing waits until the API server answers a GET of pod: right after
// its return it may still refuse requests for a moment, and the harness's
// relabels must not fail on that.
func (r *run) waitServing(ctx context.Context, pod podRef) error {
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := r.w.kube.CoreV1().Pods(namespaceName(pod.ns)).Get(ctx, podName(pod.j), metav1.GetOptions{})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-apiserver not serving pods a minute after its return: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// auditCounts are one tool's requests, [0] received from the stop until the
// API server's return, [1] from its return until the end of the phase.
type auditCounts struct{ lists, watches, readyz [2]int }

// auditEvent is the part of an audit.k8s.io/v1 Event the phase reads.
type auditEvent struct {
	AuditID    string    `json:"auditID"`
	Verb       string    `json:"verb"`
	RequestURI string    `json:"requestURI"`
	UserAgent  string    `json:"userAgent"`
	Received   time.Time `json:"requestReceivedTimestamp"`
}

// toolOf says which tool sent a request, by its user agent: client-go puts
// the binary's name first, and operatorBin is the operator's.
func toolOf(userAgent, operatorBin string) (tool, bool) {
	switch {
	case strings.HasPrefix(userAgent, "kube-controller-manager/"):
		return endpointSlices, true
	case strings.HasPrefix(userAgent, filepath.Base(operatorBin)+"/"):
		return operator, true
	}
	return 0, false
}

// countAudited counts each tool's lists, watches and /readyz probes received
// in [from, back) and [back, to], once per request.
func countAudited(path, operatorBin string, from, back, to time.Time) ([2]auditCounts, error) {
	var counts [2]auditCounts
	f, err := os.Open(path)
	if err != nil {
		return counts, err
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return counts, fmt.Errorf("%s: %w", path, err)
		}
		t, ok := toolOf(e.UserAgent, operatorBin)
		if !ok || seen[e.AuditID] || e.Received.Before(from) || e.Received.After(to) {
			continue
		}
		seen[e.AuditID] = true
		i := 0
		if !e.Received.Before(back) {
			i = 1
		}
		c := &counts[t]
		switch {
		case strings.HasPrefix(e.RequestURI, "/readyz"):
			c.readyz[i]++
		case e.Verb == "list" || e.Verb == "watch" && strings.Contains(e.RequestURI, "sendInitialEvents=true"):
			c.lists[i]++
		case e.Verb == "watch":
			c.watches[i]++
		}
	}
	return counts, sc.Err()
}
