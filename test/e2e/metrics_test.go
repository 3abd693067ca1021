//go:build e2e

package e2e

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/utils/ptr"
)

// httpClient talks to the manager's endpoints through a port-forward. The
// metrics endpoint serves the self-signed certificate the manager makes at
// start (none is configured as shipped), so the chain is not verified: what
// is tested is who may read it, not the certificate.
var httpClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // see above
}

// forwardPort forwards a port of 127.0.0.1 through the API server to a port
// of pod, as `kubectl port-forward` does, and returns the local address. It
// reaches the manager the same way on kind and on the local node, and sends
// nothing to pod IPs. stop ends the forwarding.
func forwardPort(pod *corev1.Pod, port int32) (addr string, stop func(), err error) {
	transport, upgrader, err := spdy.RoundTripperFor(restConfig)
	if err != nil {
		return "", nil, err
	}
	url := clientset.CoreV1().RESTClient().Post().Resource("pods").
		Namespace(pod.Namespace).Name(pod.Name).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	stopCh, readyCh := make(chan struct{}), make(chan struct{})
	forwarder, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", port)},
		stopCh, readyCh, io.Discard, GinkgoWriter)
	if err != nil {
		return "", nil, err
	}
	done := make(chan error, 1)
	go func() { done <- forwarder.ForwardPorts() }()
	select {
	case <-readyCh:
	case err := <-done:
		return "", nil, fmt.Errorf("port-forward to %s/%s:%d: %w", pod.Namespace, pod.Name, port, err)
	}
	ports, err := forwarder.GetPorts()
	if err != nil {
		close(stopCh)
		return "", nil, err
	}
	return "127.0.0.1:" + strconv.Itoa(int(ports[0].Local)), func() { close(stopCh) }, nil
}

// getFromPod sends one GET to a port of pod through a port-forward, with the
// bearer token unless it is empty, and returns the status code and body.
func getFromPod(g Gomega, pod *corev1.Pod, port int32, url, token string) (int, string) {
	addr, stop, err := forwardPort(pod, port)
	g.Expect(err).NotTo(HaveOccurred())
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf(url, addr), nil)
	g.Expect(err).NotTo(HaveOccurred())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body)
}

// scrapeStatus returns the status code of a scrape of a manager pod's
// metrics endpoint with token ("" for none).
func scrapeStatus(g Gomega, pod *corev1.Pod, token string) int {
	code, _ := getFromPod(g, pod, containerPort(g, pod, metricsPortName), "https://%s/metrics", token)
	return code
}

// scrape reads every metric a manager pod exposes, as a scraper holding token does.
func scrape(g Gomega, pod *corev1.Pod, token string) map[string]*dto.MetricFamily {
	code, body := getFromPod(g, pod, containerPort(g, pod, metricsPortName), "https://%s/metrics", token)
	g.Expect(code).To(Equal(http.StatusOK), "scraping %s: %s", pod.Name, body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewBufferString(body))
	g.Expect(err).NotTo(HaveOccurred())
	return families
}

// sample adds up the series of a gauge or counter whose labels include the
// given ones, and prints the sum, or "absent" when there is no such series.
func sample(families map[string]*dto.MetricFamily, name string, labels map[string]string) string {
	sum, found := 0.0, false
	for _, m := range families[name].GetMetric() {
		if hasLabels(m, labels) {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
			found = true
		}
	}
	if !found {
		return "absent"
	}
	return strconv.FormatFloat(sum, 'g', -1, 64)
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	matched := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			matched++
		}
	}
	return matched == len(want)
}

// groupGauge returns a function that reads one gauge of one group from the
// manager's metrics endpoint, for Eventually.
func groupGauge(name, namespace, group, token string) func(Gomega) string {
	return func(g Gomega) string {
		pod := theManagerPod(g)
		return sample(scrape(g, &pod, token), name, map[string]string{"namespace": namespace, "labelgroup": group})
	}
}

// newServiceAccount creates a ServiceAccount and returns a token of it, from
// the TokenRequest API, as a pod of it would get.
func newServiceAccount(namespace, name string) string {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	ExpectWithOffset(1, k8sClient.Create(ctx, sa)).To(Succeed())
	request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	token, err := clientset.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, request, metav1.CreateOptions{})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return token.Status.Token
}

// newMetricsScraper creates a ServiceAccount bound to the shipped
// metrics-reader ClusterRole, as the README tells Prometheus users to do,
// and returns its token once the API server authorizes it to get /metrics.
func newMetricsScraper(namespace string) string {
	token := newServiceAccount(namespace, "scraper")
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: namespace + "-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: metricsReaderRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: "scraper"}},
	}
	ExpectWithOffset(1, k8sClient.Create(ctx, binding)).To(Succeed())
	DeferCleanup(func() { Expect(k8sClient.Delete(ctx, binding)).To(Succeed()) })
	// The manager caches a denial for 30 s: ask only once the binding is in force.
	EventuallyWithOffset(1, func(g Gomega) bool {
		review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:                  "system:serviceaccount:" + namespace + ":scraper",
			Groups:                []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace},
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: "/metrics", Verb: "get"},
		}}
		g.Expect(k8sClient.Create(ctx, review)).To(Succeed())
		return review.Status.Allowed
	}).Should(BeTrue(), "the scraper may get /metrics")
	return token
}
