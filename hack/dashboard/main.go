// Command dashboard writes config/grafana/labelgroup-operator.json, the
// operator's Grafana dashboard, from its definition here in the Grafana
// Foundation SDK's types. make manifests runs it (and make verify fails when
// the committed file differs); the Helm chart ships a copy as a ConfigMap the
// Grafana sidecar of kube-prometheus-stack picks up.
//
// It is a program of its own so that the SDK never enters the manager's or the
// plugin's imports.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

const (
	// uid is stable so that links to the dashboard survive re-imports.
	uid = "labelgroup-operator"
	// controllerName is the name the reconciler registers with
	// controller-runtime (Named("labelgroup")): the controller label of its
	// reconcile metrics and the name label of its workqueue metrics.
	controllerName = "labelgroup"
)

// Selectors every query starts from. job picks the operator's scrape job (with
// the chart's ServiceMonitor, the metrics Service's name); namespace and
// labelgroup are the group's own labels, kept by honorLabels: true.
const (
	groupSelector   = `job=~"$job", namespace=~"$namespace", labelgroup=~"$labelgroup"`
	nsSelector      = `job=~"$job", namespace=~"$namespace"`
	managerSelector = `job=~"$job"`
)

func main() {
	out := flag.String("out", "config/grafana/labelgroup-operator.json", "file to write the dashboard to")
	flag.Parse()
	raw, err := dashboardJSON()
	if err == nil {
		err = os.WriteFile(*out, raw, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

// dashboardJSON is the dashboard as Grafana imports it, indented, with a final
// newline.
func dashboardJSON() ([]byte, error) {
	d, err := build().Build()
	if err != nil {
		return nil, err
	}
	// Ids in layout order: Grafana links to a panel by its id (viewPanel=).
	for i, p := range d.Panels {
		id := uint32(i + 1)
		switch {
		case p.Panel != nil:
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = id
		}
	}
	raw, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(raw, '\n'), nil
}

func build() *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder("LabelGroup operator").
		Uid(uid).
		Description("LabelGroups and their overlaps, and the health of the labelgroup-operator's manager.").
		Tags([]string{"labelgroup-operator", "kubernetes"}).
		Editable().
		Refresh("30s").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus")).
		WithVariable(queryVariable("job", "Job", `label_values(controller_runtime_reconcile_total{controller="`+controllerName+`"}, job)`, false)).
		WithVariable(queryVariable("namespace", "Namespace", `label_values(labelgroup_members{job=~"$job"}, namespace)`, true)).
		WithVariable(queryVariable("labelgroup", "LabelGroup", `label_values(labelgroup_members{job=~"$job", namespace=~"$namespace"}, labelgroup)`, true)).
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name("LabelGroupOverlapping").
			Datasource(datasource()).
			Enable(true).
			IconColor("orange").
			// ALERTS has a series per firing alert of the rules Prometheus
			// evaluates: config/prometheus/prometheus_rule.yaml's.
			Expr(`ALERTS{alertname="LabelGroupOverlapping", alertstate="firing", namespace=~"$namespace", labelgroup=~"$labelgroup"}`).
			TitleFormat("{{namespace}}/{{labelgroup}} overlaps another group").
			TagKeys("namespace,labelgroup").
			Step("60s")).
		WithRow(dashboard.NewRowBuilder("Groups")).
		WithPanel(timeseriesPanel().
			Title("Overlapping groups by namespace").
			Description("LabelGroups that another group of their namespace overlaps under its overlapPolicy (labelgroup_overlapping). The LabelGroupOverlapping alert fires for each after 5 minutes.").
			Span(12).Height(8).
			Unit("short").Min(0).Decimals(0).
			Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeTable).Placement(common.LegendPlacementRight).Calcs([]string{"lastNotNull", "max"})).
			// max by (namespace, labelgroup) first: a leader change briefly
			// leaves the old pod's series beside the new one's.
			WithTarget(query(`sum by (namespace) (max by (namespace, labelgroup) (labelgroup_overlapping{`+groupSelector+`}))`, "{{namespace}}"))).
		WithPanel(bargauge.NewPanelBuilder().
			Title("Top overlapping groups").
			Description("The groups with the most other groups overlapping them (labelgroup_overlaps), now. Their Overlapping condition names those groups and the pods they share.").
			Datasource(datasource()).
			Span(12).Height(8).
			Unit("short").Min(0).Decimals(0).
			Orientation(common.VizOrientationHorizontal).
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
				{Color: "green"}, {Value: cog.ToPtr(1.0), Color: "orange"}, {Value: cog.ToPtr(5.0), Color: "red"},
			})).
			WithTarget(query(`topk(10, max by (namespace, labelgroup) (labelgroup_overlaps{`+groupSelector+`}) > 0)`, "{{namespace}}/{{labelgroup}}").Instant())).
		WithPanel(table.NewPanelBuilder().
			Title("Members per group").
			Description("Pods each LabelGroup selects (labelgroup_members, the exact count even when status lists fewer names).").
			Datasource(datasource()).
			Span(12).Height(8).
			Footer(common.NewTableFooterOptionsBuilder().Show(true).Reducer([]string{"sum"})).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"renameByName":  map[string]any{"Value": "members"},
			}}).
			WithTarget(query(`sort_desc(max by (namespace, labelgroup) (labelgroup_members{`+groupSelector+`}))`, "").Instant().Format(prometheus.PromQueryFormatTable))).
		WithPanel(timeseriesPanel().
			Title("Status write errors by reason").
			Description("Status writes the API server refused (labelgroup_status_write_errors_total), by namespace and the API server's reason. The LabelGroupStatusWritesFailing alert fires at 3 an hour.").
			Span(12).Height(8).
			Unit("short").Min(0).
			DrawStyle(common.GraphDrawStyleBars).
			WithTarget(query(`sum by (namespace, reason) (increase(labelgroup_status_write_errors_total{`+nsSelector+`}[$__rate_interval]))`, "{{namespace}} {{reason}}"))).
		WithRow(dashboard.NewRowBuilder("Manager")).
		WithPanel(timeseriesPanel().
			Title("Reconcile rate").
			Description("Reconciles of LabelGroups per second, by result (controller_runtime_reconcile_total).").
			Span(8).Height(8).
			Unit("ops").Min(0).
			WithTarget(query(`sum by (result) (rate(controller_runtime_reconcile_total{`+managerSelector+`, controller="`+controllerName+`"}[$__rate_interval]))`, "{{result}}"))).
		WithPanel(timeseriesPanel().
			Title("Reconcile latency").
			Description("How long one reconcile of a LabelGroup takes, 50th and 99th percentile (controller_runtime_reconcile_time_seconds).").
			Span(8).Height(8).
			Unit("s").Min(0).
			WithTarget(query(latencyQuantile("0.5"), "p50")).
			WithTarget(query(latencyQuantile("0.99"), "p99").RefId("B"))).
		WithPanel(timeseriesPanel().
			Title("Workqueue depth").
			Description("LabelGroups waiting to be reconciled (workqueue_depth). A depth that keeps growing means the manager falls behind.").
			Span(8).Height(8).
			Unit("short").Min(0).Decimals(0).
			WithTarget(query(`sum by (name) (workqueue_depth{`+managerSelector+`, name="`+controllerName+`"})`, "{{name}}"))).
		WithPanel(timeseriesPanel().
			Title("Manager memory against its limit").
			Description("Resident memory of each manager pod (process_resident_memory_bytes) against the Go runtime's soft limit (go_gc_gomemlimit_bytes), which the manager sets to 90% of its container's memory limit.").
			Span(24).Height(8).
			Unit("bytes").Min(0).
			WithTarget(query(`process_resident_memory_bytes{`+managerSelector+`}`, "resident {{instance}}")).
			WithTarget(query(`go_memstats_heap_inuse_bytes{`+managerSelector+`}`, "heap in use {{instance}}").RefId("B")).
			// A GOMEMLIMIT left unset reads as math.MaxInt64: not a limit.
			WithTarget(query(`go_gc_gomemlimit_bytes{`+managerSelector+`} < 9e18`, "limit {{instance}}").RefId("C")))
}

func latencyQuantile(q string) string {
	return `histogram_quantile(` + q + `, sum by (le) (rate(controller_runtime_reconcile_time_seconds_bucket{` + managerSelector + `, controller="` + controllerName + `"}[$__rate_interval])))`
}

func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().RefId("A").Expr(expr).Datasource(datasource())
	if legend != "" {
		q = q.LegendFormat(legend)
	}
	return q
}

// queryVariable is a variable whose values Prometheus lists; multi variables
// offer All, which matches every value.
func queryVariable(name, label, values string, multi bool) *dashboard.QueryVariableBuilder {
	v := dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Query(dashboard.StringOrMap{String: cog.ToPtr(values)}).
		Definition(values).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
	if multi {
		v = v.Multi(true).IncludeAll(true).AllValue(".*")
	}
	return v
}

// timeseriesPanel is a time series panel on the dashboard's data source whose
// tooltip lists every series, largest first.
func timeseriesPanel() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Datasource(datasource()).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}
