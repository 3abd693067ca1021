// Command boundedrunc is an OCI runtime for dockerd that runs runc with only
// the capabilities this machine can grant.
//
// `docker run --privileged` asks runc for every capability the kernel knows.
// Where the capability bounding set of dockerd (and so of everything it
// starts) lacks some of them, as in some sandboxes and nested containers,
// runc fails with "unable to apply caps: operation not permitted" and no
// privileged container starts: not kind's nodes, not `docker exec
// --privileged`. boundedrunc removes from the container's spec exactly the
// capabilities missing from its own bounding set, then execs runc with the
// same arguments. Nothing else changes; on a machine whose bounding set is
// full it changes nothing at all.
//
// hack/docker.sh registers it only where the bounding set is not full:
//
//	dockerd --add-runtime bounded-runc=/path/to/boundedrunc --default-runtime bounded-runc
//
// The spec is the bundle's config.json for `create` and `run`, and the
// process file for `exec` (docker exec).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNames are the kernel's capability names by bit number
// (include/uapi/linux/capability.h).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "boundedrunc: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	runc, err := findRunc()
	if err != nil {
		return err
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	missing, err := missingCaps(string(status))
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		if spec := specFile(args); spec != "" {
			if err := dropFromFile(spec, missing); err != nil {
				return err
			}
		}
	}
	return syscall.Exec(runc, append([]string{"runc"}, args...), os.Environ())
}

// findRunc returns the runc on PATH (BOUNDEDRUNC_RUNC overrides it).
func findRunc() (string, error) {
	if p := os.Getenv("BOUNDEDRUNC_RUNC"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("runc")
	if err != nil {
		return "", fmt.Errorf("runc not found on PATH: %w", err)
	}
	return p, nil
}

// missingCaps returns the names of the known capabilities that the CapBnd
// line of a /proc/<pid>/status does not hold.
func missingCaps(status string) (map[string]bool, error) {
	for _, line := range strings.Split(status, "\n") {
		hex, ok := strings.CutPrefix(line, "CapBnd:")
		if !ok {
			continue
		}
		bnd, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("CapBnd %q: %w", hex, err)
		}
		missing := map[string]bool{}
		for bit, name := range capNames {
			if bnd&(1<<uint(bit)) == 0 {
				missing[name] = true
			}
		}
		return missing, nil
	}
	return nil, fmt.Errorf("no CapBnd line in /proc/self/status")
}

// specFile returns the file holding the capabilities runc is about to grant:
// the bundle's config.json for create and run, the --process file for exec,
// and "" for every other command (and for an exec without --process, whose
// capabilities come from the container's own, already fixed, spec).
func specFile(args []string) string {
	cmd, rest := subcommand(args)
	switch cmd {
	case "create", "run":
		bundle := flagValue(rest, "bundle", "b")
		if bundle == "" {
			bundle = "."
		}
		return filepath.Join(bundle, "config.json")
	case "exec":
		return flagValue(rest, "process", "p")
	}
	return ""
}

// globalFlagsWithValue are runc's global flags that take a separate value.
var globalFlagsWithValue = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

// subcommand splits runc's arguments at its command, skipping global flags.
func subcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a, args[i+1:]
		}
		if globalFlagsWithValue[a] {
			i++
		}
	}
	return "", nil
}

// flagValue returns the value of --long or -short in args, written either as
// two arguments or as --long=value.
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		for _, name := range []string{"--" + long, "-" + long, "-" + short} {
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v
			}
			if a == name && i+1 < len(args) {
				return args[i+1]
			}
		}
	}
	return ""
}

// dropFromFile removes the missing capabilities from the spec (or process)
// JSON in path, keeping every other field as it was.
func dropFromFile(path string, missing map[string]bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, changed, err := dropCaps(data, missing)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !changed {
		return nil
	}
	return os.WriteFile(path, out, 0o600)
}

// dropCaps removes the missing capabilities from every capability set of an
// OCI runtime spec (under "process") or of an OCI process (at the top, as in
// runc exec's --process file). It reports whether anything was removed.
func dropCaps(data []byte, missing map[string]bool) ([]byte, bool, error) {
	// UseNumber keeps integers such as resource limits exact.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, false, err
	}
	process := doc
	if p, ok := doc["process"].(map[string]any); ok {
		process = p
	}
	caps, ok := process["capabilities"].(map[string]any)
	if !ok {
		return data, false, nil
	}
	changed := false
	for set, v := range caps {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		kept := make([]any, 0, len(list))
		for _, c := range list {
			if name, ok := c.(string); ok && missing[name] {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		caps[set] = kept
	}
	if !changed {
		return data, false, nil
	}
	out, err := json.Marshal(doc)
	return out, true, err
}
