package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/onsi/gomega"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ManagerUser is the user the suites' managers authenticate as, so that the
// audit log tells their requests from the tests' own.
const ManagerUser = "labelgroup-manager"

// auditPolicy records every request once, when its response is complete,
// with its metadata only.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted", "Panic"]
rules:
- level: Metadata
`

// WithAuditLog has kube-apiserver write an audit log of every request, so a
// suite can count what a client sent (see AuditLog).
func WithAuditLog() Option {
	return func(env *Env) error {
		dir, err := os.MkdirTemp("", "labelgroup-audit-")
		if err != nil {
			return err
		}
		policy := filepath.Join(dir, "policy.yaml")
		if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
			return err
		}
		env.Audit = &AuditLog{path: filepath.Join(dir, "audit.log")}
		args := env.ControlPlane.GetAPIServer().Configure()
		args.Set("audit-policy-file", policy)
		args.Set("audit-log-path", env.Audit.path)
		// The log backend's default mode writes each event before the response.
		args.Set("audit-log-mode", "blocking")
		return nil
	}
}

// ManagerConfig is a rest.Config of ManagerUser, in system:masters as the
// suites' managers have always run, but named, and otherwise as cmd/manager's.
func (e *Env) ManagerConfig() (*rest.Config, error) {
	user, err := e.AddUser(envtest.User{Name: ManagerUser, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	cfg := user.Config()
	// As ctrl.GetConfig sets it for the shipped manager: no client-side rate
	// limit, the API server's priority and fairness decides (client-go's
	// default of 5 requests a second would throttle a large namespace).
	cfg.QPS = -1
	return cfg, nil
}

// AuditLog reads the API server's audit log.
type AuditLog struct{ path string }

// Request is one request of the audit log.
type Request struct {
	User, Verb, APIGroup, Resource, Subresource, Namespace, Name string
	Code                                                         int32
}

func (r Request) String() string {
	resource := r.Resource
	if r.APIGroup != "" {
		resource += "." + r.APIGroup
	}
	if r.Subresource != "" {
		resource += "/" + r.Subresource
	}
	return fmt.Sprintf("%s %s %s/%s (%d)", r.Verb, resource, r.Namespace, r.Name, r.Code)
}

// Mutating says whether the request asked to change something.
func (r Request) Mutating() bool {
	return slices.Contains([]string{"create", "update", "patch", "delete", "deletecollection"}, r.Verb)
}

// LeaderElection says whether the request is leader election's own: a
// coordination Lease, which it renews every few seconds whatever else
// happens, or the core/v1 event it records on the lease when a manager
// becomes leader (the operator's own events are events.k8s.io).
func (r Request) LeaderElection() bool {
	return (r.APIGroup == "coordination.k8s.io" && r.Resource == "leases") ||
		(r.APIGroup == "" && r.Resource == "events")
}

// OperatorWrite says whether the request is a write of a kind the operator
// makes: a LabelGroup's status or its release finalizer (a patch), a member's
// metadata (a server-side apply, which the audit log calls a patch), an
// event. Anything else it sends is a bug.
func (r Request) OperatorWrite() bool {
	switch {
	case r.Verb == "patch" && r.APIGroup == "grouping.labelgroup.io" && r.Resource == "labelgroups":
		return r.Subresource == "status" || r.Subresource == ""
	case r.Verb == "patch" && r.APIGroup == "" && r.Resource == "pods":
		return r.Subresource == ""
	case r.Verb == "create" && r.APIGroup == "events.k8s.io" && r.Resource == "events":
		return true
	}
	return false
}

// Mark is a place in the log: Since(Mark()) is what was sent after it.
func (a *AuditLog) Mark() int64 {
	info, err := os.Stat(a.path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// Since returns the requests of user logged after mark (every user's when
// user is ""). A line still being written is left for the next call.
func (a *AuditLog) Since(mark int64, user string) ([]Request, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(mark, io.SeekStart); err != nil {
		return nil, err
	}
	var requests []Request
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return requests, nil
		}
		if err != nil {
			return nil, err
		}
		var e auditv1.Event
		if err := json.Unmarshal(bytes.TrimSpace(line), &e); err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		if user != "" && e.User.Username != user {
			continue
		}
		req := Request{User: e.User.Username, Verb: e.Verb}
		if e.ResponseStatus != nil {
			req.Code = e.ResponseStatus.Code
		}
		if o := e.ObjectRef; o != nil {
			req.APIGroup, req.Resource, req.Subresource, req.Namespace, req.Name = o.APIGroup, o.Resource, o.Subresource, o.Namespace, o.Name
		}
		requests = append(requests, req)
	}
}

// Writes returns the mutating requests of user after mark, leader
// election's own left out.
func (a *AuditLog) Writes(mark int64, user string) ([]Request, error) {
	requests, err := a.Since(mark, user)
	return slices.DeleteFunc(requests, func(r Request) bool { return !r.Mutating() || r.LeaderElection() }), err
}

// ExpectOnlyOperatorWrites fails unless ManagerUser's writes so far are all of
// the kinds the operator makes (see OperatorWrite); a suite calls it last.
func (e *Env) ExpectOnlyOperatorWrites() {
	writes, err := e.Audit.Writes(0, ManagerUser)
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	gomega.ExpectWithOffset(1, writes).NotTo(gomega.BeEmpty(), "no write of %s at all: does the manager run as that user?", ManagerUser)
	for _, w := range writes {
		gomega.ExpectWithOffset(1, w.OperatorWrite()).To(gomega.BeTrue(), "an unexpected write by the manager: %s", w)
	}
}
