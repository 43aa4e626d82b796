package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/internal/promote"
	"github.com/gitops-promote/gitops-promote/internal/sandbox"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// prInputs are the inputs of a pull-request run without Argo CD.
func prInputs(w *sandbox.World, image string) map[string]string {
	in := worldInputs(w, "")
	for _, k := range []string{"argocd-server", "argocd-token", "argocd-apps", "argocd-refresh"} {
		delete(in, k)
	}
	in["mode"], in["images"] = "pull-request", image
	return in
}

func annotations(stdout, prefix string) []string {
	var out []string
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return out
}

// Two and five pipelines, as separate processes, promote different images
// of one overlay at the same moment through one pull request. Every image
// is on main after the merge, and every run exits 0 with the merge commit
// as its revision.
func TestE2EConcurrentRunsAccumulateInOnePullRequest(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end to end: waits for merge polls")
	}
	for _, n := range []int{2, 5} {
		t.Run(fmt.Sprintf("%d runs", n), func(t *testing.T) {
			t.Parallel()
			w := startWorld(t)
			prBranch := promote.PRBranch(sandbox.Branch, []string{userProd})
			images := make([]string, n)
			outs := make([]string, n)
			dones := make([]<-chan runResult, n)
			for i := range n {
				images[i] = fmt.Sprintf("ghcr.io/acme/sidecar-%d:1.0.%d", i, i)
				env, out, _ := runnerEnv(t, prInputs(w, images[i]))
				outs[i] = out
				dones[i] = startBinary(t, env, "run")
			}
			waitFor(t, "every image is on the pull request branch", func() bool {
				file, err := w.Git.Git(t.Context(), w.Repo, "show", prBranch+":"+userProd+"/kustomization.yaml")
				if err != nil {
					return false
				}
				for _, img := range images {
					name, tag, _ := strings.Cut(img, ":")
					if !strings.Contains(file, "name: "+name+"\n    newTag: "+tag) && !strings.Contains(file, "name: "+name+"\n    newTag: \""+tag+"\"") {
						return false
					}
				}
				return true
			})
			if err := w.GitHub.SetChecksPassing(w.Repo, true); err != nil {
				t.Fatal(err)
			}
			results := make([]runResult, n)
			for i := range n {
				results[i] = <-dones[i]
			}
			head, err := w.Git.Head(w.Repo, "main")
			if err != nil {
				t.Fatal(err)
			}
			file, err := w.Git.Git(t.Context(), w.Repo, "show", "main:"+userProd+"/kustomization.yaml")
			if err != nil {
				t.Fatal(err)
			}
			retried := 0
			for _, r := range results {
				retried += strings.Count(r.stdout, "re-applying the edit")
			}
			t.Logf("%d runs, %d retries after lost races for the branch", n, retried)
			for i, r := range results {
				if r.code != 0 {
					t.Errorf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, r.code, r.stdout, r.stderr)
					continue
				}
				got := readOutputs(t, outs[i])
				if got["merged"] != "true" || got["revision"] != head || got["superseded"] != "false" || got["pull-request-number"] != "1" {
					t.Errorf("run %d outputs %v; want pull request 1 merged as main's head %s", i, got, head)
				}
				if name, _, _ := strings.Cut(images[i], ":"); !strings.Contains(file, name) {
					t.Errorf("main lost run %d's image %s:\n%s", i, images[i], file)
				}
			}
			pulls, err := w.GitHub.Pulls(w.Repo)
			if err != nil || len(pulls) != 1 {
				t.Fatalf("pulls %+v, %v; want one", pulls, err)
			}
			for _, img := range images {
				if !strings.Contains(pulls[0].Body, img) {
					t.Errorf("the pull request body does not list %s:\n%s", img, pulls[0].Body)
				}
			}
		})
	}
}

// GitHub requests: a run that opens the pull request, and a run that joins
// it, neither waiting for the merge. The joining run adds at most 3.
func TestE2EJoiningRunRequestBudget(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	in := prInputs(w, userImage)
	in["wait-for-merge"] = "false"
	env, _, _ := runnerEnv(t, in)
	if r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run"); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	first := w.GitHub.TotalRequests()
	t.Logf("opening run: %d GitHub requests:\n%s", first, w.GitHub.RequestLines())
	w.GitHub.ResetRequests()
	in = prInputs(w, "ghcr.io/acme/sidecar:2.0.0")
	in["wait-for-merge"] = "false"
	env, out, _ := runnerEnv(t, in)
	if r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run"); r.code != 0 {
		t.Fatalf("joining run: exit %d\n%s", r.code, r.stderr)
	}
	joining := w.GitHub.TotalRequests()
	t.Logf("joining run: %d GitHub requests:\n%s", joining, w.GitHub.RequestLines())
	if first > 12 || joining > 3 {
		t.Errorf("the opening run made %d GitHub requests (want at most 12), the joining run %d (want at most 3)", first, joining)
	}
	if got := readOutputs(t, out); got["pull-request-number"] != "1" {
		t.Errorf("the joining run's outputs %v; want pull request 1", got)
	}
}

