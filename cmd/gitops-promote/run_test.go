package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

const testToken = "gp-test-token-5f3a9c"

// startGitServer serves a config repository seeded with testdata/example
// on a real git smart-HTTP server.
func startGitServer(t *testing.T) (*gitserver.Server, string) {
	t.Helper()
	s, err := gitserver.Start(gitserver.WithToken(testToken))
	if err != nil {
		t.Fatalf("starting the git server: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	repo, err := s.CreateRepo("acme", "config")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SeedFromDir(repo, "main", filepath.Join("..", "..", "testdata", "example")); err != nil {
		t.Fatal(err)
	}
	return s, repo
}

func head(t *testing.T, s *gitserver.Server, repo string) string {
	t.Helper()
	sha, err := s.Head(repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// cloneFile clones the repository with the git CLI and reads one file.
func cloneFile(t *testing.T, s *gitserver.Server, repo, file string) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command("git", "clone", "--quiet", s.BareDir(repo), dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := exec.Command("git", "-C", dir, "log", "-1", "--format=%an <%ae>%n%s").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(b), string(msg)
}

func noToken(t *testing.T, r runResult) {
	t.Helper()
	for name, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, testToken) && line != "::add-mask::"+testToken {
				t.Errorf("%s shows the token: %q", name, line)
			}
		}
	}
}

func TestRunPushLandsAndRerunIsANoOp(t *testing.T) {
	t.Parallel()
	s, repo := startGitServer(t)
	old := head(t, s, repo)
	args := []string{"run", "--mode", "push", "--repository-url", s.RepoURL(repo), "--token", testToken,
		"--overlays", userProd, "--images", userImage, "--json"}
	r := runBinary(t, t.TempDir(), nil, args...)
	noToken(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	newHead := head(t, s, repo)
	got := decodeJSON(t, r.stdout)
	if rd, _ := got["rendered_diff"].([]any); len(rd) != 1 || rd[0].(map[string]any)["object"] != "apps/Deployment production/user-service" {
		t.Errorf("rendered_diff = %v, want the production Deployment", got["rendered_diff"])
	}
	delete(got, "rendered_diff")
	want := map[string]any{
		"changed": true, "landed-by": "push", "commit-sha": newHead, "pull-request-number": nil,
		"pull-request-url": "", "merged": false, "revision": newHead, "deployed": false, "superseded": false,
		"changes": []any{map[string]any{"file": userProd + "/kustomization.yaml", "image": "ghcr.io/acme/user-service", "old": "ghcr.io/acme/user-service:1.4.0", "new": userImage}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON outputs (-want +got):\n%s", diff)
	}
	if newHead == old {
		t.Fatal("the branch did not move")
	}
	content, log := cloneFile(t, s, repo, userProd+"/kustomization.yaml")
	if !strings.Contains(content, `newTag: "1.4.2" # promoted from staging`) {
		t.Errorf("cloned file:\n%s", content)
	}
	if want := "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>\nDeploy " + userImage + " to " + userProd + "\n"; log != want {
		t.Errorf("commit author and subject %q, want %q", log, want)
	}
	if parent, _ := s.Git(t.Context(), repo, "rev-parse", newHead+"^"); parent != old {
		t.Errorf("parent of the new head = %s, want the old head %s", parent, old)
	}

	r = runBinary(t, t.TempDir(), nil, args...)
	noToken(t, r)
	if r.code != 0 {
		t.Fatalf("second run: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if got := decodeJSON(t, r.stdout); got["changed"] != false || got["commit-sha"] != "" || head(t, s, repo) != newHead {
		t.Errorf("second run: %v; want changed=false and no commit", got)
	}
}

func TestRunProtectedBranch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mode string
		hint string
	}{
		{name: "push mode", mode: "push", hint: "hint: main is protected: use mode: pull-request (or auto) to land through a pull request"},
		{name: "auto without the GitHub API", mode: "auto", hint: "hint: mode auto lands a protected branch through a pull request, which needs the GitHub API"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, repo := startGitServer(t)
			if err := s.Protect(repo, "main", gitserver.Classic); err != nil {
				t.Fatal(err)
			}
			old := head(t, s, repo)
			r := runBinary(t, t.TempDir(), map[string]string{"GITHUB_TOKEN": testToken}, "run", "--mode", tc.mode,
				"--repository-url", s.RepoURL(repo), "--overlays", userProd, "--images", userImage)
			noToken(t, r)
			if r.code != 1 || !strings.Contains(r.stderr, "GH006") || !strings.Contains(r.stderr, tc.hint) {
				t.Errorf("exit %d stderr:\n%s\nwant exit 1, the server's GH006 words and %q", r.code, r.stderr, tc.hint)
			}
			if !strings.Contains(r.stderr, "stopped before landing anything") {
				t.Errorf("stderr does not say what was done:\n%s", r.stderr)
			}
			if head(t, s, repo) != old {
				t.Error("the protected branch moved")
			}
		})
	}
}

func TestRunPullRequestNeedsTheGitHubAPI(t *testing.T) {
	t.Parallel()
	r := runBinary(t, t.TempDir(), nil, "run", "--mode", "pull-request", "--repository-url", "http://127.0.0.1:1/acme/config.git",
		"--overlays", userProd, "--images", userImage)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: mode: pull-request needs the GitHub API") {
		t.Errorf("exit %d stderr:\n%s\nwant exit 2 and one line naming mode", r.code, r.stderr)
	}
}

