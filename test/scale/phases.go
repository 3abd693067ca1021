package main

import (
	"context"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

//go:embed kwok-stages.yaml
var kwokStages []byte

// measures holds what a phase cost each tool.
type phaseResult struct {
	took      [2]time.Duration // from the phase's start until every record was right
	lag       [2]time.Duration // from the phase's last write until every record was right
	delivery  time.Duration    // from the phase's last write until the harness's own pod watch saw every change
	cpu       [2]time.Duration
	writes    [2]int64
	wroteOver time.Duration // how long the harness took to make the phase's writes
}

// snapshot is every measured process's usage at one moment.
type snapshot struct{ kcm, op, floorBare, floorStrip usage }

func (r *run) snapshot() snapshot {
	return snapshot{mustUsage(r.kcm), mustUsage(r.op), mustUsage(r.floors[0]), mustUsage(r.floors[1])}
}

func (r *run) run(ctx context.Context) error {
	p := r.p
	r.out = os.Stdout
	kube, c, ca, err := r.startCluster()
	if err != nil {
		return err
	}
	r.tr = newTracker(p.memberLimit)
	r.w = newWorkload(p, kube, c, r.tr)
	if err := r.tr.watch(ctx, ca); err != nil {
		return err
	}
	go func() { _ = ca.Start(ctx) }()
	if !ca.WaitForCacheSync(ctx) {
		return fmt.Errorf("the harness's cache did not sync")
	}
	if err := r.w.createNodes(ctx); err != nil {
		return fmt.Errorf("creating nodes: %w", err)
	}
	if err := r.w.createNamespaces(ctx); err != nil {
		return fmt.Errorf("creating namespaces: %w", err)
	}
	logf("starting kube-controller-manager (EndpointSlice controller only), the operator and the floor informers")
	if err := r.startTools(); err != nil {
		return err
	}
	if err := r.settle(ctx, 8*time.Second); err != nil {
		return err
	}
	empty := r.snapshot()

	logf("creating %d pods over %d namespaces and %d kwok nodes", p.pods, p.namespaces, p.nodes)
	began := time.Now()
	if err := r.w.createPods(ctx); err != nil {
		return fmt.Errorf("creating pods: %w", err)
	}
	created := time.Since(began)
	if err := r.w.waitPodsRunning(ctx, p.timeout); err != nil {
		return err
	}
	logf("pods created in %.1fs, all Running with an IP after %.1fs", created.Seconds(), time.Since(began).Seconds())
	if err := r.settle(ctx, 10*time.Second); err != nil {
		return err
	}
	withPods := r.snapshot()

	selectors, err := r.newSelectors(ctx)
	if err != nil {
		return err
	}
	relabels, err := r.relabels(ctx)
	if err != nil {
		return err
	}
	noop, err := r.unrelatedChanges(ctx)
	if err != nil {
		return err
	}
	end := r.snapshot()
	r.report(empty, withPods, end, selectors, relabels, noop)

	if p.singleEvents > 0 {
		if err := r.singleEvents(ctx); err != nil {
			return err
		}
	}
	if p.churnRate > 0 {
		if err := r.churn(ctx); err != nil {
			return err
		}
	}
	if p.outage > 0 {
		if err := r.apiServerOutage(ctx); err != nil {
			return err
		}
	}
	if r.pprofAddr != "" {
		r.fetchProfile("/debug/pprof/heap", "operator-heap.pprof")
	}
	// Last: the second set of selectors would change what the phases above
	// count.
	if p.solo {
		solo, err := r.soloSelectors(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(r.out, "\nEach tool alone (not a target; see docs/performance.md): %d more new selectors, created with both paused, then one tool resumed at a time.\n\n", p.groups*p.namespaces)
		fmt.Fprintf(r.out, "| | %s | %s | operator / EndpointSlice |\n| --- | --- | --- | --- |\n", endpointSlices, operator)
		fmt.Fprintf(r.out, "| new selectors, each tool alone: all records complete after its resume | %.2f s | %.2f s | **%.2f** |\n", solo[0].Seconds(), solo[1].Seconds(), ratio(solo[1], solo[0]))
	}
	return nil
}

// measure runs write, which returns when its last write was answered, waits
// until both tools have every record right, and says what it cost them.
func (r *run) measure(ctx context.Context, write func() error) (phaseResult, error) {
	var res phaseResult
	before := [2]usage{mustUsage(r.kcm), mustUsage(r.op)}
	writesBefore := r.tr.writeCounts()
	began := time.Now()
	if err := write(); err != nil {
		return res, err
	}
	wrote := time.Now()
	res.wroteOver = wrote.Sub(began)
	stopProgress := r.logProgress(began)
	last, err := r.tr.converged(ctx, 2*time.Second, r.p.timeout)
	stopProgress()
	if err != nil {
		return res, err
	}
	after := [2]usage{mustUsage(r.kcm), mustUsage(r.op)}
	writesAfter := r.tr.writeCounts()
	res.delivery = max(0, r.tr.deliveredAt().Sub(wrote))
	for t := range 2 {
		res.took[t] = last[t].Sub(began)
		res.lag[t] = max(0, last[t].Sub(wrote))
		res.cpu[t] = after[t].cpu - before[t].cpu
		res.writes[t] = writesAfter[t] - writesBefore[t]
	}
	return res, r.checkAlive()
}

// logProgress logs, every 100 ms until stopped, how many records of each tool
// are still wrong and how many writes each made: the phase's timeline, for
// the log only, with the CPU each process and the whole machine used in
// those 100 ms.
func (r *run) logProgress(since time.Time) (stop func()) {
	done := make(chan struct{})
	cpu := newCPULine(r.procs)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			r.tr.mu.Lock()
			wrong := [2]int{len(r.tr.wrong[0]), len(r.tr.wrong[1])}
			writes := r.tr.writes
			r.tr.mu.Unlock()
			line := cpu.sample()
			if wrong[0]+wrong[1] > 0 {
				logf("  +%.1fs wrong: %d Services, %d LabelGroups; writes so far: %d, %d; %s", time.Since(since).Seconds(), wrong[0], wrong[1], writes[0], writes[1], line)
			}
		}
	}()
	return func() { close(done) }
}

