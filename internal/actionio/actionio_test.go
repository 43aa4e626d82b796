package actionio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/config"
)

// parseOutputs reads a GITHUB_OUTPUT file the way the runner does.
func parseOutputs(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("line %q is not in heredoc form", lines[i])
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("delimiter %q of %q never closes", delim, name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func runnerFiles(t *testing.T) (map[string]string, string, string) {
	t.Helper()
	dir := t.TempDir()
	out, sum := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	for _, f := range []string{out, sum} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": sum}, out, sum
}

func TestSetOutputsMultiLine(t *testing.T) {
	t.Parallel()
	env, out, _ := runnerFiles(t)
	a := New(WithGetenv(func(k string) string { return env[k] }), WithWriter(&bytes.Buffer{}))
	want := map[string]string{
		"changed": "true",
		"changes": "[\n  {\"file\": \"a\"}\n]",
		"tricky":  "EOF\nghadelimiter_\n<<",
		"empty":   "",
	}
	if err := a.SetOutputs([]Output{{"changed", want["changed"]}, {"changes", want["changes"]}, {"tricky", want["tricky"]}, {"empty", ""}}); err != nil {
		t.Fatalf("SetOutputs: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, parseOutputs(t, string(b))); diff != "" {
		t.Errorf("outputs the runner reads (-want +got):\n%s", diff)
	}
}

func TestFileCommandsNeverPanic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "variable unset", env: map[string]string{}, want: "writing GITHUB_OUTPUT: the variable is not set (is this a GitHub Actions runner?)"},
		{name: "file missing", env: map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "nope"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "nope")}, want: "no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := New(WithGetenv(func(k string) string { return tc.env[k] }), WithWriter(&bytes.Buffer{}))
			err := a.SetOutputs([]Output{{"changed", "false"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SetOutputs error = %v, want it to contain %q", err, tc.want)
			}
			if err := a.AddStepSummary("# x"); err == nil {
				t.Error("AddStepSummary error = nil, want an error")
			}
			if _, statErr := os.Stat(filepath.Join(dir, "nope")); statErr == nil {
				t.Error("a missing file was created")
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed pipe") }

func TestWorkflowCommands(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	a := New(WithGetenv(func(string) string { return "" }), WithWriter(&buf))
	for _, err := range []error{
		a.AddMask("tok3n", "", "line1\nline2"),
		a.Group("Fetch"),
		a.EndGroup(),
		a.Error("gitops-promote", "push refused: GH006\nuse mode: pull-request"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := "::add-mask::tok3n\n::add-mask::line1%0Aline2\n::add-mask::line1\n::add-mask::line2\n::group::Fetch\n::endgroup::\n::error title=gitops-promote::push refused: GH006%0Ause mode: pull-request\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("workflow commands (-want +got):\n%s", diff)
	}

	f := New(WithGetenv(func(string) string { return "" }), WithWriter(failingWriter{}))
	if err := f.Group("x"); err == nil || !strings.Contains(err.Error(), "closed pipe") {
		t.Errorf("Group on a failing writer = %v, want the write error", err)
	}
}

func TestLoadConfigFromRunnerInputs(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"GITHUB_ACTIONS":           "true",
		"GITHUB_REPOSITORY":        "acme/config",
		"GITHUB_API_URL":           "https://api.github.com",
		"INPUT_IMAGES":             "ghcr.io/acme/user-service:1.4.2\nghcr.io/acme/order-service:2.0.0\n",
		"INPUT_OVERLAYS":           "apps/*/overlays/production",
		"INPUT_ARGOCD-APPS":        "user-service\n  argocd/order-service  ",
		"INPUT_ARGOCD-SERVER":      "argocd.example.com",
		"INPUT_ARGOCD-TOKEN":       "t0k",
		"INPUT_TOKEN":              "ghs_x",
		"INPUT_WAIT-FOR-MERGE":     "",
		"INPUT_AUTO-MERGE":         "false",
		"INPUT_MODE":               "auto",
		"INPUT_PR-LABELS":          "deploy\n",
		"INPUT_DRY-RUN":            "false",
		"INPUT_GITHUB-API-URL":     "",
		"INPUT_REPOSITORY":         "",
		"INPUT_UNKNOWN-IS-IGNORED": "x",
	}
	a := New(WithGetenv(func(k string) string { return env[k] }), WithWriter(&bytes.Buffer{}))
	if !a.InRunner() {
		t.Fatal("InRunner() = false with GITHUB_ACTIONS=true")
	}
	c, err := a.LoadConfig(config.VerbRun)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	got := map[string]any{
		"images": c.Images, "overlays": c.Overlays, "apps": c.ArgoCDApps, "server": c.ArgoCDServer,
		"url": c.RepositoryURL, "api": c.GitHubAPIURL, "wait": c.WaitForMerge, "labels": c.PRLabels,
		"secrets": c.Secrets(),
	}
	want := map[string]any{
		"images":   []string{"ghcr.io/acme/user-service:1.4.2", "ghcr.io/acme/order-service:2.0.0"},
		"overlays": []string{"apps/*/overlays/production"},
		"apps":     []string{"user-service", "argocd/order-service"},
		"server":   "https://argocd.example.com",
		"url":      "https://github.com/acme/config.git",
		"api":      "https://api.github.com",
		"wait":     false,
		"labels":   []string{"deploy"},
		"secrets":  []string{"ghs_x", "t0k"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config from INPUT_* (-want +got):\n%s", diff)
	}
}
