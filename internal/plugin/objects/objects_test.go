package objects

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestWhoSelects(t *testing.T) {
	objs := []*unstructured.Unstructured{
		obj(t, `{apiVersion: grouping.labelgroup.io/v1alpha1, kind: LabelGroup, metadata: {name: frontend}, spec: {selector: {matchLabels: {tier: frontend}}}}`),
		obj(t, `{apiVersion: grouping.labelgroup.io/v1alpha1, kind: LabelGroup, metadata: {name: all}, spec: {selector: {}}}`),
		obj(t, `{apiVersion: grouping.labelgroup.io/v1alpha1, kind: LabelGroup, metadata: {name: not-canary}, spec: {selector: {matchExpressions: [{key: track, operator: NotIn, values: [canary]}]}}}`),
		obj(t, `{apiVersion: grouping.labelgroup.io/v1alpha1, kind: LabelGroup, metadata: {name: backend}, spec: {selector: {matchLabels: {tier: backend}}}}`),
		obj(t, `{apiVersion: grouping.labelgroup.io/v1alpha1, kind: LabelGroup, metadata: {name: broken}, spec: {selector: {matchLabels: {tier: "-"}}}}`),
		obj(t, `{apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {tier: frontend}}}`),
		obj(t, `{apiVersion: v1, kind: Service, metadata: {name: headless}, spec: {}}`),
		obj(t, `{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: web}, spec: {selector: {matchExpressions: [{key: tier, operator: In, values: [frontend, api]}]}}}`),
		obj(t, `{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: every}, spec: {selector: {}}}`),
		obj(t, `{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {name: none}, spec: {}}`),
		obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: tier}, data: {tier: frontend}}`),
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"a frontend pod", map[string]string{"tier": "frontend"},
			"LabelGroup/all={} LabelGroup/frontend=tier=frontend LabelGroup/not-canary=track notin (canary) Service/web=tier=frontend PodDisruptionBudget/every={} PodDisruptionBudget/web=tier in (api,frontend)"},
		{"a canary backend pod", map[string]string{"tier": "backend", "track": "canary"},
			"LabelGroup/all={} LabelGroup/backend=tier=backend PodDisruptionBudget/every={}"},
		{"a pod with no labels", nil,
			"LabelGroup/all={} LabelGroup/not-canary=track notin (canary) PodDisruptionBudget/every={}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range WhoSelects(tt.labels, objs) {
				sel := s.Selector
				if sel == "" {
					sel = "{}"
				}
				got = append(got, s.Kind+"/"+s.Name+"="+sel)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, " "), tt.want)
			}
		})
	}
}

func TestWorkloadOf(t *testing.T) {
	tests := []struct {
		doc, want string
	}{
		{`{apiVersion: v1, kind: Pod, metadata: {name: p, labels: {a: x}}}`, "Pod p's labels a=x"},
		{`{apiVersion: apps/v1, kind: Deployment, metadata: {name: d, labels: {ignored: y}}, spec: {template: {metadata: {labels: {a: x}}}}}`, "Deployment d's pods a=x"},
		{`{apiVersion: batch/v1, kind: CronJob, metadata: {name: c}, spec: {jobTemplate: {spec: {template: {metadata: {labels: {a: x}}}}}}}`, "CronJob c's pods a=x"},
		{`{apiVersion: v1, kind: ReplicationController, metadata: {name: r}, spec: {template: {metadata: {labels: {a: x}}}}}`, "ReplicationController r's pods a=x"},
		{`{apiVersion: v1, kind: Service, metadata: {name: s}}`, ""},
		{`{apiVersion: example.com/v1, kind: Deployment, metadata: {name: d}}`, ""},
	}
	for _, tt := range tests {
		w, ok := WorkloadOf(obj(t, tt.doc))
		got := ""
		if ok {
			desc := w.Pods()
			if w.Kind == "Pod" {
				desc = "Pod " + w.Name + "'s labels"
			}
			got = desc + " " + labelsString(w.PodLabels)
		}
		if got != tt.want {
			t.Errorf("WorkloadOf(%s) = %q, want %q", tt.doc, got, tt.want)
		}
	}
}

func labelsString(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func TestKindOf(t *testing.T) {
	for resource, want := range map[string]string{
		"pod": "Pod", "po": "Pod", "pods": "Pod", "Pod": "Pod",
		"deployment": "Deployment.apps", "deploy": "Deployment.apps", "deployments": "Deployment.apps",
		"sts": "StatefulSet.apps", "ds": "DaemonSet.apps", "rs": "ReplicaSet.apps",
		"job": "Job.batch", "cj": "CronJob.batch", "cronjobs": "CronJob.batch", "rc": "ReplicationController",
	} {
		gk, ok := KindOf(resource)
		if !ok || gk.String() != want {
			t.Errorf("KindOf(%q) = %v, %v; want %s", resource, gk, ok, want)
		}
	}
	for _, resource := range []string{"service", "svc", "configmap", ""} {
		if gk, ok := KindOf(resource); ok {
			t.Errorf("KindOf(%q) = %v, want none", resource, gk)
		}
	}
}
