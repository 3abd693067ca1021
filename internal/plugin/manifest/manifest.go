// Package manifest reads Kubernetes objects from what a GitOps repository
// holds: YAML and JSON files, multi-document streams, List kinds, directories
// (recursively) and stdin, remembering for each object the file, document and
// line it came from. YAML becomes JSON with sigs.k8s.io/yaml, as kubectl
// converts it, so every object reads here as it reads to kubectl apply.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// Stdin is the file name that stands for standard input, as in kubectl -f -.
const Stdin = "-"

// StdinName is how objects read from stdin name their file.
const StdinName = "STDIN"

// Source is where an object was read.
type Source struct {
	// File is the path given or found in a directory, or STDIN.
	File string
	// Document is the 1-based index of the document in the file's stream.
	Document int
	// Line is the 1-based line at which the document's content starts.
	Line int
}

// String is file:line (document N), the way editors and CI annotate.
func (s Source) String() string {
	return fmt.Sprintf("%s:%d (document %d)", s.File, s.Line, s.Document)
}

// Object is an object read from a manifest, with where it came from.
type Object struct {
	*unstructured.Unstructured
	Source Source
}

// Error is a file that cannot be read or parsed. Its message names the file
// and, when it is known, the document.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string { return e.File + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Read reads every object of the given files and directories ("-" is
// stdin). Objects without a namespace get namespace, as kubectl gives
// them its --namespace, except the built-in cluster-scoped kinds. The objects of a List come out one by one.
func Read(paths []string, stdin io.Reader, namespace string) ([]Object, error) {
	var objects []Object
	for _, path := range paths {
		if path == Stdin {
			read, err := readStream(StdinName, stdin, namespace)
			if err != nil {
				return nil, err
			}
			objects = append(objects, read...)
			continue
		}
		files, err := expand(path)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			f, err := os.Open(file)
			if err != nil {
				return nil, &Error{File: file, Err: errors.Unwrap(err)}
			}
			read, err := readStream(file, f, namespace)
			f.Close()
			if err != nil {
				return nil, err
			}
			objects = append(objects, read...)
		}
	}
	return objects, nil
}

// manifestExtensions are the file extensions a directory is searched for, as
// kubectl -f DIR does.
var manifestExtensions = []string{".yaml", ".yml", ".json"}

// expand returns path if it is a file, and every manifest file under it, in
// lexical order, if it is a directory.
func expand(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Err: errors.Unwrap(err)}
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &Error{File: p, Err: errors.Unwrap(err)}
		}
		if !d.IsDir() && hasManifestExtension(p) {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}

func hasManifestExtension(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range manifestExtensions {
		if ext == e {
			return true
		}
	}
	return false
}

// document is one document of a stream, as JSON, with where it starts.
type document struct {
	json []byte
	line int
}

// readStream reads the objects of one file.
func readStream(file string, r io.Reader, namespace string) ([]Object, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{File: file, Err: err}
	}
	var docs []document
	if isJSON(data) {
		docs, err = splitJSON(data)
	} else {
		docs, err = splitYAML(data)
	}
	if err != nil {
		return nil, &Error{File: file, Err: err}
	}
	var objects []Object
	for i, doc := range docs {
		src := Source{File: file, Document: i + 1, Line: doc.line}
		read, err := decode(doc.json, src, namespace)
		if err != nil {
			return nil, &Error{File: file, Err: fmt.Errorf("document %d (line %d): %w", src.Document, src.Line, err)}
		}
		objects = append(objects, read...)
	}
	return objects, nil
}

// isJSON reports whether data starts, after white space, with '{', as
// apimachinery's YAMLOrJSONDecoder decides.
func isJSON(data []byte) bool {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// splitJSON splits a stream of JSON objects.
func splitJSON(data []byte) ([]document, error) {
	var docs []document
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return docs, nil
		} else if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineAt(data, int(start)), err)
		}
		offset := int(start) + len(data[start:]) - len(bytes.TrimLeft(data[start:], " \t\r\n"))
		docs = append(docs, document{json: raw, line: lineAt(data, offset)})
	}
}