// A required check run that fails on the pull request's head ends the wait
// at the next poll: exit 1, the check named with its link, the pull request
// left open with auto-merge on. A status from another app that passed is
// not named.
func TestE2EFailedRequiredCheckEndsTheWait(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end to end: waits for a merge poll")
	}
	w := startWorld(t)
	env, out, _ := runnerEnv(t, prInputs(w, userImage))
	done := startBinary(t, env, "run")
	waitFor(t, "the run armed auto-merge", func() bool {
		pulls, err := w.GitHub.Pulls(w.Repo)
		return err == nil && len(pulls) == 1 && pulls[0].AutoMerge != ""
	})
	head, err := w.GitHub.PullHead(w.Repo, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.GitHub.SetStatus(w.Repo, head, githubsim.CommitStatus{Context: "lint", State: "success", Creator: "lint-bot"}); err != nil {
		t.Fatal(err)
	}
	const details = "https://ci.example/acme/config/runs/77"
	if err := w.GitHub.SetCheckRun(w.Repo, head, githubsim.CheckRun{Name: "ci", Conclusion: "failure", DetailsURL: details}); err != nil {
		t.Fatal(err)
	}
	// Counted from here, every poll started after the failure: the first must end the wait.
	w.GitHub.ResetRequests()
	r := <-done
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if polls := w.GitHub.Requests()["POST /graphql query repository"]; polls > 1 {
		t.Errorf("%d polls after the check failed, want at most 1:\n%s", polls, w.GitHub.RequestLines())
	}
	errs := annotations(r.stdout, "::error")
	if len(errs) != 1 {
		t.Fatalf("error annotations %q, want one", errs)
	}
	e := errs[0]
	t.Logf("annotation: %s", e)
	for _, s := range []string{"ci (failure) " + details, "auto-merge on", "pull request #1"} {
		if !strings.Contains(e, s) {
			t.Errorf("the annotation lacks %q: %s", s, e)
		}
	}
	if strings.HasSuffix(e, "%0A") || strings.Count(e, "pull request #1") > 1 || strings.Contains(e, "lint") {
		t.Errorf("the annotation has a trailing %%0A, repeats the pull request or names the passed status: %s", e)
	}
	pulls, _ := w.GitHub.Pulls(w.Repo)
	if len(pulls) != 1 || pulls[0].State != "OPEN" || pulls[0].AutoMerge == "" {
		t.Errorf("pull requests %+v; want #1 open with auto-merge on", pulls)
	}
	if got := readOutputs(t, out); got["merged"] != "false" || got["deployed"] != "false" {
		t.Errorf("outputs %v", got)
	}
}

// pr-branch naming a branch with someone else's commit: refused before
// anything is pushed, naming the branch and the commit; the commit stays.
func TestE2EForeignPRBranchRefused(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	if _, err := w.Git.Git(t.Context(), w.Repo, "branch", "deploy/prod", "main"); err != nil {
		t.Fatal(err)
	}
	theirs, err := w.GitHub.CommitAs(w.Repo, "deploy/prod", "alice", "WIP: alice's notes", map[string]string{"notes.md": "mine\n"})
	if err != nil {
		t.Fatal(err)
	}
	in := prInputs(w, userImage)
	in["pr-branch"] = "deploy/prod"
	env, _, _ := runnerEnv(t, in)
	r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
	if r.code != 2 || !strings.Contains(r.stderr, `"deploy/prod"`) || !strings.Contains(r.stderr, theirs[:12]) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 naming deploy/prod and commit %s", r.code, r.stderr, theirs[:12])
	}
	if h, err := w.Git.Head(w.Repo, "deploy/prod"); err != nil || h != theirs {
		t.Errorf("deploy/prod is at %s (%v), want alice's %s", h, err, theirs)
	}
	if pulls, _ := w.GitHub.Pulls(w.Repo); len(pulls) != 0 {
		t.Errorf("pull requests %+v, want none", pulls)
	}
}

