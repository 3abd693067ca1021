// Package manifests checks what the project ships, as the tools users run
// render it: kustomize (the library kubectl embeds) for config/, helm (built
// from its Go module by the Makefile, named by $HELM) for charts/labelgroup-operator. Every
// object is decoded strictly into its Go type, including the Prometheus
// Operator's, and checked with promtool and the Pod Security admission's own
// evaluator. No cluster is needed.
package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// object is one rendered manifest: its YAML and the same as unstructured.
type object struct {
	raw []byte
	u   *unstructured.Unstructured
}

func (o object) id() string { return o.u.GetKind() + "/" + o.u.GetName() }

// repoPath returns a path of the repository from its root.
func repoPath(parts ...string) string {
	_, thisFile, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(thisFile), "..", ".."}, parts...)...)
}

// kustomize renders a kustomization of the repository, as `kubectl apply -k` would.
func kustomize(t *testing.T, dir string) []object {
	t.Helper()
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), repoPath(dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return splitYAML(t, out)
}

// helmBinary is the helm the Makefile built (HELM), or fails the test saying how to get one.
func helmBinary(t *testing.T) string {
	t.Helper()
	helm := os.Getenv("HELM")
	if helm == "" {
		t.Fatal("HELM must name a helm binary: run `make test-manifests` (it builds helm into bin/) or set HELM")
	}
	if _, err := os.Stat(helm); err != nil {
		t.Fatalf("HELM=%s: %v (run `make test-manifests`, which builds it)", helm, err)
	}
	return helm
}

// run runs a command and returns its stdout; a failure fails the test with
// its output, unless wantErr, when it returns stdout and stderr and fails if
// it succeeded.
func run(t *testing.T, wantErr bool, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	switch {
	case wantErr && err == nil:
		t.Fatalf("%s %s succeeded; want an error. Output:\n%s", name, strings.Join(args, " "), stdout.String())
	case wantErr:
		return stdout.String() + stderr.String()
	case err != nil:
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// chartRelease and chartNamespace are what the chart is rendered as: the
// names that make its objects' names those of config/default.
const (
	chartRelease   = "labelgroup-operator"
	chartNamespace = "labelgroup-operator-system"
)

// helmTemplate renders charts/labelgroup-operator with the CRDs and the given --set values.
func helmTemplate(t *testing.T, set ...string) []object {
	t.Helper()
	args := []string{"template", chartRelease, repoPath("charts", "labelgroup-operator"), "--namespace", chartNamespace, "--include-crds"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return splitYAML(t, []byte(run(t, false, helmBinary(t), args...)))
}

// splitYAML splits a multi-document stream into objects, skipping empty documents.
func splitYAML(t *testing.T, stream []byte) []object {
	t.Helper()
	var objects []object
	reader := utilyaml.NewYAMLReader(bufioReader(stream))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects
		}
		if err != nil {
			t.Fatalf("reading YAML: %v", err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatalf("parsing YAML: %v\n%s", err, doc)
		}
		if len(u.Object) == 0 {
			continue
		}
		objects = append(objects, object{raw: doc, u: u})
	}
}

// scheme knows every kind the project ships: Kubernetes' own, the CRD and
// the Prometheus Operator's.
var scheme = func() *apiruntime.Scheme {
	s := apiruntime.NewScheme()
	for _, add := range []func(*apiruntime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// decodeStrict decodes o into a new object of its Go type and fails on any
// field that type does not have (a misspelt or misplaced field).
func decodeStrict(o object) (apiruntime.Object, error) {
	typed, err := scheme.New(o.u.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(o.raw, typed); err != nil {
		return nil, err
	}
	return typed, nil
}

// only returns the objects of a kind.
func only(objects []object, kind string) []object {
	var out []object
	for _, o := range objects {
		if o.u.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// one returns the single object of a kind, decoded into T.
func one[T apiruntime.Object](t *testing.T, objects []object, kind string) T {
	t.Helper()
	found := only(objects, kind)
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s; want 1", len(found), kind)
	}
	typed, err := decodeStrict(found[0])
	if err != nil {
		t.Fatalf("%s: %v", found[0].id(), err)
	}
	return typed.(T)
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
