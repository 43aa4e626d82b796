package github

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
)

// Pending required checks keep the wait going with a status line naming
// them; a failed one ends it at the next poll, naming every failed required
// check with its link. Statuses from other apps that passed, and a failed
// check that is not required, are not named.
func TestWaitMergedEndsOnAFailedRequiredCheck(t *testing.T) {
	t.Parallel()
	set := protectedMain
	set.RequiredChecks = []string{"ci", "security/scan"}
	w := newWorld(t, set)
	ours := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	if out, err := w.c.Merge(context.Background(), pr, ours, "squash", true); err != nil || out.Action != ActionAutoMerge {
		t.Fatalf("Merge = %+v, %v; want auto-merge", out, err)
	}
	must(t, w.sim.SetCheckRun(fullRepo, ours, githubsim.CheckRun{Name: "ci", Status: "in_progress"}))
	must(t, w.sim.SetStatus(fullRepo, ours, githubsim.CommitStatus{Context: "security/scan", State: "pending", Creator: "scanner-bot"}))
	must(t, w.sim.SetStatus(fullRepo, ours, githubsim.CommitStatus{Context: "lint", State: "failure", Creator: "lint-bot"}))
	must(t, w.sim.SetCheckRun(fullRepo, ours, githubsim.CheckRun{Name: "docs", Conclusion: "success", App: "docs-app"}))
	w.clock.onSleep = func(n int) {
		if n == 2 {
			_ = w.sim.SetCheckRun(fullRepo, ours, githubsim.CheckRun{Name: "ci", Conclusion: "timed_out", DetailsURL: "https://ci.example/run/9"})
			_ = w.sim.SetStatus(fullRepo, ours, githubsim.CommitStatus{Context: "security/scan", State: "error", TargetURL: "https://scan.example/9", Creator: "scanner-bot"})
		}
	}
	_, err := w.c.WaitMerged(context.Background(), pr, ours)
	var cf *ChecksFailedError
	if !errors.As(err, &cf) {
		t.Fatalf("WaitMerged = %v; want a *ChecksFailedError", err)
	}
	if n := len(w.clock.Sleeps()); n != 2 {
		t.Errorf("WaitMerged slept %d times; want 2 (the failure is seen at the next poll)", n)
	}
	msg := err.Error()
	for _, s := range []string{"ci (timed_out) https://ci.example/run/9", "security/scan (error) https://scan.example/9", "pull request #1"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q lacks %q", msg, s)
		}
	}
	if strings.Contains(msg, "lint") || strings.Contains(msg, "docs") {
		t.Errorf("error %q names a check that is not required or passed", msg)
	}
	if !strings.Contains(cf.Hint(), "stays open with auto-merge on") {
		t.Errorf("hint %q", cf.Hint())
	}
	if logs := w.logs.text(); strings.Count(logs, "waiting for required checks: ci (in progress), security/scan (pending)") != 1 {
		t.Errorf("logs want one status line naming the pending checks:\n%s", logs)
	}
	if p := w.pulls()[0]; p.State != "OPEN" || p.AutoMerge == "" {
		t.Errorf("pull request %+v; want open with auto-merge on", p)
	}
}

// Opening the pull request answered 5xx, though GitHub opened it: the retry
// looks it up first and adopts it, so there is one pull request.
func TestEnsurePRRetriesCreationIdempotently(t *testing.T) {
	t.Parallel()
	w := newWorld(t, protectedMain)
	w.prBranch("1.1.0")
	// GitHub opens it but the answer is lost in a 502 (a POST the transport does not retry).
	w.sim.InjectFaults(githubsim.Fault{Status: 502, Match: "POST /repos/{owner}/{repo}/pulls", Applied: true})
	pr := w.ensurePR("1.1.0")
	if pr.Number != 1 || len(w.pulls()) != 1 {
		t.Errorf("pull request %+v, %d pulls; want #1 and one pull request", pr, len(w.pulls()))
	}
}

