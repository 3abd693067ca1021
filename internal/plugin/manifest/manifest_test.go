package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// brief is an object as the tables write it: file:line#document kind namespace/name.
func brief(o Object) string {
	return fmt.Sprintf("%s:%d#%d %s %s/%s", filepath.Base(o.Source.File), o.Source.Line, o.Source.Document, o.GetKind(), o.GetNamespace(), o.GetName())
}

func briefs(objects []Object) []string {
	var out []string
	for _, o := range objects {
		out = append(out, brief(o))
	}
	return out
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadStreams(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"one document", "kind: Pod\napiVersion: v1\nmetadata: {name: a}\n",
			[]string{"STDIN:1#1 Pod default/a"}},
		{"several documents, comments and empty ones skipped, lines of the content",
			"# a comment\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\n---   # trailing comment\n\n# lead\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n---\n---\n",
			[]string{"STDIN:3#1 Pod x/a", "STDIN:9#2 Pod default/b"}},
		{"a List", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- {apiVersion: v1, kind: Service, metadata: {name: b, namespace: ns-b}}\n",
			[]string{"STDIN:1#1 Pod default/a", "STDIN:1#1 Service ns-b/b"}},
		{"a typed list kind", "apiVersion: v1\nkind: PodList\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n",
			[]string{"STDIN:1#1 Pod default/a"}},
		{"a JSON stream", "\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}\n\n  {\"apiVersion\": \"v1\",\n \"kind\": \"Pod\", \"metadata\": {\"name\": \"b\"}}",
			[]string{"STDIN:2#1 Pod default/a", "STDIN:4#2 Pod default/b"}},
		{"CRLF line ends", "apiVersion: v1\r\nkind: Pod\r\nmetadata: {name: a}\r\n---\r\napiVersion: v1\r\nkind: Pod\r\nmetadata: {name: b}\r\n",
			[]string{"STDIN:1#1 Pod default/a", "STDIN:5#2 Pod default/b"}},
		{"cluster-scoped kinds get no namespace", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n",
			[]string{"STDIN:1#1 Namespace /shop", "STDIN:5#2 ClusterRole /r"}},
		{"nothing at all", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects, err := Read([]string{Stdin}, strings.NewReader(tt.input), "default")
			if err != nil {
				t.Fatal(err)
			}
			if got := briefs(objects); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadErrorsNameTheFileAndDocument(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"bad YAML", "kind: Pod\napiVersion: v1\nmetadata: {name: a}\n---\nkind: [\n", "STDIN: document 2 (line 5): "},
		{"no kind", "apiVersion: v1\nmetadata: {name: a}\n", "STDIN: document 1 (line 1): Object 'Kind' is missing"},
		{"a bad separator", "kind: Pod\n--- junk\n", "STDIN: line 2: invalid YAML document separator: junk"},
		{"bad JSON", "{\"kind\": \"Pod\",\n \"apiVersion\": }", "STDIN: line 1: invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read([]string{Stdin}, strings.NewReader(tt.input), "default")
			var readErr *Error
			if !errors.As(err, &readErr) {
				t.Fatalf("want a *manifest.Error, got %v", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with %q", err, tt.want)
			}
		})
	}
}

func TestReadDirectoriesRecursively(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n")
	write(t, dir, "a/deep/c.yml", "apiVersion: v1\nkind: Pod\nmetadata: {name: c}\n")
	write(t, dir, "a/d.json", `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d"}}`)
	write(t, dir, "a/README.md", "not a manifest: kind: [")
	single := write(t, t.TempDir(), "e.txt", "apiVersion: v1\nkind: Pod\nmetadata: {name: e}\n")
	objects, err := Read([]string{dir, single, Stdin}, strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: f}\n"), "ns")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"d.json:1#1 Pod ns/d", "c.yml:1#1 Pod ns/c", "b.yaml:1#1 Pod ns/b", "e.txt:1#1 Pod ns/e", "STDIN:1#1 Pod ns/f"}
	if got := briefs(objects); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadMissingFile(t *testing.T) {
	_, err := Read([]string{"does/not/exist.yaml"}, nil, "default")
	if err == nil || err.Error() != "does/not/exist.yaml: no such file or directory" {
		t.Errorf("got %v", err)
	}
}

func TestSourceString(t *testing.T) {
	if got := (Source{File: "a.yaml", Document: 2, Line: 7}).String(); got != "a.yaml:7 (document 2)" {
		t.Errorf("got %q", got)
	}
}

// A document at the 1.5 MiB object size limit (and past it) is read whole.
func TestReadLargeDocument(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n")
	for i := 0; b.Len() < 3<<20/2+1024; i++ {
		fmt.Fprintf(&b, "  k%d: %s\n", i, strings.Repeat("x", 1000))
	}
	objects, err := Read([]string{Stdin}, strings.NewReader(b.String()), "default")
	if err != nil {
		t.Fatal(err)
	}
	if len(objects) != 1 || objects[0].GetName() != "big" {
		t.Errorf("got %v", briefs(objects))
	}
}
