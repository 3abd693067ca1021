package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"
)

const committed = "../../plugins/labelgroup.yaml"

// hostRelease is a release of the committed manifest's version built by
// hack/release.sh for this machine's platform only (the four platforms make
// release builds cost four builds), and the manifest the generator makes of it.
type hostRelease struct {
	version, dist, manifest string
	err                     error
}

var (
	buildOnce sync.Once
	host      hostRelease
)

func buildHostRelease(t *testing.T) hostRelease {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "krew-release-")
		if err != nil {
			host.err = err
			return
		}
		host.version = readPlugin(t, committed).Spec.Version
		host.dist = filepath.Join(dir, "dist")
		host.manifest = filepath.Join(dir, "labelgroup.yaml")
		cmd := exec.Command("../release.sh", host.version, host.dist, runtime.GOOS+"/"+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			host.err = &runError{cmd.String(), out, err}
			return
		}
		raw, err := manifest(host.version, host.dist)
		if err == nil {
			err = os.WriteFile(host.manifest, raw, 0o644)
		}
		host.err = err
	})
	if host.err != nil {
		t.Fatal(host.err)
	}
	return host
}

func TestMain(m *testing.M) {
	code := m.Run()
	if host.dist != "" {
		_ = os.RemoveAll(filepath.Dir(host.dist))
	}
	for _, path := range tools {
		_ = os.RemoveAll(filepath.Dir(path))
	}
	os.Exit(code)
}

// The committed manifest passes krew's own validation (the validator krew's
// plugin index runs on every manifest submitted to it), offers the four
// platforms make release builds, and is what the generator writes but for the
// checksums, which are those of the archives its make release built.
func TestCommittedManifest(t *testing.T) {
	out := run(t, tool(t, "KREW_VALIDATE", "sigs.k8s.io/krew/cmd/validate-krew-manifest"),
		"-manifest", committed, "-skip-install")
	t.Log(out)

	plugin := readPlugin(t, committed)
	var platforms []string
	checksum := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, p := range plugin.Spec.Platforms {
		platforms = append(platforms, p.Selector.MatchLabels["os"]+"/"+p.Selector.MatchLabels["arch"])
		if !checksum.MatchString(p.Sha256) {
			t.Errorf("platform %s: sha256 %q is not a SHA-256", p.URI, p.Sha256)
		}
		if !strings.Contains(p.URI, "/"+plugin.Spec.Version+"/") {
			t.Errorf("platform %s: not an archive of version %s", p.URI, plugin.Spec.Version)
		}
	}
	if want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"}; !reflect.DeepEqual(platforms, want) {
		t.Errorf("platforms %v, want %v", platforms, want)
	}

	// The generator, run on this platform's archive, makes the same manifest
	// but for the other platforms and the checksums.
	generated := readPlugin(t, buildHostRelease(t).manifest)
	if len(generated.Spec.Platforms) != 1 {
		t.Fatalf("generated %d platforms from one archive", len(generated.Spec.Platforms))
	}
	want := generated.Spec.Platforms[0]
	found := false
	for _, p := range plugin.Spec.Platforms {
		if p.URI == want.URI {
			found = true
			p.Sha256, want.Sha256 = "", ""
			if !reflect.DeepEqual(p, want) {
				t.Errorf("platform %s: committed\n%+v\ngenerated\n%+v\n(run make release)", p.URI, p, want)
			}
		}
	}
	if !found {
		t.Errorf("committed manifest has no platform %s (run make release)", want.URI)
	}
	plugin.Spec.Platforms, generated.Spec.Platforms = nil, nil
	if !reflect.DeepEqual(plugin, generated) {
		a, _ := yaml.Marshal(plugin)
		b, _ := yaml.Marshal(generated)
		t.Errorf("committed manifest differs from what hack/krew makes (run make release):\n%s\ngenerated:\n%s", a, b)
	}
}