// pauseTools pauses (SIGSTOP) both tools and returns them, the EndpointSlice
// controller first, indexed as tool.
func (r *run) pauseTools() ([]*process, error) {
	tools := []*process{r.kcm, r.op}
	for _, p := range tools {
		if err := p.signal(syscall.SIGSTOP); err != nil {
			return nil, err
		}
	}
	return tools, nil
}

// newSelectors creates every Service and LabelGroup while both tools are
// paused (SIGSTOP), then resumes both at once: each then finds all the new
// selectors at the same moment, and the time measured is the tool's, not how
// fast the harness can create 2 × groups objects on a busy machine.
func (r *run) newSelectors(ctx context.Context) (phaseResult, error) {
	n := r.p.groups * r.p.namespaces
	tools, err := r.pauseTools()
	if err != nil {
		return phaseResult{}, err
	}
	logf("creating %d headless Services and %d LabelGroups with both tools paused", n, n)
	r.w.expectAll("")
	began := time.Now()
	if err := r.w.createSelectors(ctx, ""); err != nil {
		return phaseResult{}, fmt.Errorf("creating selectors: %w", err)
	}
	created := time.Since(began)
	if r.p.profile > 0 {
		go r.fetchProfile(fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(r.p.profile.Seconds())), "operator-cpu.pprof")
		go r.fetchAPIServerProfile(ctx, int(r.p.profile.Seconds()), "kube-apiserver-cpu.pprof")
	}
	res, err := r.measure(ctx, func() error {
		for _, p := range tools {
			if err := p.signal(syscall.SIGCONT); err != nil {
				return err
			}
		}
		return nil
	})
	res.wroteOver = created
	if err != nil {
		return res, fmt.Errorf("new selectors: %w", err)
	}
	logf("new selectors (created in %.2fs): %s %.2fs, %s %.2fs after the resume", created.Seconds(),
		endpointSlices, res.took[0].Seconds(), operator, res.took[1].Seconds())
	return res, nil
}