// Delete-branch-on-merge on and a merge queue, two runs into one pull
// request: both still merge and are confirmed in Argo CD with the one merge
// commit, and the branch is gone afterwards (so the earlier run judges the
// merged head by what landed).
func TestE2EMergeQueueWithDeleteBranchOnMerge(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end to end: waits for merge polls")
	}
	w, err := sandbox.Start(sandbox.Options{
		Seed: gitopspromote.Example(), Protection: gitserver.Ruleset,
		PollInterval: 180 * time.Second, RolloutDelay: 200 * time.Millisecond, SyncDuration: 100 * time.Millisecond,
		GitHub: &githubsim.RepoSettings{DefaultBranch: sandbox.Branch, AutoMergeAllowed: true, Protected: []string{sandbox.Branch},
			Ruleset: true, RequiredChecks: []string{"ci"}, MergeQueue: true, DeleteBranchOnMerge: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	prBranch := promote.PRBranch(sandbox.Branch, []string{userProd})
	images := []string{userImage, "ghcr.io/acme/sidecar:2.0.0"}
	var outs []string
	var dones []<-chan runResult
	for i, img := range images {
		in := worldInputs(w, "user-service-production")
		in["images"] = img
		if i == 1 {
			// No container uses the sidecar image: Argo CD cannot show it live, so
			// this run lands and merges without asking Argo CD.
			delete(in, "argocd-apps")
			delete(in, "argocd-server")
			delete(in, "argocd-token")
		}
		env, out, _ := runnerEnv(t, in)
		outs = append(outs, out)
		dones = append(dones, startBinary(t, env, "run"))
	}
	waitFor(t, "both images are on the pull request branch", func() bool {
		file, err := w.Git.Git(t.Context(), w.Repo, "show", prBranch+":"+userProd+"/kustomization.yaml")
		return err == nil && strings.Contains(file, `newTag: "1.4.2"`) && strings.Contains(file, "ghcr.io/acme/sidecar")
	})
	if err := w.GitHub.SetChecksPassing(w.Repo, true); err != nil {
		t.Fatal(err)
	}
	var results []runResult
	for _, d := range dones {
		results = append(results, <-d)
	}
	head, _ := w.Git.Head(w.Repo, "main")
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, r.code, r.stdout, r.stderr)
			continue
		}
		want := "true"
		if i == 1 {
			want = "false"
		}
		if got := readOutputs(t, outs[i]); got["merged"] != "true" || got["revision"] != head || got["deployed"] != want {
			t.Errorf("run %d outputs %v; want merged as %s and deployed=%s", i, got, head, want)
		}
	}
	if h, err := w.Git.Head(w.Repo, prBranch); err == nil {
		t.Errorf("branch %s is still there at %s after the merge", prBranch, h)
	}
	if pulls, _ := w.GitHub.Pulls(w.Repo); len(pulls) != 1 || pulls[0].State != "MERGED" {
		t.Errorf("pull requests %+v; want one, merged", pulls)
	}
}

// The git token works but the API refuses it: at the lookup before the
// push (nothing pushed), or when opening the pull request after the push
// (the branch this run created is deleted). No branch is left behind.
func TestE2EAPIRefusesTokenNoBranchLeft(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, route string
		pushed      bool
	}{
		{"at the lookup", "GET /repos/{owner}/{repo}/pulls", false},
		{"opening the pull request", "POST /repos/{owner}/{repo}/pulls", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t)
			w.GitHub.InjectFaults(githubsim.Fault{Status: 401, Match: tc.route})
			env, _, _ := runnerEnv(t, prInputs(w, userImage))
			r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
			if r.code != 1 || !strings.Contains(r.stderr, "GitHub refused the token") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 saying GitHub refused the token", r.code, r.stderr)
			}
			prBranch := promote.PRBranch(sandbox.Branch, []string{userProd})
			if h, err := w.Git.Head(w.Repo, prBranch); err == nil {
				t.Errorf("branch %s was left behind at %s\n%s", prBranch, h, r.stdout)
			}
			if pulls, _ := w.GitHub.Pulls(w.Repo); len(pulls) != 0 {
				t.Errorf("pull requests %+v, want none", pulls)
			}
			if pushed := strings.Contains(r.stdout, "pushed "); pushed != tc.pushed || (tc.pushed && !strings.Contains(r.stdout, "deleted branch "+prBranch)) {
				t.Errorf("pushed %v (want %v), and a pushed branch must be deleted:\n%s", pushed, tc.pushed, r.stdout)
			}
		})
	}
}