func lineAt(data []byte, offset int) int {
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// splitYAML splits a YAML stream at the lines apimachinery's YAMLReader
// splits it at (a line starting "---" followed by nothing but a comment),
// converts each document to JSON as kubectl does, and drops empty ones.
func splitYAML(data []byte) ([]document, error) {
	var (
		docs      []document
		current   bytes.Buffer
		startLine int // the first line of current with content, 0 if none yet
	)
	flush := func() error {
		defer func() { current.Reset(); startLine = 0 }()
		if startLine == 0 {
			return nil
		}
		j, err := yaml.YAMLToJSON(current.Bytes())
		if err != nil {
			return fmt.Errorf("document %d (line %d): %w", len(docs)+1, startLine, err)
		}
		if string(j) == "null" {
			return nil
		}
		docs = append(docs, document{json: j, line: startLine})
		return nil
	}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(nil, len(data)+1)
	for n := 1; scanner.Scan(); n++ {
		line := scanner.Text()
		if rest, ok := strings.CutPrefix(line, "---"); ok {
			trimmed := strings.TrimSpace(rest)
			if trimmed != "" && trimmed[0] != '#' {
				return nil, fmt.Errorf("line %d: invalid YAML document separator: %s", n, trimmed)
			}
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		current.WriteString(line)
		current.WriteByte('\n')
		if trimmed := strings.TrimSpace(line); startLine == 0 && trimmed != "" && trimmed[0] != '#' {
			startLine = n
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return docs, nil
}

// clusterScoped are the built-in kinds that have no namespace, which the
// default namespace is not given to. Offline there is no discovery to ask;
// the kinds lint looks at are all namespaced, so this only keeps reports of
// the other objects (JUnit test case names) right.
var clusterScoped = map[schema.GroupKind]bool{}

func init() {
	for _, gk := range []string{
		"Namespace", "Node", "PersistentVolume", "ComponentStatus",
		"CustomResourceDefinition.apiextensions.k8s.io", "APIService.apiregistration.k8s.io",
		"ClusterRole.rbac.authorization.k8s.io", "ClusterRoleBinding.rbac.authorization.k8s.io",
		"StorageClass.storage.k8s.io", "CSIDriver.storage.k8s.io", "CSINode.storage.k8s.io", "VolumeAttachment.storage.k8s.io",
		"PriorityClass.scheduling.k8s.io", "RuntimeClass.node.k8s.io", "IngressClass.networking.k8s.io",
		"MutatingWebhookConfiguration.admissionregistration.k8s.io", "ValidatingWebhookConfiguration.admissionregistration.k8s.io",
		"ValidatingAdmissionPolicy.admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding.admissionregistration.k8s.io",
		"CertificateSigningRequest.certificates.k8s.io", "FlowSchema.flowcontrol.apiserver.k8s.io",
		"PriorityLevelConfiguration.flowcontrol.apiserver.k8s.io",
	} {
		clusterScoped[schema.ParseGroupKind(gk)] = true
	}
}

// decode turns a document into its objects: one, or the items of a List.
func decode(data []byte, src Source, namespace string) ([]Object, error) {
	obj, _, err := unstructured.UnstructuredJSONScheme.Decode(data, nil, nil)
	if err != nil {
		return nil, err
	}
	var items []unstructured.Unstructured
	switch o := obj.(type) {
	case *unstructured.UnstructuredList:
		items = o.Items
	case *unstructured.Unstructured:
		items = []unstructured.Unstructured{*o}
	default:
		return nil, fmt.Errorf("unexpected %T", runtime.Object(o))
	}
	objects := make([]Object, 0, len(items))
	for i := range items {
		if items[i].GetNamespace() == "" && !clusterScoped[items[i].GroupVersionKind().GroupKind()] {
			items[i].SetNamespace(namespace)
		}
		objects = append(objects, Object{Unstructured: &items[i], Source: src})
	}
	return objects, nil
}