// soloSelectors repeats the new selectors with a second set of them (named
// solo-*, run last since relabels do not move pods in their records), but
// lets each tool find them alone: both are paused while the set is created,
// then the EndpointSlice controller is resumed and timed until its records
// are right, then the operator. On a machine with few cores the two tools of
// newSelectors also share the CPU, so this shows what each takes when it has
// the machine and the API server to itself.
func (r *run) soloSelectors(ctx context.Context) ([2]time.Duration, error) {
	var took [2]time.Duration
	tools, err := r.pauseTools()
	if err != nil {
		return took, err
	}
	n := r.p.groups * r.p.namespaces
	logf("creating %d more headless Services and LabelGroups (solo-*) with both tools paused, then resuming one tool at a time", n)
	r.w.expectAll("solo-")
	if err := r.w.createSelectors(ctx, "solo-"); err != nil {
		return took, fmt.Errorf("creating selectors: %w", err)
	}
	// Let the API server queue the new objects' watch events for both
	// paused tools before the first resumes.
	time.Sleep(time.Second)
	for t, p := range tools {
		var profiled chan struct{}
		if r.p.profile > 0 {
			// 2 s from the resume: each tool converges within one.
			profiled = make(chan struct{})
			go func() {
				defer close(profiled)
				r.fetchAPIServerProfile(ctx, 2, fmt.Sprintf("kube-apiserver-cpu-solo-%d.pprof", t))
			}()
			time.Sleep(100 * time.Millisecond)
		}
		began := time.Now()
		if err := p.signal(syscall.SIGCONT); err != nil {
			return took, err
		}
		stopProgress := r.logProgress(began)
		last, err := r.tr.rightAgain(ctx, tool(t), r.p.timeout)
		stopProgress()
		if err != nil {
			return took, fmt.Errorf("solo selectors: %w", err)
		}
		took[t] = last.Sub(began)
		logf("solo selectors: %s %.2fs after its resume", tool(t), took[t].Seconds())
		if profiled != nil {
			<-profiled
		}
		time.Sleep(2 * time.Second)
	}
	return took, nil
}

func (r *run) relabels(ctx context.Context) (phaseResult, error) {
	pods := r.w.pick(int(float64(r.p.pods)*r.p.relabelShare), 1)
	logf("relabelling %d pods into the next group", len(pods))
	res, err := r.measure(ctx, func() error {
		return parallel(len(pods), 16, func(i int) error { return r.w.relabel(ctx, pods[i].ns, pods[i].j) })
	})
	if err != nil {
		return res, fmt.Errorf("relabels: %w", err)
	}
	logf("relabels written in %.2fs; lag after the last: %s %.2fs, %s %.2fs", res.wroteOver.Seconds(),
		endpointSlices, res.lag[0].Seconds(), operator, res.lag[1].Seconds())
	return res, nil
}

// unrelatedChanges changes a label no selector reads on some pods and counts
// what either tool writes in the next 5 s: it should be nothing.
func (r *run) unrelatedChanges(ctx context.Context) ([2]int64, error) {
	n := min(100, r.p.pods)
	before := r.tr.writeCounts()
	if err := r.w.touchUnrelated(ctx, n); err != nil {
		return [2]int64{}, err
	}
	if err := r.settle(ctx, 5*time.Second); err != nil {
		return [2]int64{}, err
	}
	after := r.tr.writeCounts()
	return [2]int64{after[0] - before[0], after[1] - before[1]}, nil
}

// singleEvents relabels one pod at a time and waits for both tools each time.
// A tool's CPU per event is its CPU over the phase less what it spends idle
// over as long (measured first, over idleWindow with nothing happening), for
// the events are far apart: each waits for both tools to converge.
func (r *run) singleEvents(ctx context.Context) error {
	idle, err := r.idleCPU(ctx)
	if err != nil {
		return err
	}
	pods := r.w.pick(r.p.singleEvents, 7)
	var lat [2][]time.Duration
	before := [2]usage{mustUsage(r.kcm), mustUsage(r.op)}
	began := time.Now()
	for _, pod := range pods {
		if err := r.w.relabel(ctx, pod.ns, pod.j); err != nil {
			return err
		}
		wrote := time.Now()
		last, err := r.tr.converged(ctx, 300*time.Millisecond, r.p.timeout)
		if err != nil {
			return err
		}
		for t := range 2 {
			lat[t] = append(lat[t], max(0, last[t].Sub(wrote)))
		}
	}
	after := [2]usage{mustUsage(r.kcm), mustUsage(r.op)}
	took := time.Since(began)
	var perEvent, raw [2]time.Duration
	for t := range 2 {
		spent := after[t].cpu - before[t].cpu
		raw[t] = spent / time.Duration(len(pods))
		idleShare := time.Duration(float64(idle[t]) * took.Seconds())
		perEvent[t] = max(0, spent-idleShare) / time.Duration(len(pods))
	}
	fmt.Fprintf(r.out, "\n### One pod event at a time (%d relabels, %d groups per namespace)\n\n", len(pods), r.p.groups)
	fmt.Fprintf(r.out, "| | %s | %s | ratio |\n| --- | --- | --- | --- |\n", endpointSlices, operator)
	fmt.Fprintf(r.out, "| latency, median (max) | %s (%s) | %s (%s) | |\n", median(lat[0]), maxOf(lat[0]), median(lat[1]), maxOf(lat[1]))
	fmt.Fprintf(r.out, "| CPU per event, idle CPU over as long taken off | %s | %s | %.2f |\n",
		perEvent[0].Round(10*time.Microsecond), perEvent[1].Round(10*time.Microsecond), ratio(perEvent[1], perEvent[0]))
	fmt.Fprintf(r.out, "| CPU per event, as measured | %s | %s | |\n", raw[0].Round(10*time.Microsecond), raw[1].Round(10*time.Microsecond))
	fmt.Fprintf(r.out, "| idle CPU (ms per s), over %s before | %.2f | %.2f | |\n", idleWindow, 1000*idle[0], 1000*idle[1])
	return nil
}

