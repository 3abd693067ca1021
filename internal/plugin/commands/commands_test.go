package commands

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden with the output of this run")

// run runs the plugin's command line on buffers, with stdin as its input.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	in := strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	// No kubeconfig of the machine running the tests may leak in.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	code = Execute(args, genericiooptions.IOStreams{In: in, Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/plugin/commands/ -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update after checking the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const manifests = "testdata/manifests"

func TestLintGolden(t *testing.T) {
	for _, tt := range []struct {
		golden string
		args   []string
		code   int
	}{
		{"lint.txt", []string{"lint", "-f", manifests}, ExitFailure},
		{"lint.json", []string{"lint", "-f", manifests, "-o", "json"}, ExitFailure},
		{"lint.junit.xml", []string{"lint", "-f", manifests, "-o", "junit"}, ExitFailure},
		{"lint-clean.txt", []string{"lint", "-f", manifests + "/nested"}, ExitOK},
		{"lint-clean.json", []string{"lint", "-f", manifests + "/nested", "-o", "json"}, ExitOK},
		{"lint-clean.junit.xml", []string{"lint", "-f", manifests + "/nested", "-o", "junit"}, ExitOK},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if stderr != "" {
				t.Errorf("unexpected stderr: %s", stderr)
			}
			golden(t, tt.golden, stdout)
		})
	}
}

