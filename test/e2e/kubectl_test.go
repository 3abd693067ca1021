//go:build e2e

package e2e

import (
	"bytes"
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
)

// kubectl runs kubectl from the repository's root against the suite's
// cluster (KUBECONFIG), with stdin as its input, and returns what it wrote to
// stderr and its error. The specs that use it assert what a user of kubectl
// sees: that a command succeeds, or how it refuses; they read the cluster
// itself with the typed client.
func kubectl(stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Dir = repoRoot
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stdout = GinkgoWriter
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err
}
