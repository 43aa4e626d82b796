package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/internal/sandbox"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/argocdsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// startWorld starts the sandbox: git server with a protected main, the
// GitHub simulator and the Argo CD simulator (with a poll slow enough that
// only our refresh makes it look).
func startWorld(t *testing.T) *sandbox.World {
	t.Helper()
	w, err := sandbox.Start(sandbox.Options{
		Seed: gitopspromote.Example(), Protection: gitserver.Classic,
		PollInterval: 180 * time.Second, RolloutDelay: 200 * time.Millisecond, SyncDuration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(w.Close)
	return w
}

// passChecksOnAutoMerge makes the required check pass once a pull request
// has auto-merge on, as CI finishing would; GitHub then merges it.
func passChecksOnAutoMerge(t *testing.T, w *sandbox.World) {
	t.Helper()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			pulls, err := w.GitHub.Pulls(w.Repo)
			if err != nil {
				continue
			}
			for _, p := range pulls {
				if p.AutoMerge != "" && p.State == "OPEN" {
					_ = w.GitHub.SetChecksPassing(w.Repo, true)
					return
				}
			}
		}
	}()
}

func worldInputs(w *sandbox.World, app string) map[string]string {
	return map[string]string{
		"repository-url": w.RepoURL, "token": w.Token, "github-api-url": w.GitHub.URL(), "mode": "auto",
		"overlays": userProd, "images": userImage, "merge-method": "squash", "auto-merge": "true",
		"argocd-server": w.ArgoCD.URL(), "argocd-token": w.ArgoCDToken, "argocd-apps": app,
		"argocd-refresh": "normal", "timeout": "2m",
	}
}

func TestE2EAutoGoesThroughAPullRequestToArgoCD(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end to end: waits for a merge poll")
	}
	w := startWorld(t)
	passChecksOnAutoMerge(t, w)
	env, outFile, sumFile := runnerEnv(t, worldInputs(w, "user-service-production"))
	r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
	for _, secret := range []string{w.Token, w.ArgoCDToken} {
		for _, line := range strings.Split(r.stdout+r.stderr, "\n") {
			if strings.Contains(line, secret) && !strings.HasPrefix(line, "::add-mask::") {
				t.Errorf("a secret shows in the log: %q", line)
			}
		}
	}
	t.Logf("job log:\n%s", r.stdout)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// API economy (issue 4): the whole pull-request run (open, auto-merge,
	// wait, merged) stays within 12 GitHub requests.
	if n := w.GitHub.TotalRequests(); n > 12 {
		t.Errorf("the run made %d GitHub requests, want at most 12:\n%s", n, w.GitHub.RequestLines())
	} else {
		t.Logf("the run made %d GitHub requests:\n%s", n, w.GitHub.RequestLines())
	}
	head, err := w.Git.Head(w.Repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	got := readOutputs(t, outFile)
	prURL := got["pull-request-url"]
	delete(got, "commit-sha")
	delete(got, "changes")
	delete(got, "pull-request-url")
	want := map[string]string{
		"changed": "true", "landed-by": "pull-request", "pull-request-number": "1",
		"merged": "true", "revision": head, "deployed": "true", "superseded": "false",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	sum, err := os.ReadFile(sumFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"### gitops-promote: deployed " + head[:12] + " on main",
		"Pull request [#1](" + prURL + "): merged",
		"| `user-service-production` | deployed | Synced | Healthy | `" + head[:12] + "` |",
	} {
		if !strings.Contains(string(sum), s) {
			t.Errorf("step summary lacks %q:\n%s", s, sum)
		}
	}
	// The PR a reviewer opens: the table of changes, the run that made it, our marker.
	pulls, err := w.GitHub.Pulls(w.Repo)
	if err != nil || len(pulls) != 1 {
		t.Fatalf("pulls %+v, %v; want one", pulls, err)
	}
	for _, s := range []string{
		"`ghcr.io/acme/user-service:1.4.0`", "`" + userImage + "`",
		"https://github.com/acme/config/actions/runs/4242", "<!-- gitops-promote -->",
	} {
		if !strings.Contains(pulls[0].Body, s) {
			t.Errorf("PR body lacks %q:\n%s", s, pulls[0].Body)
		}
	}
	for _, g := range []string{"::group::Land the commit", "::group::Wait for the merge", "::group::Confirm the deploy"} {
		if !strings.Contains(r.stdout, g) {
			t.Errorf("job log lacks %q", g)
		}
	}

	// A rerun finds the images set: no commit, no new pull request.
	env2, outFile2, _ := runnerEnv(t, worldInputs(w, "user-service-production"))
	r = runBinary(t, env2["GITHUB_WORKSPACE"], env2, "run")
	if r.code != 0 {
		t.Fatalf("rerun: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if got := readOutputs(t, outFile2); got["changed"] != "false" || got["pull-request-number"] != "" {
		t.Errorf("rerun outputs %v, want changed=false and no pull request", got)
	}
}

func TestE2EArgoCDDegradedFails(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end to end: waits for a merge poll")
	}
	w := startWorld(t)
	passChecksOnAutoMerge(t, w)
	w.ArgoCD.SetFailure("user-service-production", argocdsim.Degraded, "Back-off pulling image")
	env, outFile, sumFile := runnerEnv(t, worldInputs(w, "user-service-production"))
	r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	head, err := w.Git.Head(w.Repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	got := readOutputs(t, outFile)
	if got["revision"] != head || got["merged"] != "true" || got["deployed"] != "false" {
		t.Errorf("outputs %v; want the merged revision and deployed=false", got)
	}
	var annotations []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "::error") {
			annotations = append(annotations, line)
		}
	}
	if len(annotations) != 1 || !strings.Contains(annotations[0], "Degraded") {
		t.Errorf("annotations %q, want one naming Degraded", annotations)
	}
	sum, _ := os.ReadFile(sumFile)
	if !strings.Contains(string(sum), "landed "+head[:12]+" on main, then stopped") || !strings.Contains(string(sum), "**Error:**") {
		t.Errorf("step summary does not say what happened:\n%s", sum)
	}
}