func TestLintExitCodes(t *testing.T) {
	warningsOnly := "testdata/manifests/groups.yaml" // overlap and unsatisfiable warnings, one invalid error
	tests := []struct {
		name      string
		stdin     string
		args      []string
		code      int
		stderrHas string
		stdoutHas string
	}{
		{name: "no findings", args: []string{"lint", "-f", manifests + "/nested"}, code: ExitOK},
		{name: "an error finding", args: []string{"lint", "-f", warningsOnly}, code: ExitFailure, stdoutHas: "error[invalid]"},
		{name: "only warnings pass by default", stdin: overlapOnly, args: []string{"lint", "-f", "-"}, code: ExitOK, stdoutHas: "warning[overlap]"},
		{name: "warnings fail with --fail-on warning", stdin: overlapOnly, args: []string{"lint", "-f", "-", "--fail-on", "warning"}, code: ExitFailure},
		{name: "a missing file", args: []string{"lint", "-f", "testdata/nope.yaml"}, code: ExitUsage, stderrHas: "testdata/nope.yaml: no such file or directory"},
		{name: "unparseable YAML names file and document", stdin: "kind: Pod\n---\nkind: [\n", args: []string{"lint", "-f", "-"}, code: ExitUsage, stderrHas: "STDIN: document 2 (line 3)"},
		{name: "a document without kind", stdin: "metadata: {name: x}\n", args: []string{"lint", "-f", "-"}, code: ExitUsage, stderrHas: "STDIN: document 1 (line 1): Object 'Kind' is missing"},
		{name: "no -f", args: []string{"lint"}, code: ExitUsage, stderrHas: "lint needs at least one -f"},
		{name: "an unknown output", args: []string{"lint", "-f", manifests, "-o", "yaml"}, code: ExitUsage, stderrHas: `unknown output format "yaml"`},
		{name: "an unknown --fail-on", args: []string{"lint", "-f", manifests, "--fail-on", "info"}, code: ExitUsage, stderrHas: `--fail-on: "info" is not a severity`},
		{name: "an unknown flag", args: []string{"lint", "--bogus"}, code: ExitUsage, stderrHas: "unknown flag: --bogus"},
		{name: "an argument", args: []string{"lint", "x.yaml"}, code: ExitUsage, stderrHas: "takes no arguments"},
		{name: "an unknown command", args: []string{"lnit"}, code: ExitUsage, stderrHas: `unknown command "lnit"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stdout: %s; stderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderrHas)
			}
			if !strings.Contains(stdout, tt.stdoutHas) {
				t.Errorf("stdout %q does not contain %q", stdout, tt.stdoutHas)
			}
		})
	}
}

// overlapOnly is a stream, as kustomize build prints it, with two groups
// that share a Deployment's pods: warnings only.
const overlapOnly = `apiVersion: grouping.labelgroup.io/v1alpha1
kind: LabelGroup
metadata: {name: frontend, namespace: shop}
spec: {selector: {matchLabels: {tier: frontend}}}
---
apiVersion: grouping.labelgroup.io/v1alpha1
kind: LabelGroup
metadata: {name: production, namespace: shop}
spec: {selector: {matchLabels: {environment: production}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: frontend, environment: production}}
    spec: {containers: [{name: web, image: nginx}]}
`

func TestLintStdin(t *testing.T) {
	stdout, stderr, code := run(t, overlapOnly, "lint", "-f", "-", "-o", "json")
	if code != ExitOK || stderr != "" {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	golden(t, "lint-stdin.json", stdout)
}

func TestLintNamespaceFlag(t *testing.T) {
	stdin := strings.ReplaceAll(overlapOnly, ", namespace: shop", "")
	stdout, _, _ := run(t, stdin, "lint", "-f", "-", "--namespace", "team-a")
	if !strings.Contains(stdout, "LabelGroup team-a/frontend") {
		t.Errorf("objects without a namespace are not in --namespace team-a:\n%s", stdout)
	}
	stdout, _, _ = run(t, stdin, "lint", "-f", "-")
	if !strings.Contains(stdout, "LabelGroup default/frontend") {
		t.Errorf("objects without a namespace are not in default:\n%s", stdout)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"lint", "--help"}, {"who-selects", "--help"}, {"create", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, _, code := run(t, "", args...)
			if code != ExitOK {
				t.Fatalf("exit code %d", code)
			}
			for _, want := range []string{"kubectl labelgroup", "Examples:", "Exit codes:", "  2  usage error"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("help does not contain %q:\n%s", want, stdout)
				}
			}
		})
	}
}

func TestWhoSelectsOffline(t *testing.T) {
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"who-selects-deployment.txt", []string{"who-selects", "deployment/web", "-f", manifests}},
		{"who-selects-deployment.json", []string{"who-selects", "deploy/web", "-f", manifests, "-o", "json"}},
		{"who-selects-labels.txt", []string{"who-selects", "--labels", "tier=frontend,release=canary", "-f", manifests}},
		{"who-selects-cronjob.txt", []string{"who-selects", "cronjob/report", "-n", "batch", "-f", manifests}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tt.args...)
			if code != ExitOK || stderr != "" {
				t.Fatalf("exit code %d, stderr %q", code, stderr)
			}
			golden(t, tt.golden, stdout)
		})
	}
}

func TestWhoSelectsErrors(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args      []string
		code      int
		stderrHas string
	}{
		{"nothing selects", []string{"who-selects", "--labels", "app=nothing", "-f", manifests}, ExitOK, "No LabelGroup, Service or PodDisruptionBudget in namespace default selects a pod labelled app=nothing"},
		{"no such pod", []string{"who-selects", "pod/ghost", "-f", manifests}, ExitFailure, `pod "ghost" not found in namespace default of testdata/manifests`},
		{"no target", []string{"who-selects", "-f", manifests}, ExitUsage, "needs TYPE/NAME"},
		{"both", []string{"who-selects", "pod/a", "--labels", "a=b"}, ExitUsage, "not both"},
		{"not a pod kind", []string{"who-selects", "service/web"}, ExitUsage, `not "service"`},
		{"not TYPE/NAME", []string{"who-selects", "web"}, ExitUsage, "is not TYPE/NAME"},
		{"bad labels", []string{"who-selects", "--labels", "a in (b)"}, ExitUsage, "--labels"},
		{"bad output", []string{"who-selects", "--labels", "a=b", "-f", manifests, "-o", "yaml"}, ExitUsage, "unknown output format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderrHas)
			}
		})
	}
}

func TestCreateDryRunClient(t *testing.T) {
	selector := "tier=frontend,environment in (production,qa),!canary,track!=beta"
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"create.yaml", []string{"create", "frontend", "--selector", selector, "--dry-run=client", "-o", "yaml", "-n", "shop"}},
		{"create.json", []string{"create", "frontend", "--selector", selector, "--dry-run=client", "-o", "json", "-n", "shop", "--overlap-policy", "Selectors"}},
		{"create.txt", []string{"create", "frontend", "--selector", selector, "--dry-run", "-n", "shop"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tt.args...)
			if code != ExitOK || stderr != "" {
				t.Fatalf("exit code %d, stderr %q", code, stderr)
			}
			golden(t, tt.golden, stdout)
		})
	}
}

func TestCreateRefuses(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args      []string
		stderrHas string
	}{
		{"Gt", []string{"create", "g", "--selector", "replicas>3", "--dry-run=client"}, `"replicas>3": the operator ">" is not supported`},
		{"Lt", []string{"create", "g", "--selector", "tier=web,rank<2", "--dry-run=client"}, `the operator "<" is not supported`},
		{"a syntax error", []string{"create", "g", "--selector", "tier in (web", "--dry-run=client"}, "--selector"},
		{"no selector", []string{"create", "g", "--dry-run=client"}, "--selector is required"},
		{"no name", []string{"create", "--selector", "a=b", "--dry-run=client"}, "exactly one NAME"},
		{"an invalid name", []string{"create", "Web_1", "--selector", "a=b", "--dry-run=client"}, `metadata.name: Invalid value: "Web_1"`},
		{"an unknown policy", []string{"create", "g", "--selector", "a=b", "--overlap-policy", "Pods", "--dry-run=client"}, `spec.overlapPolicy: Unsupported value: "Pods"`},
		{"too many values", []string{"create", "g", "--selector", "a in (" + values(65) + ")", "--dry-run=client"}, "spec.selector.matchExpressions[0].values: Too many: 65: must have at most 64 items"},
		{"a bad --dry-run", []string{"create", "g", "--selector", "a=b", "--dry-run=maybe"}, `--dry-run: "maybe"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tt.args...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d; stdout %q", code, ExitUsage, stdout)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderrHas)
			}
		})
	}
}

func values(n int) string {
	v := make([]string, n)
	for i := range v {
		v[i] = "v" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	return strings.Join(v, ",")
}

// The README's CI step: a rendered stream on stdin, a JUnit report out.
func TestLintStdinJUnit(t *testing.T) {
	stdout, stderr, code := run(t, overlapOnly, "lint", "-f", "-", "-o", "junit", "--fail-on", "warning")
	if code != ExitFailure || stderr != "" {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	golden(t, "lint-stdin.junit.xml", stdout)
}