// Installing with krew from the local manifest and archive (krew checks the
// archive's sha256 against the manifest) puts the plugin where kubectl finds
// it: kubectl labelgroup --help runs it.
func TestInstallWithKrew(t *testing.T) {
	release := buildHostRelease(t)
	run(t, tool(t, "KREW_VALIDATE", "sigs.k8s.io/krew/cmd/validate-krew-manifest"),
		"-manifest", release.manifest, "-skip-install")

	kubectl := os.Getenv("KUBECTL")
	if kubectl == "" {
		var err error
		if kubectl, err = exec.LookPath("kubectl"); err != nil {
			t.Fatal("no kubectl on PATH and KUBECTL unset")
		}
	}
	// kubectl runs `kubectl krew` as the plugin kubectl-krew on PATH, and the
	// plugins krew installs from KREW_ROOT/bin.
	pathDir := t.TempDir()
	if err := os.Symlink(tool(t, "KREW", "sigs.k8s.io/krew/cmd/krew"), filepath.Join(pathDir, "kubectl-krew")); err != nil {
		t.Fatal(err)
	}
	krewRoot := t.TempDir()
	env := []string{
		"KREW_ROOT=" + krewRoot,
		"PATH=" + filepath.Join(krewRoot, "bin") + string(os.PathListSeparator) + pathDir + string(os.PathListSeparator) + "/usr/bin:/bin",
		"HOME=" + t.TempDir(),
	}
	archive := filepath.Join(release.dist, "kubectl-labelgroup_"+release.version+"_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")

	t.Log(runEnv(t, env, kubectl, "krew", "install", "--manifest="+release.manifest, "--archive="+archive))
	if _, err := os.Stat(filepath.Join(krewRoot, "bin", "kubectl-labelgroup")); err != nil {
		t.Fatalf("krew did not link the plugin into KREW_ROOT/bin: %v", err)
	}
	help := runEnv(t, env, kubectl, "labelgroup", "--help")
	for _, want := range []string{"lint", "who-selects", "create"} {
		if !strings.Contains(help, want) {
			t.Errorf("kubectl labelgroup --help does not mention %s:\n%s", want, help)
		}
	}
	// krew's receipt is what kubectl krew upgrade and uninstall go by.
	raw, err := os.ReadFile(filepath.Join(krewRoot, "receipts", "labelgroup.yaml"))
	if err != nil {
		t.Fatalf("krew wrote no receipt: %v", err)
	}
	var receipt index.Receipt
	if err := yaml.UnmarshalStrict(raw, &receipt); err != nil {
		t.Fatal(err)
	}
	if receipt.Spec.Version != release.version {
		t.Errorf("krew's receipt says version %q, want %q", receipt.Spec.Version, release.version)
	}
}

// A wrong checksum fails the install: what makes the generated checksums
// worth having.
func TestInstallWithKrewRefusesAWrongChecksum(t *testing.T) {
	release := buildHostRelease(t)
	raw, err := os.ReadFile(release.manifest)
	if err != nil {
		t.Fatal(err)
	}
	plugin := readPlugin(t, release.manifest)
	bad := bytes.ReplaceAll(raw, []byte(plugin.Spec.Platforms[0].Sha256), []byte(strings.Repeat("0", 64)))
	manifestFile := filepath.Join(t.TempDir(), "labelgroup.yaml")
	if err := os.WriteFile(manifestFile, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(release.dist, "kubectl-labelgroup_"+release.version+"_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
	cmd := exec.Command(tool(t, "KREW", "sigs.k8s.io/krew/cmd/krew"), "install", "--manifest="+manifestFile, "--archive="+archive)
	cmd.Env = []string{"KREW_ROOT=" + t.TempDir(), "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("krew installed an archive whose checksum the manifest does not give:\n%s", out)
	}
	if !strings.Contains(strings.ToLower(string(out)), "checksum") && !strings.Contains(strings.ToLower(string(out)), "sha256") {
		t.Errorf("krew failed, but not on the checksum:\n%s", out)
	}
}

func readPlugin(t *testing.T, path string) index.Plugin {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p index.Plugin
	if err := yaml.UnmarshalStrict(raw, &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

var (
	toolsMu sync.Mutex
	tools   = map[string]string{}
)

// tool is the binary named by env (make sets it to the one it built into
// bin/), or else pkg built from this module's pinned krew.
func tool(t *testing.T, env, pkg string) string {
	t.Helper()
	if path := os.Getenv(env); path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	toolsMu.Lock()
	defer toolsMu.Unlock()
	if path, ok := tools[pkg]; ok {
		return path
	}
	dir, err := os.MkdirTemp("", "krew-tool-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(pkg))
	run(t, "go", "build", "-o", path, pkg)
	tools[pkg] = path
	return path
}

type runError struct {
	cmd string
	out []byte
	err error
}

func (e *runError) Error() string { return e.cmd + ": " + e.err.Error() + "\n" + string(e.out) }

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return runEnv(t, nil, name, args...)
}

// runEnv runs name with env (the test's own environment when nil) and fails
// the test with its output when it fails.
func runEnv(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatal(&runError{cmd.String(), out, err})
	}
	return string(out)
}
