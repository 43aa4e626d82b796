package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/internal/sandbox"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

const cdContext = "continuous-delivery/user-service-production"

// startOpenWorld is the sandbox with main unprotected: the run pushes.
func startOpenWorld(t *testing.T) *sandbox.World {
	t.Helper()
	w, err := sandbox.Start(sandbox.Options{Seed: gitopspromote.Example(), Protection: gitserver.Unprotected, PollInterval: 180 * time.Second})
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(w.Close)
	return w
}

// statusInputs confirm through GitHub alone: no Argo CD input at all.
func statusInputs(w *sandbox.World) map[string]string {
	return map[string]string{
		"repository-url": w.RepoURL, "token": w.Token, "github-api-url": w.GitHub.URL(), "mode": "push",
		"overlays": userProd, "images": userImage, "status-contexts": "continuous-delivery/*", "timeout": "1m",
	}
}

// postStatus writes a commit status as Argo CD Notifications' github
// service does (fixtures/argocd/real-v3.2.11/notifications/*.github.status.json):
// POST /api/v3/repos/{owner}/{repo}/statuses/{sha}, "token" auth.
func postStatus(t *testing.T, w *sandbox.World, sha, state, desc string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"state": state, "description": desc, "context": cdContext,
		"target_url": "https://argocd.example/applications/user-service-production?operation=true"})
	req, _ := http.NewRequest("POST", w.GitHub.URL()+"/api/v3/repos/acme/config/statuses/"+sha, bytes.NewReader(body))
	req.Header.Set("Authorization", "token "+w.Token)
	req.Header.Set("Accept", "application/vnd.github.v3+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("posting the status: %v", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("posting the status: HTTP %d", resp.StatusCode)
	}
}

// landed waits until main moved past the seed and returns its head.
func landed(t *testing.T, w *sandbox.World) string {
	t.Helper()
	var head string
	waitFor(t, "the run pushed", func() bool {
		h, err := w.Git.Head(w.Repo, "main")
		head = h
		return err == nil && h != w.SeedHead
	})
	return head
}

func TestE2EConfirmsFromTheStatusAlone(t *testing.T) {
	t.Parallel()
	w := startOpenWorld(t)
	env, outFile, sumFile := runnerEnv(t, statusInputs(w))
	done := startBinary(t, env, "run")
	ours := landed(t, w)
	postStatus(t, w, ours, "success", "Application user-service-production deployed at "+ours+".")
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	got := readOutputs(t, outFile)
	if got["deployed"] != "true" || got["revision"] != ours {
		t.Errorf("outputs %v, want deployed=true revision=%s", got, ours)
	}
	sum, _ := os.ReadFile(sumFile)
	if row := "| `continuous-delivery/*` | deployed | - | - | `" + ours[:12] + "` |"; !strings.Contains(string(sum), row) {
		t.Errorf("step summary lacks %q:\n%s", row, sum)
	}
	// Confirmation cost: the default branch, compare, combined status and
	// check runs, then 304s; the status we posted is not the tool's.
	if n := w.GitHub.CountedRequests() - 1; n > 10 {
		t.Errorf("the confirmation made %d counted GitHub requests, want at most 10:\n%s", n, w.GitHub.RequestLines())
	} else {
		t.Logf("counted GitHub requests: %d\n%s", n, w.GitHub.RequestLines())
	}
}

func TestE2EFailureOnOurCommitFailsWithItsWords(t *testing.T) {
	t.Parallel()
	w := startOpenWorld(t)
	env, outFile, _ := runnerEnv(t, statusInputs(w))
	done := startBinary(t, env, "run")
	ours := landed(t, w)
	// Argo CD's on-health-degraded (fixture broken1.on-health-degraded.github.status.json).
	postStatus(t, w, ours, "error", "Application user-service-production degraded at "+ours+".")
	r := <-done
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, s := range []string{"degraded at " + ours, "https://argocd.example/applications/user-service-production?operation=true", "is error on " + ours[:7]} {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("the log lacks %q:\n%s\n%s", s, r.stdout, r.stderr)
		}
	}
	if got := readOutputs(t, outFile); got["deployed"] != "false" {
		t.Errorf("outputs %v, want deployed=false", got)
	}
}