// idleWindow is how long singleEvents measures the tools doing nothing.
const idleWindow = 20 * time.Second

// idleCPU returns each tool's CPU seconds per second while nothing happens.
func (r *run) idleCPU(ctx context.Context) ([2]float64, error) {
	before := [2]usage{mustUsage(r.kcm), mustUsage(r.op)}
	began := time.Now()
	select {
	case <-ctx.Done():
		return [2]float64{}, ctx.Err()
	case <-time.After(idleWindow):
	}
	after := [2]usage{mustUsage(r.kcm), mustUsage(r.op)}
	took := time.Since(began).Seconds()
	return [2]float64{(after[0].cpu - before[0].cpu).Seconds() / took, (after[1].cpu - before[1].cpu).Seconds() / took}, nil
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(time.Millisecond)
}

func maxOf(d []time.Duration) time.Duration {
	var m time.Duration
	for _, x := range d {
		m = max(m, x)
	}
	return m.Round(time.Millisecond)
}

// churn relabels random pods at a steady rate and measures the lag when it
// stops and how often each record was written meanwhile.
func (r *run) churn(ctx context.Context) error {
	logf("churn: %d relabels/s for %s", r.p.churnRate, r.p.churnDuration)
	rng := rand.New(rand.NewPCG(3, 3))
	var mu sync.Mutex
	inFlight := map[podRef]bool{}
	var wg sync.WaitGroup
	var firstErr error
	r.tr.countPerSecond(true)
	res, err := r.measure(ctx, func() error {
		tick := time.NewTicker(time.Second / time.Duration(r.p.churnRate))
		defer tick.Stop()
		stop := time.After(r.p.churnDuration)
		sent := 0
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-stop:
				wg.Wait()
				logf("churn: %d relabels sent", sent)
				return firstErr
			case <-tick.C:
			}
			i := rng.IntN(r.p.pods)
			pod := podRef{i % r.p.namespaces, i / r.p.namespaces}
			mu.Lock()
			if inFlight[pod] {
				mu.Unlock()
				continue
			}
			inFlight[pod] = true
			mu.Unlock()
			sent++
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := r.w.relabel(ctx, pod.ns, pod.j)
				mu.Lock()
				delete(inFlight, pod)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}()
		}
	})
	stats := r.tr.countPerSecond(false)
	if err != nil {
		return fmt.Errorf("churn: %w", err)
	}
	secs := r.p.churnDuration.Seconds()
	fmt.Fprintf(r.out, "\n### Churn: %d relabels/s for %s over %d pods, %d groups per namespace\n\n", r.p.churnRate, r.p.churnDuration, r.p.pods, r.p.groups)
	fmt.Fprintf(r.out, "| | %s | %s | ratio |\n| --- | --- | --- | --- |\n", endpointSlices, operator)
	fmt.Fprintf(r.out, "| lag when the churn stops | %.2f s | %.2f s | %.2f |\n", res.lag[0].Seconds(), res.lag[1].Seconds(), ratio(res.lag[1], res.lag[0]))
	fmt.Fprintf(r.out, "| the harness's own pod watch saw the last relabel after | %.2f s | | |\n", res.delivery.Seconds())
	fmt.Fprintf(r.out, "| CPU | %.2f s | %.2f s | %.2f |\n", res.cpu[0].Seconds(), res.cpu[1].Seconds(), ratio(res.cpu[1], res.cpu[0]))
	for t, name := range []string{"EndpointSlice writes", "LabelGroup status writes"} {
		s := stats[t]
		perRecord := 0.0
		if s.records > 0 {
			perRecord = float64(s.total) / float64(s.records) / secs
		}
		fmt.Fprintf(r.out, "| %s: total, per record per second (mean), most to one record in one second | %d, %.2f, %d | |\n", name, s.total, perRecord, s.max)
	}
	return nil
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// report prints the main table.
func (r *run) report(empty, withPods, end snapshot, sel, rel phaseResult, noop [2]int64) {
	p := r.p
	w := r.out
	relabelled := int(float64(p.pods) * p.relabelShare)
	fmt.Fprintf(w, "\n## bench-scale: %d pods, %d groups in each of %d namespace(s), %d kwok nodes\n\n", p.pods, p.groups, p.namespaces, p.nodes)
	fmt.Fprintf(w, "operator flags: %q; kube-controller-manager --kube-api-qps=%d\n\n", p.operatorArgs, p.kcmQPS)
	fmt.Fprintf(w, "| | %s | %s | operator / EndpointSlice |\n| --- | --- | --- | --- |\n", endpointSlices, operator)
	row := func(name string, a, b time.Duration) {
		fmt.Fprintf(w, "| %s | %.2f s | %.2f s | **%.2f** |\n", name, a.Seconds(), b.Seconds(), ratio(b, a))
	}
	row(fmt.Sprintf("%d new selectors (created in %.2f s with both paused): all records complete after the resume", p.groups*p.namespaces, sel.wroteOver.Seconds()), sel.took[0], sel.took[1])
	row(fmt.Sprintf("%d relabels (written over %.2f s): converged after the first", relabelled, rel.wroteOver.Seconds()), rel.took[0], rel.took[1])
	row("lag after the last relabel", rel.lag[0], rel.lag[1])
	row(fmt.Sprintf("lag after the harness's own pod watch saw the last relabel (%.2f s after it was written)", rel.delivery.Seconds()),
		max(0, rel.lag[0]-rel.delivery), max(0, rel.lag[1]-rel.delivery))
	row("CPU during the new selectors", sel.cpu[0], sel.cpu[1])
	row("CPU during the relabels", rel.cpu[0], rel.cpu[1])
	fmt.Fprintf(w, "| RSS at the end | %.1f MiB | %.1f MiB | %.2f |\n", mib(end.kcm.rss), mib(end.op.rss), float64(end.op.rss)/float64(end.kcm.rss))
	fmt.Fprintf(w, "| peak RSS | %.1f MiB | %.1f MiB | %.2f |\n", mib(end.kcm.hwm), mib(end.op.hwm), float64(end.op.hwm)/float64(end.kcm.hwm))
	fmt.Fprintf(w, "| writes: new selectors, relabels | %d, %d | %d, %d | |\n", sel.writes[0], rel.writes[0], sel.writes[1], rel.writes[1])
	fmt.Fprintf(w, "| writes after changing a label no selector reads on 100 pods (5 s) | %d | %d | |\n", noop[0], noop[1])

	fmt.Fprintf(w, "\nMemory floor: metadata-only pod informers in their own processes, over the same pods.\n\n")
	fmt.Fprintf(w, "| RSS | 0 pods | %d pods, no group | end | growth 0 → %d pods (end) |\n| --- | --- | --- | --- | --- |\n", p.pods, p.pods)
	mem := func(name string, a, b, c usage) {
		fmt.Fprintf(w, "| %s | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB |\n", name, mib(a.rss), mib(b.rss), mib(c.rss), mib(c.rss-a.rss))
	}
	mem("metadata informer (bare)", empty.floorBare, withPods.floorBare, end.floorBare)
	mem("metadata informer, managed fields stripped", empty.floorStrip, withPods.floorStrip, end.floorStrip)
	mem(operator.String(), empty.op, withPods.op, end.op)
	mem(endpointSlices.String(), empty.kcm, withPods.kcm, end.kcm)
	growth := func(u0, u1 usage) float64 { return float64(u1.rss - u0.rss) }
	fmt.Fprintf(w, "\nOperator RSS growth / bare informer's growth: **%.2f** (with pods only: %.2f); / stripped informer's: %.2f\n",
		growth(empty.op, end.op)/growth(empty.floorBare, end.floorBare),
		growth(empty.op, withPods.op)/growth(empty.floorBare, withPods.floorBare),
		growth(empty.op, end.op)/growth(empty.floorStrip, end.floorStrip))
}

// runFloorInformer runs a metadata-only pod informer over all namespaces and
// nothing else, until a signal: the least any controller that watches pods'
// labels holds.
func runFloorInformer(ctx context.Context, kubeconfig string, strip bool) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	factory := metadatainformer.NewSharedInformerFactory(mc, 0)
	informer := factory.ForResource(schema.GroupVersionResource{Version: "v1", Resource: "pods"}).Informer()
	if strip {
		if err := informer.SetTransform(func(obj any) (any, error) {
			if m, ok := obj.(metav1.Object); ok {
				m.SetManagedFields(nil)
			}
			return obj, nil
		}); err != nil {
			return err
		}
	}
	_, _ = informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{})
	factory.Start(ctx.Done())
	<-ctx.Done()
	return nil
}
