package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Finding 5: a folder of the config repository whose name holds a newline
// and a workflow command does not issue that command in a runner: no line
// of stdout or stderr starts one, except our own (add-mask, group, error).
func TestRunnerOutputCannotStartWorkflowCommands(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	evil := "apps/x\n::add-mask::main\n  ::error title=pwned::owned\r::stop-commands::abc"
	if err := os.MkdirAll(filepath.Join(root, evil), 0o755); err != nil {
		t.Fatal(err)
	}
	k := "images:\n- name: ghcr.io/acme/app\n  newTag: \"1.0\"\n"
	if err := os.WriteFile(filepath.Join(root, evil, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GITHUB_ACTIONS": "true"}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"edit", "--root", root, "--overlays", "apps/*", "--images", "ghcr.io/acme/app:2.0", "--dry-run", "--validate=false"},
		&stdout, &stderr, func(k string) string { return env[k] })
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String()+stderr.String(), "owned") {
		t.Fatalf("the folder's name was not printed at all; the test proves nothing:\n%s\n%s", stdout.String(), stderr.String())
	}
	for name, s := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if tr := strings.TrimLeft(line, " \t"); strings.HasPrefix(tr, "::") || strings.HasPrefix(tr, "##[") {
				t.Errorf("%s: a line starts a workflow command: %q", name, line)
			}
		}
	}
}