// FindPR reports the newest pull request of a branch in any state.
func TestFindPRReportsMergedAndOpen(t *testing.T) {
	t.Parallel()
	w := newWorld(t, protectedMain)
	info, err := w.c.FindPR(context.Background(), owner, repoName, "main", "gitops-promote/main/x")
	if err != nil || info != nil {
		t.Fatalf("FindPR = %+v, %v; want none", info, err)
	}
	ours := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	info, err = w.c.FindPR(context.Background(), owner, repoName, "main", pr.HeadRef)
	if err != nil || info == nil || info.State != "open" || info.HeadSHA != ours || info.Number != 1 {
		t.Fatalf("FindPR = %+v, %v; want #1 open at %s", info, err, ours)
	}
	must(t, w.sim.ClosePR(fullRepo, 1, "alice"))
	info, err = w.c.FindPR(context.Background(), owner, repoName, "main", pr.HeadRef)
	if err != nil || info == nil || info.State != "closed" {
		t.Fatalf("FindPR = %+v, %v; want #1 closed", info, err)
	}
}

// A run whose lookup found no open pull request, though another run opened
// one with our head and GitHub merged it meanwhile: EnsurePR adopts that
// merged pull request instead of opening a second one.
func TestEnsurePRAdoptsTheMergedPullRequestOfOurHead(t *testing.T) {
	t.Parallel()
	w := newWorld(t, protectedMain)
	ours := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	must(t, w.sim.SetChecksPassing(fullRepo, true))
	if _, err := w.c.Merge(context.Background(), pr, ours, "squash", true); err != nil {
		t.Fatal(err)
	}
	got, err := w.c.EnsurePR(context.Background(), PRSpec{Owner: owner, Repo: repoName, Base: "main", Head: pr.HeadRef,
		Title: "t", Body: "b", LookedUp: true, HeadSHA: ours})
	if err != nil || got.Number != 1 || len(w.pulls()) != 1 || w.pulls()[0].State != "MERGED" {
		t.Errorf("EnsurePR = %+v, %v; pulls %+v; want the merged #1 adopted", got, err, w.pulls())
	}
}

// Our commit was replaced on the branch by a later run's push, and GitHub
// merged that head before we asked: EnsurePR adopts the merged pull request
// (the caller then judges its head). With our commit still on the branch, a
// finished pull request is not ours: a new one is opened.
func TestEnsurePRAfterALaterPushMerged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, protectedMain)
	ours := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	theirs := w.prBranch("1.2.0")
	must(t, w.sim.SetChecksPassing(fullRepo, true))
	if _, err := w.c.Merge(context.Background(), pr, theirs, "squash", true); err != nil {
		t.Fatal(err)
	}
	spec := PRSpec{Owner: owner, Repo: repoName, Base: "main", Head: pr.HeadRef, Title: "t", Body: "b", LookedUp: true, HeadSHA: ours}
	got, err := w.c.EnsurePR(context.Background(), spec)
	if err != nil || got.Number != 1 || len(w.pulls()) != 1 {
		t.Fatalf("EnsurePR = %+v, %v; pulls %+v; want the merged #1 adopted", got, err, w.pulls())
	}
	again := w.prBranch("1.3.0") // a new promotion on the branch after the merge
	spec.HeadSHA = again
	got, err = w.c.EnsurePR(context.Background(), spec)
	if err != nil || got.Number != 2 || !got.Created {
		t.Errorf("EnsurePR = %+v, %v; want a new pull request #2 for the commit on the branch", got, err)
	}
}

// hookTransport runs after, once, after the first GraphQL answer that comes
// once after is set.
type hookTransport struct {
	mu    sync.Mutex
	after func()
}

func (h *hookTransport) arm(after func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.after = after
}

func (h *hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/graphql") {
		h.mu.Lock()
		after := h.after
		h.after = nil
		h.mu.Unlock()
		if after != nil {
			after()
		}
	}
	return resp, err
}

// GitHub merges the pull request between Merge's read and its request (the
// checks passed meanwhile): the merge that happened is the answer, not
// "Pull request is already merged".
func TestMergeWhenGitHubMergedMeanwhile(t *testing.T) {
	t.Parallel()
	hook := &hookTransport{}
	w := newWorld(t, protectedMain, WithHTTPClient(&http.Client{Transport: hook}))
	ours := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	hook.arm(func() {
		must(t, w.sim.SetChecksPassing(fullRepo, true))
		req, _ := http.NewRequest(http.MethodPut, w.sim.URL()+"/repos/acme/config/pulls/1/merge", strings.NewReader(`{"merge_method":"squash"}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("merging behind Merge's back: %v %v", resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	})
	out, err := w.c.Merge(context.Background(), pr, ours, "squash", true)
	if err != nil || out.Action != ActionMerged || out.MergeCommit != w.head("main") {
		t.Errorf("Merge = %+v, %v; want merged as main's head %s", out, err, w.head("main"))
	}
}
