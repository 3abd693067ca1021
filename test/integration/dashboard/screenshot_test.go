package dashboard

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// screenshotEnv names the PNG file make dashboard-screenshot asks for; the
// README shows it. Without it the suite takes no picture.
const screenshotEnv = "DASHBOARD_SCREENSHOT"

// screenshot has headless Chromium (Debian's chromium) render Prometheus's
// graph page of expr over the last rangeInput into file.
func screenshot(file, expr, rangeInput string) {
	browser, err := exec.LookPath("chromium")
	Expect(err).NotTo(HaveOccurred(), "no chromium on PATH: make dashboard-screenshot installs Debian's chromium")
	page := prom.URL + "/graph?" + url.Values{
		"g0.expr":        {expr},
		"g0.tab":         {"0"},
		"g0.range_input": {rangeInput},
	}.Encode()
	cmd := exec.Command(browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+GinkgoT().TempDir(),
		"--hide-scrollbars", "--window-size=1280,1040",
		// Virtual time lets the page's scripts run its query and draw.
		"--virtual-time-budget=10000",
		"--screenshot="+file, page)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "%s\n%s", cmd, out)
	info, err := os.Stat(file)
	Expect(err).NotTo(HaveOccurred(), "chromium wrote no screenshot:\n%s", out)
	Expect(info.Size()).To(BeNumerically(">", 10_000), "a screenshot that small is a blank page")
	GinkgoWriter.Printf("Wrote %s of %s\n", file, page)
}

// overlapPanelQuery is the query of the dashboard's "Overlapping groups by
// namespace" panel.
func overlapPanelQuery() string {
	for _, p := range readDashboard().Panels {
		if p.Title == "Overlapping groups by namespace" {
			return p.Targets[0].Expr
		}
	}
	Fail("the dashboard has no panel \"Overlapping groups by namespace\"")
	return ""
}

// withScreenshot takes the README's picture when make dashboard-screenshot
// asks for one: the overlap panel's query while the groups of the suite's
// namespaces overlap and, a minute in, a third group starts overlapping them.
func withScreenshot(makeOverlap func(), substitute func(string) string) {
	file := os.Getenv(screenshotEnv)
	if file == "" {
		Skip(screenshotEnv + " is unset: no picture (make dashboard-screenshot takes it)")
	}
	Expect(filepath.IsAbs(file)).To(BeTrue(), "%s must be an absolute path", screenshotEnv)
	time.Sleep(time.Minute) // history for the graph, not a wait for a condition
	makeOverlap()
	time.Sleep(time.Minute)
	expr := substitute(overlapPanelQuery())
	Expect(expr).NotTo(ContainSubstring("$"))
	screenshot(file, strings.TrimSpace(expr), fmt.Sprintf("%dm", 3))
}