// runnerEnv is the environment a GitHub runner gives a Docker action.
func runnerEnv(t *testing.T, inputs map[string]string) (map[string]string, string, string) {
	t.Helper()
	dir := t.TempDir()
	out, sum := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	for _, f := range []string{out, sum} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": sum,
		"GITHUB_WORKSPACE": dir, "GITHUB_REPOSITORY": "acme/config", "GITHUB_SERVER_URL": "https://github.com",
		"GITHUB_API_URL": "http://127.0.0.1:1", "GITHUB_RUN_ID": "4242",
	}
	for k, v := range inputs {
		env["INPUT_"+strings.ToUpper(k)] = v
	}
	return env, out, sum
}

// readOutputs parses GITHUB_OUTPUT's heredoc form as the runner does.
func readOutputs(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %q is not name<<delimiter", lines[i])
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func TestRunInRunner(t *testing.T) {
	t.Parallel()
	s, repo := startGitServer(t)
	env, outFile, sumFile := runnerEnv(t, map[string]string{
		"repository-url": s.RepoURL(repo), "token": testToken, "mode": "push",
		"overlays": userProd + "\n" + userStaging + "\n", "images": userImage, "argocd-refresh": "normal",
		"auto-merge": "true", "validate": "true", "dry-run": "false", "timeout": "15m",
	})
	r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
	noToken(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sha := head(t, s, repo)
	want := map[string]string{
		"changed": "true", "landed-by": "push", "commit-sha": sha, "pull-request-number": "", "pull-request-url": "",
		"merged": "false", "revision": sha, "deployed": "false", "superseded": "false",
		"changes": `[{"file":"` + userProd + `/kustomization.yaml","image":"ghcr.io/acme/user-service","old":"ghcr.io/acme/user-service:1.4.0","new":"` + userImage + `"},` +
			`{"file":"` + userStaging + `/kustomization.yaml","image":"ghcr.io/acme/user-service","old":"ghcr.io/acme/user-service:1.4.1","new":"` + userImage + `"}]`,
	}
	if diff := cmp.Diff(want, readOutputs(t, outFile)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	sum, err := os.ReadFile(sumFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"### gitops-promote: landed " + sha[:12] + " on main by push", "| `" + userProd + "` | `ghcr.io/acme/user-service` | `ghcr.io/acme/user-service:1.4.0` | `" + userImage + "` |"} {
		if !strings.Contains(string(sum), w) {
			t.Errorf("step summary lacks %q:\n%s", w, sum)
		}
	}
	for _, w := range []string{"::add-mask::" + testToken + "\n", "::group::Fetch the branch head\n", "::group::Land the commit\n", "::endgroup::\n"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("job log lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "::error") {
		t.Errorf("an error annotation on success:\n%s", r.stdout)
	}
}

func TestRunInRunnerBadInput(t *testing.T) {
	t.Parallel()
	s, repo := startGitServer(t)
	old := head(t, s, repo)
	env, outFile, sumFile := runnerEnv(t, map[string]string{
		"repository-url": s.RepoURL(repo), "token": testToken, "mode": "push",
		"overlays": userProd, "images": "ghcr.io/acme/user-service:",
	})
	r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
	noToken(t, r)
	if r.code != 2 {
		t.Errorf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
	var annotations []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "::error") {
			annotations = append(annotations, line)
		}
	}
	if len(annotations) != 1 || !strings.HasPrefix(annotations[0], `::error title=gitops-promote::images: image "ghcr.io/acme/user-service:": tag`) {
		t.Errorf("annotations %q, want one naming the images input", annotations)
	}
	for _, f := range []string{outFile, sumFile} {
		if b, _ := os.ReadFile(f); len(b) != 0 {
			t.Errorf("%s written on bad input: %q", filepath.Base(f), b)
		}
	}
	if head(t, s, repo) != old {
		t.Error("the branch moved on bad input")
	}
}

func TestRunTerminalSummaryAndDryRun(t *testing.T) {
	t.Parallel()
	s, repo := startGitServer(t)
	old := head(t, s, repo)
	base := []string{"run", "--mode", "push", "--repository-url", s.RepoURL(repo), "--branch", "main",
		"--overlays", userProd, "--images", userImage}
	env := map[string]string{"GITHUB_TOKEN": testToken}

	r := runBinary(t, t.TempDir(), env, append(base, "--dry-run")...)
	noToken(t, r)
	if r.code != 0 || head(t, s, repo) != old {
		t.Fatalf("dry run: exit %d, branch moved %v; stderr:\n%s", r.code, head(t, s, repo) != old, r.stderr)
	}
	if !strings.Contains(r.stdout, "-    newTag: \"1.4.0\" # promoted from staging\n+    newTag: \"1.4.2\" # promoted from staging\n") {
		t.Errorf("dry run diff:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "dry run: nothing was landed") {
		t.Errorf("dry run summary:\n%s", r.stderr)
	}

	r = runBinary(t, t.TempDir(), env, base...)
	noToken(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	t.Logf("terminal output:\n%s", r.stderr)
	sha := head(t, s, repo)
	for _, want := range []string{
		"==> Fetch the branch head\n", "==> Land the commit\n",
		"\nlanded " + sha[:12] + " on main by push\n",
		userProd + "  ghcr.io/acme/user-service  ghcr.io/acme/user-service:1.4.0  " + userImage + "\n",
		"\ntook ",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing without --json or --dry-run", r.stdout)
	}
}
