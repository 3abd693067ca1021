package lint

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/labelgroup/labelgroup-operator/internal/plugin/manifest"
)

// Report is what a lint run found, for a printer.
type Report struct {
	// Objects are every object read, in input order.
	Objects []manifest.Object
	// Findings are the findings on them.
	Findings []Finding
	// FailOn is the severity from which a finding fails the run.
	FailOn Severity
}

// Failed reports whether a finding reaches FailOn.
func (r Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Severity.Reaches(r.FailOn) {
			return true
		}
	}
	return false
}

// Printer writes a Report in one output format.
type Printer interface {
	Print(w io.Writer, r Report) error
}

// Formats are the output formats, for -o, the first the default.
var Formats = []string{"text", "json", "junit"}

// PrinterFor returns the printer of an output format.
func PrinterFor(format string) (Printer, error) {
	switch format {
	case "text", "":
		return TextPrinter{}, nil
	case "json":
		return JSONPrinter{}, nil
	case "junit":
		return JUnitPrinter{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q: allowed formats are %s", format, strings.Join(Formats, ", "))
}

// TextPrinter writes one line per finding, file:line first as compilers do,
// then a summary.
type TextPrinter struct{}

func (TextPrinter) Print(w io.Writer, r Report) error {
	counts := map[Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
		fmt.Fprintf(w, "%s:%d: %s[%s] %s %s (document %d): %s\n",
			f.Source.File, f.Source.Line, f.Severity, f.Rule, f.Kind, namespacedName(f.Namespace, f.Name), f.Source.Document, f.Message)
	}
	var parts []string
	for _, s := range []Severity{SeverityError, SeverityWarning, SeverityInfo} {
		if counts[s] > 0 {
			parts = append(parts, plural(counts[s], string(s)))
		}
	}
	summary := "no findings"
	if len(parts) > 0 {
		summary = strings.Join(parts, ", ")
	}
	_, err := fmt.Fprintf(w, "%s in %s\n", summary, plural(len(r.Objects), "object"))
	return err
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// JSONPrinter writes {"findings":[...]}.
type JSONPrinter struct{}

func (JSONPrinter) Print(w io.Writer, r Report) error {
	findings := r.Findings
	if findings == nil {
		findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Findings []Finding `json:"findings"`
	}{findings})
}

// JUnitPrinter writes a JUnit XML report, as CI systems (GitLab, Jenkins,
// GitHub Actions test reporters) read it: one test case per object read,
// failed by each of its findings that reaches FailOn; milder findings go to
// the case's system-out.
type JUnitPrinter struct{}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	Failures  []junitFailure `xml:"failure,omitempty"`
	SystemOut string         `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func (JUnitPrinter) Print(w io.Writer, r Report) error {
	suite := junitSuite{Name: "kubectl-labelgroup lint"}
	byObject := map[objectKey][]Finding{}
	for _, f := range r.Findings {
		k := objectKey{f.Source, f.Kind, f.Namespace, f.Name}
		byObject[k] = append(byObject[k], f)
	}
	for _, obj := range r.Objects {
		c := junitCase{
			Name:      obj.GetKind() + " " + namespacedName(obj.GetNamespace(), obj.GetName()),
			Classname: obj.Source.File,
		}
		var out []string
		for _, f := range byObject[objectKey{obj.Source, obj.GetKind(), obj.GetNamespace(), obj.GetName()}] {
			text := fmt.Sprintf("%s:%d (document %d): %s[%s] %s", f.Source.File, f.Source.Line, f.Source.Document, f.Severity, f.Rule, f.Message)
			if f.Severity.Reaches(r.FailOn) {
				c.Failures = append(c.Failures, junitFailure{Message: f.Message, Type: string(f.Rule), Text: text})
			} else {
				out = append(out, text)
			}
		}
		c.SystemOut = strings.Join(out, "\n")
		if len(c.Failures) > 0 {
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// objectKey identifies an object read, to attach findings to it.
type objectKey struct {
	source                manifest.Source
	kind, namespace, name string
}

// namespacedName is namespace/name, or name for a cluster-scoped object.
func namespacedName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
