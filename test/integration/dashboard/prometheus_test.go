package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"

	"github.com/labelgroup/labelgroup-operator/test/integration/testenv"
)

// scrapeJob is the job name the test Prometheus scrapes the manager under; the
// dashboard's $job variable picks it.
const scrapeJob = "labelgroup-operator"

// prometheusServer is a Prometheus (Debian's prometheus package, which make
// test installs with promtool) listening on a loopback port, with its storage
// in a temporary folder.
type prometheusServer struct {
	URL string
	cmd *exec.Cmd
}

// startPrometheus starts Prometheus scraping target (host:port, plain HTTP)
// every second with the metric's own labels kept, as the chart's
// ServiceMonitor does (honorLabels: true), and evaluating the alert rules of
// config/prometheus every second. The LabelGroupOverlapping rule's `for` is
// cut to 0s so that the alert fires within the test. It is stopped when the
// suite ends.
func startPrometheus(target string) *prometheusServer {
	binary, err := exec.LookPath("prometheus")
	Expect(err).NotTo(HaveOccurred(), "no prometheus on PATH: make promtool installs Debian's prometheus package")
	dir := GinkgoT().TempDir()
	writeRules(filepath.Join(dir, "rules.yaml"))
	config := map[string]any{
		"global":     map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"},
		"rule_files": []string{filepath.Join(dir, "rules.yaml")},
		"scrape_configs": []any{map[string]any{
			"job_name":       scrapeJob,
			"honor_labels":   true,
			"static_configs": []any{map[string]any{"targets": []string{target}}},
		}},
	}
	raw, err := yaml.Marshal(config)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(dir, "prometheus.yml"), raw, 0o644)).To(Succeed())

	listen := testenv.FreeLocalAddress()
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	Expect(err).NotTo(HaveOccurred())
	cmd := exec.Command(binary,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen,
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = log, log
	Expect(cmd.Start()).To(Succeed())
	p := &prometheusServer{URL: "http://" + listen, cmd: cmd}
	DeferCleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = log.Close()
		if CurrentSpecReport().Failed() {
			out, _ := os.ReadFile(log.Name())
			AddReportEntry("prometheus log", string(out))
		}
	})
	Eventually(func() error {
		resp, err := http.Get(p.URL + "/-/ready")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	}, 30*time.Second, 200*time.Millisecond).Should(Succeed())
	return p
}

// writeRules writes the rule groups of config/prometheus/prometheus_rule.yaml
// as a Prometheus rule file.
func writeRules(path string) {
	raw, err := os.ReadFile(repoPath("config", "prometheus", "prometheus_rule.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var rule monitoringv1.PrometheusRule
	Expect(yaml.UnmarshalStrict(raw, &rule)).To(Succeed())
	found := false
	for _, group := range rule.Spec.Groups {
		for i := range group.Rules {
			if group.Rules[i].Alert == "LabelGroupOverlapping" {
				zero := monitoringv1.Duration("0s")
				group.Rules[i].For = &zero
				found = true
			}
		}
	}
	Expect(found).To(BeTrue(), "config/prometheus has no LabelGroupOverlapping alert")
	out, err := yaml.Marshal(map[string]any{"groups": rule.Spec.Groups})
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(path, out, 0o644)).To(Succeed())
}

// sample is one series of an instant query's answer.
type sample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant PromQL query through Prometheus's HTTP API.
func (p *prometheusServer) query(expr string) ([]sample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.get("/api/v1/query?"+url.Values{"query": {expr}}.Encode(), &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %s, want vector", data.ResultType)
	}
	samples := make([]sample, 0, len(data.Result))
	for _, r := range data.Result {
		text, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, err
		}
		samples = append(samples, sample{Metric: r.Metric, Value: v})
	}
	return samples, nil
}

// labelValues lists the values of label on the series that match selector.
func (p *prometheusServer) labelValues(label, selector string) ([]string, error) {
	var values []string
	err := p.get("/api/v1/label/"+url.PathEscape(label)+"/values?"+url.Values{"match[]": {selector}}.Encode(), &values)
	return values, err
}

func (p *prometheusServer) get(path string, data any) error {
	resp, err := http.Get(p.URL + path)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var answer struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("%s: %s: %w", path, resp.Status, err)
	}
	if answer.Status != "success" {
		return errors.New(path + ": " + answer.Error)
	}
	return json.Unmarshal(answer.Data, data)
}