func TestE2EALaterCommitThatKeepsOurImageConfirms(t *testing.T) {
	t.Parallel()
	w := startOpenWorld(t)
	env, _, sumFile := runnerEnv(t, statusInputs(w))
	done := startBinary(t, env, "run")
	ours := landed(t, w)
	// Someone else's change lands before the puller syncs: Argo CD applies
	// both in one sync and posts on the later commit only.
	later, err := w.Git.CommitFiles(w.Repo, "main", map[string][]byte{"README.md": []byte("# config\n\nnotes\n")}, "Update the notes")
	if err != nil {
		t.Fatal(err)
	}
	postStatus(t, w, later, "success", "Application user-service-production deployed at "+later+".")
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	sum, _ := os.ReadFile(sumFile)
	if row := "| `continuous-delivery/*` | deployed | - | - | `" + later[:12] + "` |"; !strings.Contains(string(sum), row) {
		t.Errorf("step summary lacks %q (ours %s):\n%s", row, ours[:12], sum)
	}
}

func TestWaitConfirmsARevisionFromGitHubAlone(t *testing.T) {
	t.Parallel()
	w := startOpenWorld(t)
	sha, err := w.Git.CommitFiles(w.Repo, "main", map[string][]byte{"README.md": []byte("# config\n\nv2\n")}, "v2")
	if err != nil {
		t.Fatal(err)
	}
	// Flux's notification-controller (fixtures/flux/real/run2-github-statuses.jsonl).
	body, _ := json.Marshal(map[string]string{"state": "success", "description": "reconciliation succeeded", "context": "kustomization/demo/eb4e6944"})
	req, _ := http.NewRequest("POST", w.GitHub.URL()+"/api/v3/repos/acme/config/statuses/"+sha, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+w.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("posting Flux's status: %v %v", resp, err)
	}
	resp.Body.Close()
	r := runBinary(t, t.TempDir(), map[string]string{"GITHUB_TOKEN": w.Token}, "wait", "--status-contexts", "kustomization/demo/*",
		"--github-api-url", w.GitHub.URL(), "--repository-url", w.RepoURL, "--revision", sha, "--timeout", "1m", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if got := decodeJSON(t, r.stdout); got["deployed"] != true || got["revision"] != sha {
		t.Errorf("outputs %v, want deployed=true for %s", got, sha)
	}
}

func TestE2EALaterCommitThatReplacedOurImageSupersedes(t *testing.T) {
	t.Parallel()
	w := startOpenWorld(t)
	env, outputs, _ := runnerEnv(t, statusInputs(w))
	done := startBinary(t, env, "run")
	ours := landed(t, w)
	later, err := w.Git.CommitFiles(w.Repo, "main", map[string][]byte{userProd + "/kustomization.yaml": []byte(
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: production\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/user-service\n    newTag: \"1.4.3\"\n")},
		"Deploy user-service 1.4.3 to production")
	if err != nil {
		t.Fatal(err)
	}
	postStatus(t, w, later, "success", "Application user-service-production deployed at "+later+".")
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (superseded is not a failure)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := readOutputs(t, outputs); got["superseded"] != "true" || got["deployed"] != "false" || got["revision"] != ours {
		t.Errorf("outputs %v, want superseded=true deployed=false revision=%s", got, ours)
	}
	s := later[:7] + ", a later commit, changed our image values"
	if !strings.Contains(r.stdout, "::warning::") || !strings.Contains(r.stdout, s) || !strings.Contains(r.stdout, ours[:7]+" is superseded") {
		t.Errorf("stdout lacks a warning annotation with %q:\n%s", s, r.stdout)
	}
}

// A token that may not read the statuses is refused before anything lands.
func TestE2EUnreadableStatusesEndAtExit2WithNothingWritten(t *testing.T) {
	t.Parallel()
	w := startOpenWorld(t)
	in := statusInputs(w)
	in["repository"] = "acme/not-in-github" // GitHub answers 404, as for a token without access
	env, _, _ := runnerEnv(t, in)
	r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout+r.stderr, "statuses: read") {
		t.Errorf("the log does not name the permission:\n%s\n%s", r.stdout, r.stderr)
	}
	if head, err := w.Git.Head(w.Repo, "main"); err != nil || head != w.SeedHead {
		t.Errorf("main at %s (%v), want the seed %s: nothing may land", head, err, w.SeedHead)
	}
}
