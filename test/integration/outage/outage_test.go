// Package outage stops and starts the API server under a running manager: the
// manager must be right again after the API server's return, and while the
// API server is down it must send no more than one list or watch per informer
// (then only the shared /readyz probe). It runs a control plane of its own,
// since it stops it.
package outage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/internal/controller"
	"github.com/labelgroup/labelgroup-operator/internal/outage"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// outageLength is how long the API server stays down: long enough that
// client-go's own backoff (0.8 s, then at most 1.6 s, 3.2 s, 6.4 s) retries
// every watch at least three times.
const outageLength = 12 * time.Second

// request is one request the manager sent, as its transport saw it.
type request struct {
	at   time.Time
	kind string // "list", "watch", "readyz" or "other"
	path string
}

// requestLog records every request the manager's clients send, refused or
// not: the count the API server's audit log cannot give for an outage.
type requestLog struct {
	mu       sync.Mutex
	requests []request
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.requests = append(l.requests, request{at: time.Now(), kind: kindOf(req), path: req.URL.Path})
		l.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// kindOf classifies a request: a watch with sendInitialEvents is client-go's
// streaming list, so it counts as a list.
func kindOf(req *http.Request) string {
	q := req.URL.Query()
	switch {
	case req.URL.Path == "/readyz":
		return "readyz"
	case req.Method != http.MethodGet:
		return "other"
	case q.Get("watch") == "true" && q.Get("sendInitialEvents") != "true":
		return "watch"
	case q.Get("watch") == "true" || isCollection(req.URL.Path):
		return "list"
	}
	return "other"
}

// isCollection says whether path names a collection of objects (a GET of it is
// a list), not one object or a discovery document.
func isCollection(path string) bool {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case segments[0] == "api": // /api/v1/pods, /api/v1/namespaces/ns/pods
		return len(segments) == 3 || len(segments) == 5 && segments[2] == "namespaces"
	case segments[0] == "apis": // /apis/group/version/resource, namespaced
		return len(segments) == 4 || len(segments) == 6 && segments[3] == "namespaces"
	}
	return false
}

// count returns how many requests of each kind were sent in [from, to), and
// the paths of the lists and watches among them.
func (l *requestLog) count(from, to time.Time) (map[string]int, map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	kinds, paths := map[string]int{}, map[string]int{}
	for _, r := range l.requests {
		if r.at.Before(from) || !r.at.Before(to) {
			continue
		}
		kinds[r.kind]++
		if r.kind == "list" || r.kind == "watch" {
			paths[r.path]++
		}
	}
	return kinds, paths
}

// killAPIServer kills kube-apiserver (SIGKILL, as a crash would: a graceful
// stop keeps serving open watches for up to 60 s) and readies envtest's
// APIServer for Start.
func killAPIServer(api *envtest.APIServer) error {
	// envtest starts kube-apiserver as a child of this process.
	pids, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return err
	}
	pid := 0
	for _, statFile := range pids {
		// pid (comm) state ppid ...
		stat, err := os.ReadFile(statFile)
		fields := strings.Fields(string(stat))
		if err == nil && len(fields) > 3 && fields[1] == "(kube-apiserver)" && fields[3] == strconv.Itoa(os.Getpid()) {
			pid, _ = strconv.Atoi(fields[0])
		}
	}
	if pid == 0 {
		return errors.New("no kube-apiserver process found")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			break
		}
	}
	return api.Stop()
}

func TestManagerIsRightAgainAfterAnAPIServerOutage(t *testing.T) {
	g := NewWithT(t)
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true)))
	_, thisFile, _, _ := runtime.Caller(0)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(filepath.Dir(thisFile), "..", "..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	api := env.ControlPlane.GetAPIServer()
	// Kept across the restart: in a directory of its own envtest would make a
	// new serving certificate, which no client trusts.
	api.CertDir = t.TempDir()
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred(), "starting envtest (run `make test`, or set KUBEBUILDER_ASSETS to a folder holding kube-apiserver and etcd)")
	defer func() { g.Expect(env.Stop()).To(Succeed()) }()
	scheme := apiruntime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(v1alpha1.AddToScheme(scheme)).To(Succeed())
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "outage"}}
	g.Expect(c.Create(ctx, ns)).To(Succeed())
	var pods []*corev1.Pod
	for _, name := range []string{"a", "b", "c"} {
		pod := builders.MakePod(name).Namespace(ns.Name).Label("app", "shop").Obj()
		g.Expect(c.Create(ctx, pod)).To(Succeed())
		pods = append(pods, pod)
	}
	group := builders.MakeGroup("shop").Namespace(ns.Name).Label("app", "shop").Obj()
	g.Expect(c.Create(ctx, group)).To(Succeed())

	// The manager, wired as cmd/manager wires its cache, with every request
	// it sends recorded.
	requests := &requestLog{}
	mgrConfig := rest.CopyConfig(cfg)
	mgrConfig.WrapTransport = requests.wrap
	gate, err := outage.NewGate(mgrConfig)
	g.Expect(err).NotTo(HaveOccurred())
	cacheOptions := controller.CacheOptions()
	cacheOptions.NewInformer = gate.NewInformer
	mgr, err := ctrl.NewManager(mgrConfig, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cacheOptions,
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect((&controller.LabelGroupReconciler{
		Client:       mgr.GetClient(),
		Recorder:     mgr.GetEventRecorder("labelgroup-controller"),
		MemberLimit:  100,
		OverlapLimit: 100,
	}).SetupWithManager(mgr)).To(Succeed())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	memberCount := func() int32 {
		var got v1alpha1.LabelGroup
		if err := c.Get(ctx, client.ObjectKeyFromObject(group), &got); err != nil {
			return -1
		}
		return got.Status.MemberCount
	}
	g.Eventually(memberCount, time.Minute).Should(BeEquivalentTo(3))
	_, watched := requests.count(time.Time{}, time.Now())
	t.Logf("lists and watches before the outage: %v", watched)

	g.Expect(killAPIServer(api)).To(Succeed())
	down := time.Now()
	time.Sleep(outageLength)
	up := time.Now()
	g.Expect(api.Start()).To(Succeed())
	back := time.Now()

	// A change made after the API server's return reaches the status.
	patch := client.MergeFrom(pods[0].DeepCopy())
	pods[0].Labels = map[string]string{"app": "gone"}
	g.Expect(c.Patch(ctx, pods[0], patch)).To(Succeed())
	g.Eventually(memberCount, 2*time.Minute, 100*time.Millisecond).Should(BeEquivalentTo(2))
	right := time.Now()
	t.Logf("right again %.1f s after the API server's return (not asserted: wall clock)", right.Sub(back).Seconds())

	// While no API server listened, each informer tried once and then waited
	// on the shared probe, which sends at most one GET /readyz a second.
	whileDown, downPaths := requests.count(down, up)
	t.Logf("while down: %v, lists and watches by path: %v", whileDown, downPaths)
	informers := len(watched)
	g.Expect(whileDown["list"]+whileDown["watch"]).To(BeNumerically("<=", informers),
		"lists and watches sent while the API server was down, %d informers: %v", informers, downPaths)
	g.Expect(whileDown["readyz"]).To(BeNumerically("<=", int(outageLength/outage.ProbeInterval)+1))
	// After its return, each informer relists at most once.
	afterReturn, afterPaths := requests.count(up, right)
	t.Logf("from the restart until right: %v, lists and watches by path: %v", afterReturn, afterPaths)
	g.Expect(afterReturn["list"]).To(BeNumerically("<=", informers), "lists after the return: %v", afterPaths)
}
