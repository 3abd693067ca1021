{{/* Names stay within 63 characters: the longest suffix, -controller-manager-metrics-service, has 35. */}}
{{/* The release's base name: the release name, prefixed with the chart's unless it contains it. */}}
{{- define "labelgroup-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 28 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 28 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Recommended labels of every object; pass (dict "root" $ "component" "x"). */}}
{{- define "labelgroup-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: {{ .root.Chart.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/* The manager's pods, as the Deployment, Service, ServiceMonitor and PDB select them. */}}
{{- define "labelgroup-operator.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "labelgroup-operator.serviceAccountName" -}}
{{ include "labelgroup-operator.fullname" . }}-controller-manager
{{- end -}}

{{/* How many manager replicas run. */}}
{{- define "labelgroup-operator.replicas" -}}
{{- if and .Values.ha.enabled (lt (int .Values.replicas) 2) -}}2{{- else -}}{{ int .Values.replicas }}{{- end -}}
{{- end -}}
