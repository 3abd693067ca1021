package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

const committed = "../../config/grafana/labelgroup-operator.json"

func TestCommittedDashboardIsGenerated(t *testing.T) {
	want, err := dashboardJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what hack/dashboard makes: run make manifests", committed)
	}
}

// TestDashboardShape decodes the committed dashboard strictly into the SDK's
// types (an unknown or mistyped field fails) and checks what the README
// promises: the panels, each with Prometheus queries on the $job the
// variables pick, the namespace and labelgroup variables, and the overlap
// alert as an annotation.
func TestDashboardShape(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	raw, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStrict(raw); err != nil {
		t.Fatalf("%s does not decode strictly into the Grafana Foundation SDK's types: %v", committed, err)
	}
	var d dashboard.Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}

	wantPanels := map[string]string{
		"Overlapping groups by namespace":  "labelgroup_overlapping",
		"Top overlapping groups":           "labelgroup_overlaps",
		"Members per group":                "labelgroup_members",
		"Status write errors by reason":    "labelgroup_status_write_errors_total",
		"Reconcile rate":                   "controller_runtime_reconcile_total",
		"Reconcile latency":                "controller_runtime_reconcile_time_seconds_bucket",
		"Workqueue depth":                  "workqueue_depth",
		"Manager memory against its limit": "process_resident_memory_bytes",
	}
	ids := map[uint32]bool{}
	for _, p := range d.Panels {
		if p.Panel == nil {
			continue
		}
		title := ""
		if p.Panel.Title != nil {
			title = *p.Panel.Title
		}
		metric, ok := wantPanels[title]
		if !ok {
			t.Errorf("panel %q: not one the README describes", title)
			continue
		}
		delete(wantPanels, title)
		if p.Panel.Id == nil || ids[*p.Panel.Id] {
			t.Errorf("panel %q: id missing or not unique", title)
		} else {
			ids[*p.Panel.Id] = true
		}
		if p.Panel.Datasource == nil || p.Panel.Datasource.Uid == nil || *p.Panel.Datasource.Uid != "${datasource}" {
			t.Errorf("panel %q: datasource is not the dashboard's ${datasource} variable", title)
		}
		if len(p.Panel.Targets) == 0 {
			t.Errorf("panel %q: no query", title)
		}
		uses := false
		for _, target := range p.Panel.Targets {
			q, ok := target.(*prometheus.Dataquery)
			if !ok {
				t.Errorf("panel %q: query %T is not a Prometheus query", title, target)
				continue
			}
			if !strings.Contains(q.Expr, `job=~"$job"`) {
				t.Errorf("panel %q: query %q does not select the operator's $job", title, q.Expr)
			}
			uses = uses || strings.Contains(q.Expr, metric+"{")
		}
		if !uses {
			t.Errorf("panel %q: no query reads %s", title, metric)
		}
	}
	for title := range wantPanels {
		t.Errorf("panel %q is missing", title)
	}

	variables := map[string]dashboard.VariableModel{}
	for _, v := range d.Templating.List {
		variables[v.Name] = v
	}
	for _, name := range []string{"namespace", "labelgroup"} {
		v, ok := variables[name]
		switch {
		case !ok:
			t.Errorf("variable %s is missing", name)
		case v.Type != "query" || v.Multi == nil || !*v.Multi || v.IncludeAll == nil || !*v.IncludeAll:
			t.Errorf("variable %s: want a multi-value query variable with All", name)
		}
	}
	if v, ok := variables["datasource"]; !ok || v.Type != "datasource" {
		t.Error("variable datasource (a Prometheus data source picker) is missing")
	}

	found := false
	for _, a := range d.Annotations.List {
		if a.Expr != nil && strings.Contains(*a.Expr, `alertname="LabelGroupOverlapping"`) {
			found = true
		}
	}
	if !found {
		t.Error("no annotation shows the LabelGroupOverlapping alert")
	}
	rules, err := os.ReadFile("../../config/prometheus/prometheus_rule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(rules, []byte("alert: LabelGroupOverlapping")) {
		t.Error("config/prometheus has no LabelGroupOverlapping alert for the annotation to show")
	}
}

// strictError is err, or nil when err is an empty cog.BuildErrors: v0.0.22's
// UnmarshalJSONStrict returns its error list as an error even when it is empty.
func strictError(err error) error {
	var errs cog.BuildErrors
	if errors.As(err, &errs) && len(errs) == 0 {
		return nil
	}
	return err
}

// checkStrict decodes a dashboard with the SDK's UnmarshalJSONStrict, which
// fails on an unknown, missing or mistyped field, panel by panel. It only
// checks: in v0.0.22 a strict decoder that met no error still returns
// strictError's empty list, and its callers then leave the field unset.
func checkStrict(raw []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	var panels []json.RawMessage
	if err := json.Unmarshal(fields["panels"], &panels); err != nil {
		return fmt.Errorf("panels: %w", err)
	}
	delete(fields, "panels")
	rest, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	var d dashboard.Dashboard
	if err := strictError(d.UnmarshalJSONStrict(rest)); err != nil {
		return err
	}
	for i, raw := range panels {
		var kind struct{ Type string }
		if err := json.Unmarshal(raw, &kind); err != nil {
			return fmt.Errorf("panels[%d]: %w", i, err)
		}
		if kind.Type == "row" {
			err = (&dashboard.RowPanel{}).UnmarshalJSONStrict(raw)
		} else {
			err = (&dashboard.Panel{}).UnmarshalJSONStrict(raw)
		}
		if err := strictError(err); err != nil {
			return fmt.Errorf("panels[%d]: %w", i, err)
		}
	}
	return nil
}
