package argocd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// healthTests is the shape of Argo CD's health_test.yaml.
type healthTests struct {
	Tests []struct {
		HealthStatus HealthStatus `json:"healthStatus"`
		InputPath    string       `json:"inputPath"`
	} `json:"tests"`
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHealthCases runs every case of health_test.yaml, as Argo CD's own test
// of resource_customizations does.
func TestHealthCases(t *testing.T) {
	dir := filepath.Dir(HealthScript())
	script := string(readFile(t, HealthScript()))
	var cases healthTests
	if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(dir, "health_test.yaml")), &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases.Tests) == 0 {
		t.Fatal("health_test.yaml has no tests")
	}
	testdata, err := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, tc := range cases.Tests {
		t.Run(tc.InputPath, func(t *testing.T) {
			used[filepath.Join(dir, tc.InputPath)] = true
			var obj map[string]any
			if err := yaml.Unmarshal(readFile(t, filepath.Join(dir, tc.InputPath)), &obj); err != nil {
				t.Fatal(err)
			}
			got, err := Health(script, obj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.HealthStatus {
				t.Errorf("health = %+v, want %+v", got, tc.HealthStatus)
			}
		})
	}
	for _, path := range testdata {
		if !used[path] {
			t.Errorf("%s is in no case of health_test.yaml", path)
		}
	}
}

// TestHealthNeedsNoStringOrMathLibrary: the check runs without the libraries
// argocd-cm scripts lack, so a call into one fails here as it would there.
func TestHealthNeedsNoStringOrMathLibrary(t *testing.T) {
	for _, script := range []string{`return {status = string.upper("healthy")}`, `return {status = tostring(math.floor(1))}`} {
		if _, err := Health(script, map[string]any{}); err == nil {
			t.Errorf("%s ran although string and math are not loaded", script)
		}
	}
}

// TestReadmeSnippetIsTheHealthCheck: the argocd-cm snippet in the README holds
// exactly config/argocd's health.lua.
func TestReadmeSnippetIsTheHealthCheck(t *testing.T) {
	readme := string(readFile(t, filepath.Join(filepath.Dir(HealthScript()), "..", "..", "..", "..", "..", "README.md")))
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(readme, -1)
	const key = "resource.customizations.health.grouping.labelgroup.io_LabelGroup"
	var found []string
	for _, block := range blocks {
		if !strings.Contains(block[1], key) {
			continue
		}
		var cm corev1.ConfigMap
		if err := yaml.UnmarshalStrict([]byte(block[1]), &cm); err != nil {
			t.Fatalf("the README's argocd-cm snippet does not parse: %v", err)
		}
		if cm.Name != "argocd-cm" {
			t.Errorf("the README's snippet is the ConfigMap %q, want argocd-cm", cm.Name)
		}
		found = append(found, cm.Data[key])
	}
	if len(found) != 1 {
		t.Fatalf("the README has %d argocd-cm snippets with %s, want 1", len(found), key)
	}
	if want := string(readFile(t, HealthScript())); found[0] != want {
		t.Errorf("the README's snippet differs from health.lua:\n%s\nwant:\n%s", found[0], want)
	}
}
