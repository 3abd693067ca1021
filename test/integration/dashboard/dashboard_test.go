package dashboard

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/labelgroup/labelgroup-operator/api/v1alpha1"
	"github.com/labelgroup/labelgroup-operator/test/builders"
)

// dashboardFile is what the test reads of the dashboard: every panel's
// queries, the annotations and the variables.
type dashboardFile struct {
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

func readDashboard() dashboardFile {
	raw, err := os.ReadFile(repoPath("config", "grafana", "labelgroup-operator.json"))
	Expect(err).NotTo(HaveOccurred())
	var d dashboardFile
	Expect(json.Unmarshal(raw, &d)).To(Succeed())
	return d
}

// labelValuesQuery is Grafana's label_values(selector, label).
var labelValuesQuery = regexp.MustCompile(`^label_values\((.*), (\w+)\)$`)

// series is a sample written as its labels (those the check cares about) and
// its value, so that a failure shows every series at once.
func series(samples []sample, labels ...string) []string {
	var out []string
	for _, s := range samples {
		var parts []string
		for _, l := range labels {
			parts = append(parts, l+"="+s.Metric[l])
		}
		out = append(out, fmt.Sprintf("%s %g", strings.Join(parts, " "), s.Value))
	}
	return out
}

var _ = Describe("The Grafana dashboard", Ordered, func() {
	var overlapNS, refusedNS string
	var substitute *strings.Replacer

	BeforeAll(func() {
		// overlapNS: web and canary share web-1; db overlaps nothing.
		overlapNS = makeNamespace("overlap-")
		for _, pod := range []*corev1.Pod{
			builders.MakePod("web-0").Namespace(overlapNS).Label("tier", "web").Obj(),
			builders.MakePod("web-1").Namespace(overlapNS).Label("tier", "web").Label("track", "canary").Obj(),
			builders.MakePod("db-0").Namespace(overlapNS).Label("tier", "db").Obj(),
		} {
			Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		}
		for _, g := range []*v1alpha1.LabelGroup{
			builders.MakeGroup("web").Namespace(overlapNS).Label("tier", "web").Obj(),
			builders.MakeGroup("canary").Namespace(overlapNS).Label("track", "canary").Obj(),
			builders.MakeGroup("db").Namespace(overlapNS).Label("tier", "db").Obj(),
		} {
			Expect(k8sClient.Create(ctx, g)).To(Succeed())
		}
		// refusedNS: one group with more members than status may list, whose
		// status the API server refuses (reason Invalid).
		refusedNS = makeNamespace("refused-")
		for i := range v1alpha1.MaxStatusMembers + 1 {
			Expect(k8sClient.Create(ctx, builders.MakePod(fmt.Sprintf("api-%03d", i)).Namespace(refusedNS).Label("tier", "api").Obj())).To(Succeed())
		}
		Expect(k8sClient.Create(ctx, builders.MakeGroup("api").Namespace(refusedNS).Label("tier", "api").Obj())).To(Succeed())

		// The values Grafana puts in: the test's job, both namespaces, every
		// group (All), and a $__rate_interval of a few scrapes.
		substitute = strings.NewReplacer(
			"$job", scrapeJob,
			"$namespace", overlapNS+"|"+refusedNS,
			"$labelgroup", ".*",
			"$__rate_interval", "30s")
	})

	// checks holds, per panel title, what its queries must return, by refId.
	checks := map[string]map[string]func(g Gomega, samples []sample){
		"Overlapping groups by namespace": {"A": func(g Gomega, s []sample) {
			g.Expect(series(s, "namespace")).To(ConsistOf("namespace="+overlapNS+" 2", "namespace="+refusedNS+" 0"))
		}},
		"Top overlapping groups": {"A": func(g Gomega, s []sample) {
			// The overlap panel shows the groups the test made overlap, and
			// only those.
			g.Expect(series(s, "namespace", "labelgroup")).To(ConsistOf(
				"namespace="+overlapNS+" labelgroup=web 1", "namespace="+overlapNS+" labelgroup=canary 1"))
		}},
		"Members per group": {"A": func(g Gomega, s []sample) {
			g.Expect(series(s, "namespace", "labelgroup")).To(ConsistOf(
				"namespace="+overlapNS+" labelgroup=web 2", "namespace="+overlapNS+" labelgroup=canary 1",
				"namespace="+overlapNS+" labelgroup=db 1", fmt.Sprintf("namespace=%s labelgroup=api %d", refusedNS, v1alpha1.MaxStatusMembers+1)))
		}},
		"Status write errors by reason": {"A": func(g Gomega, s []sample) {
			g.Expect(s).To(HaveLen(1))
			g.Expect(s[0].Metric).To(Equal(map[string]string{"namespace": refusedNS, "reason": "Invalid"}))
		}},
		"Reconcile rate": {"A": func(g Gomega, s []sample) {
			g.Expect(s).NotTo(BeEmpty())
			for _, one := range s {
				g.Expect(one.Metric).To(HaveKey("result"))
			}
			g.Expect(series(s, "result")).To(ContainElement(HavePrefix("result=success ")))
		}},
		"Reconcile latency": {
			"A": oneNumber, "B": oneNumber,
		},
		"Workqueue depth": {"A": func(g Gomega, s []sample) {
			g.Expect(series(s, "name")).To(ConsistOf(HavePrefix("name=labelgroup ")))
		}},
		"Manager memory against its limit": {
			"A": func(g Gomega, s []sample) {
				g.Expect(s).To(HaveLen(1))
				g.Expect(s[0].Metric).To(HaveKeyWithValue("instance", metricsAddr))
				g.Expect(s[0].Value).To(BeNumerically(">", 0))
			},
			"B": func(g Gomega, s []sample) {
				g.Expect(s).To(HaveLen(1))
				g.Expect(s[0].Metric).To(HaveKeyWithValue("instance", metricsAddr))
			},
			"C": func(g Gomega, s []sample) {
				g.Expect(s).To(HaveLen(1))
				g.Expect(s[0].Metric).To(HaveKeyWithValue("instance", metricsAddr))
				g.Expect(s[0].Value).To(BeNumerically("==", memoryLimit))
			},
		},
	}

	It("has a query check for each of its panels", func() {
		for _, p := range readDashboard().Panels {
			if p.Type == "row" {
				continue
			}
			Expect(checks).To(HaveKey(p.Title), "panel %q has no check here", p.Title)
			for _, target := range p.Targets {
				Expect(checks[p.Title]).To(HaveKey(target.RefID), "query %s of panel %q has no check here", target.RefID, p.Title)
			}
		}
	})

	It("shows data in every panel", func() {
		for _, p := range readDashboard().Panels {
			for _, target := range p.Targets {
				expr := substitute.Replace(target.Expr)
				Expect(expr).NotTo(ContainSubstring("$"), "panel %q: a variable the test does not fill", p.Title)
				By(fmt.Sprintf("panel %q, query %s: %s", p.Title, target.RefID, expr))
				check := checks[p.Title][target.RefID]
				Eventually(func(g Gomega) {
					samples, err := prom.query(expr)
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(samples).NotTo(BeEmpty(), "the panel would be empty")
					check(g, samples)
				}, time.Minute, time.Second).Should(Succeed(), "panel %q, query %s: %s", p.Title, target.RefID, expr)
			}
		}
	})

	It("marks the overlapping groups with the LabelGroupOverlapping alert", func() {
		annotations := readDashboard().Annotations.List
		Expect(annotations).To(ContainElement(HaveField("Name", "LabelGroupOverlapping")))
		for _, a := range annotations {
			if a.Name != "LabelGroupOverlapping" {
				continue
			}
			expr := substitute.Replace(a.Expr)
			Eventually(func(g Gomega) []string {
				samples, err := prom.query(expr)
				g.Expect(err).NotTo(HaveOccurred())
				return series(samples, "alertname", "namespace", "labelgroup")
			}, time.Minute, time.Second).Should(ConsistOf(
				"alertname=LabelGroupOverlapping namespace="+overlapNS+" labelgroup=web 1",
				"alertname=LabelGroupOverlapping namespace="+overlapNS+" labelgroup=canary 1"))
		}
	})

	It("offers the job, namespaces and groups it shows as variable values", func() {
		want := map[string][]string{
			"job":        {scrapeJob},
			"namespace":  {overlapNS, refusedNS},
			"labelgroup": {"web", "canary", "db", "api"},
		}
		fill := strings.NewReplacer("$job", scrapeJob, "$namespace", overlapNS+"|"+refusedNS)
		for _, v := range readDashboard().Templating.List {
			if v.Type != "query" {
				continue
			}
			Expect(want).To(HaveKey(v.Name), "variable %s has no check here", v.Name)
			m := labelValuesQuery.FindStringSubmatch(v.Query)
			Expect(m).NotTo(BeNil(), "variable %s: %q is not label_values(selector, label)", v.Name, v.Query)
			Eventually(func(g Gomega) []string {
				values, err := prom.labelValues(m[2], fill.Replace(m[1]))
				g.Expect(err).NotTo(HaveOccurred())
				return values
			}, time.Minute, time.Second).Should(ContainElements(want[v.Name]), "variable %s", v.Name)
		}
	})

	// Last: it changes what the panels show.
	It("draws the overlap panel for the README", func() {
		withScreenshot(func() {
			Expect(k8sClient.Create(ctx, builders.MakeGroup("frontend").Namespace(overlapNS).Label("tier", "web").Obj())).To(Succeed())
		}, substitute.Replace)
	})
})

// oneNumber checks that a query without labels answers one number (not NaN:
// reconciles happened in the window).
func oneNumber(g Gomega, s []sample) {
	g.Expect(s).To(HaveLen(1))
	g.Expect(math.IsNaN(s[0].Value)).To(BeFalse(), "NaN: no reconcile in the window")
}

func makeNamespace(prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}
