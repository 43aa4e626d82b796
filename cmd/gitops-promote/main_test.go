package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// binary is the gitops-promote built once for the tests that run it.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gitops-promote-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "gitops-promote")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		panic("building gitops-promote: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type runResult struct {
	stdout, stderr string
	code           int
}

// runBinary runs the built binary with a clean environment plus env.
func runBinary(t *testing.T, dir string, env map[string]string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return runResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// copyExample copies testdata/example into a temp dir.
func copyExample(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("..", "..", "testdata", "example"))); err != nil {
		t.Fatalf("copying the example: %v", err)
	}
	return dst
}

// tree reads every file under dir.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const (
	userProd    = "apps/user-service/overlays/production"
	userStaging = "apps/user-service/overlays/staging"
	userImage   = "ghcr.io/acme/user-service:1.4.2"
)

func TestEditDryRunShowsOnlyTagLines(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	before := tree(t, dir)
	r := runBinary(t, dir, nil, "edit", "--overlays", userProd+"\n"+userStaging, "--images", userImage, "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	var changed []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "+++ ") || strings.HasPrefix(line, "--- ") {
			continue
		}
		if strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-") {
			changed = append(changed, line)
		}
	}
	for _, l := range changed {
		if !strings.Contains(l, "newTag:") {
			t.Errorf("diff line %q is not a tag line", l)
		}
	}
	if len(changed) == 0 {
		t.Fatalf("no diff lines; stdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "+    newTag: \"1.4.2\" # promoted from staging\n") {
		t.Errorf("diff lacks the production tag line with its comment:\n%s", r.stdout)
	}
	for _, want := range []string{"OVERLAY", userProd, "ghcr.io/acme/user-service:1.4.0", userImage, "dry run: nothing written"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if diff := cmp.Diff(before, tree(t, dir)); diff != "" {
		t.Errorf("dry run changed files (-before +after):\n%s", diff)
	}
}

func TestEditWritesThenIsANoOp(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	before := tree(t, dir)
	r := runBinary(t, dir, nil, "edit", "--root", ".", "--overlays", userProd, "--images", userImage)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	after := tree(t, dir)
	file := userProd + "/kustomization.yaml"
	want := strings.Replace(before[file], `newTag: "1.4.0"`, `newTag: "1.4.2"`, 1)
	if diff := cmp.Diff(want, after[file]); diff != "" {
		t.Errorf("edited file (-want +got):\n%s", diff)
	}
	delete(before, file)
	delete(after, file)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("other files changed (-before +after):\n%s", diff)
	}
	r = runBinary(t, dir, nil, "edit", "--overlays", userProd, "--images", userImage)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "nothing to change") {
		t.Errorf("second run: exit %d stdout %q stderr %q; want exit 0, no diff, nothing to change", r.code, r.stdout, r.stderr)
	}
}

func TestEditBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // the start of the one stderr line
	}{
		{name: "empty tag", args: []string{"--overlays", userProd, "--images", "ghcr.io/acme/user-service:"}, want: `error: images: image "ghcr.io/acme/user-service:": tag`},
		{name: "empty new name", args: []string{"--overlays", userProd, "--images", "app="}, want: `error: images: image "app=": new name`},
		{name: "regexp in name", args: []string{"--overlays", userProd, "--images", "app*:1"}, want: `error: images: image "app*:1": name`},
		{name: "bad digest", args: []string{"--overlays", userProd, "--images", "app@sha256:abc"}, want: `error: images: image "app@sha256:abc": digest`},
		{name: "same image twice", args: []string{"--overlays", userProd, "--images", "app:1\napp:2"}, want: `error: images: "app:1" and "app:2" both set image "app"`},
		{name: "no images", args: []string{"--overlays", userProd}, want: "error: images: required unless promote-from is set"},
		{name: "no overlays", args: []string{"--images", userImage}, want: "error: overlays: required"},
		{name: "overlay escapes", args: []string{"--overlays", "../outside", "--images", userImage}, want: `error: overlays: got "../outside"`},
		{name: "overlay missing", args: []string{"--overlays", "apps/nope", "--images", userImage}, want: `error: overlay "apps/nope": no such folder`},
		{name: "no kustomization", args: []string{"--overlays", "apps/user-service", "--images", userImage}, want: `error: overlay "apps/user-service" has no kustomization file`},
		{name: "glob matches nothing", args: []string{"--overlays", "apps/*/nothing", "--images", userImage}, want: `error: overlay pattern "apps/*/nothing" matches no folder`},
		{name: "bad boolean", args: []string{"--overlays", userProd, "--images", userImage, "--validate=maybe"}, want: `error: validate: got "maybe", want true or false`},
		{name: "unknown flag", args: []string{"--overlays", userProd, "--images", userImage, "--tag", "x"}, want: "error: flag provided but not defined: -tag"},
		{name: "positional argument", args: []string{userProd}, want: `error: unexpected argument "` + userProd + `"`},
		{name: "missing root", args: []string{"--root", "does-not-exist", "--overlays", userProd, "--images", userImage}, want: "error: root: open does-not-exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyExample(t)
			before := tree(t, dir)
			r := runBinary(t, dir, nil, append([]string{"edit"}, tc.args...)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.want) {
				t.Errorf("stderr:\n%s\nwant one line starting %q", r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if diff := cmp.Diff(before, tree(t, dir)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestUsageAndUnknownVerb(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{args: nil, code: 2, want: "error: a verb is required"},
		{args: []string{"deploy"}, code: 2, want: `error: unknown verb "deploy"`},
		{args: []string{"--help"}, code: 0, want: "Usage: gitops-promote <verb> [flags]"},
		{args: []string{"run", "-h"}, code: 0, want: "-argocd-apps"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := runBinary(t, t.TempDir(), nil, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d stderr:\n%s\nwant exit %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
}

// decodeJSON decodes the one JSON object of --json.
func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, s)
	}
	return m
}