func TestWaitConfirmsARevision(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	args := []string{"wait", "--argocd-server", w.ArgoCD.URL(), "--argocd-apps", "user-service-staging\nuser-service-production",
		"--repository-url", w.RepoURL, "--timeout", "1m"}
	env := map[string]string{"GITHUB_TOKEN": w.Token, "ARGOCD_AUTH_TOKEN": w.ArgoCDToken}

	r := runBinary(t, t.TempDir(), env, append(args, "--revision", w.SeedHead, "--json")...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if diff := cmp.Diff(map[string]any{"revision": w.SeedHead, "deployed": true}, decodeJSON(t, r.stdout)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	for _, line := range strings.Split(r.stdout+r.stderr, "\n") {
		if strings.Contains(line, w.Token) || strings.Contains(line, w.ArgoCDToken) {
			t.Errorf("a secret shows: %q", line)
		}
	}

	r = runBinary(t, t.TempDir(), env, append(args, "--revision", w.SeedHead[:7])...)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], `error: revision: got "`+w.SeedHead[:7]+`"`) {
		t.Errorf("short revision: exit %d stderr:\n%s\nwant exit 2 and one line naming revision", r.code, r.stderr)
	}
}

func TestE2EPullRequestWithVerifiedAPICommit(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end to end: waits for a merge poll")
	}
	w := startWorld(t)
	passChecksOnAutoMerge(t, w)
	in := worldInputs(w, "user-service-production")
	in["mode"], in["commit-method"], in["pr-branch"], in["pr-labels"] = "pull-request", "api", "deploy/production", "deploy"
	env, outFile, _ := runnerEnv(t, in)
	r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	got := readOutputs(t, outFile)
	if !w.GitHub.Verified(w.Repo, got["commit-sha"]) {
		t.Errorf("commit %s was not made through the API (not Verified)", got["commit-sha"])
	}
	pulls, err := w.GitHub.Pulls(w.Repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(pulls) != 1 || pulls[0].Head != "deploy/production" || pulls[0].State != "MERGED" || !cmp.Equal(pulls[0].Labels, []string{"deploy"}) {
		t.Errorf("pull requests: %+v; want one merged from deploy/production labelled deploy", pulls)
	}
	if got["deployed"] != "true" || got["landed-by"] != "pull-request" {
		t.Errorf("outputs %v", got)
	}
}
