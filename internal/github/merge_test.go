package github

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/google/go-cmp/cmp"
)

var protectedMain = githubsim.RepoSettings{AutoMergeAllowed: true, Protected: []string{"main"}, RequiredChecks: []string{"ci"}}

func TestMergeCleanMergesAtOnceWithARealCommit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method      string
		wantParents int
	}{
		{"squash", 1},
		{"merge", 2},
		{"rebase", 1},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			w := newWorld(t, githubsim.RepoSettings{})
			oldMain := w.head("main")
			head := w.prBranch("1.1.0")
			pr := w.ensurePR("1.1.0")
			out, err := w.c.Merge(context.Background(), pr, head, tc.method, true)
			if err != nil {
				t.Fatal(err)
			}
			if out.Action != ActionMerged || out.MergeCommit != w.head("main") {
				t.Fatalf("Merge = %+v, want merged as main's new head %s", out, w.head("main"))
			}
			if got := w.parents(out.MergeCommit); got != tc.wantParents {
				t.Errorf("merge commit has %d parents, want %d", got, tc.wantParents)
			}
			if w.git("", "rev-parse", out.MergeCommit+"^1") != oldMain {
				t.Errorf("first parent of the merge commit is not the old main")
			}
			if got := w.show("main", kfile); !strings.Contains(got, "newTag: 1.1.0") {
				t.Errorf("main's kustomization after the merge:\n%s", got)
			}
			if sha, err := w.c.WaitMerged(context.Background(), pr, head); err != nil || sha != out.MergeCommit {
				t.Errorf("WaitMerged = %q, %v; want %q", sha, err, out.MergeCommit)
			}
		})
	}
}

func TestMergeBlockedEnablesAutoMergeThenWaits(t *testing.T) {
	t.Parallel()
	w := newWorld(t, protectedMain)
	head := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	out, err := w.c.Merge(context.Background(), pr, head, "squash", true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&MergeOutcome{Action: ActionAutoMerge, Method: "SQUASH"}, out); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
	if got := w.pulls()[0]; got.State != "OPEN" || got.AutoMerge != "SQUASH" {
		t.Errorf("PR on GitHub = %s auto-merge %q, want OPEN with SQUASH auto-merge", got.State, got.AutoMerge)
	}
	w.clock.onSleep = func(n int) {
		if n == 2 {
			if err := w.sim.SetChecksPassing(fullRepo, true); err != nil {
				t.Error(err)
			}
		}
	}
	sha, err := w.c.WaitMerged(context.Background(), pr, head)
	if err != nil {
		t.Fatal(err)
	}
	if sha != w.head("main") || w.pulls()[0].MergeCommit != sha {
		t.Errorf("WaitMerged = %s, want main's head %s, the PR's merge commit", sha, w.head("main"))
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second, 7500 * time.Millisecond}, w.clock.Sleeps()); diff != "" {
		t.Errorf("poll waits (-want +got):\n%s", diff)
	}
}

func TestMergeQueue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		passingNow bool // checks already pass when Merge runs
		wantQueue  bool // in the queue right after Merge
	}{
		{"mergeable PR joins the queue", true, true},
		{"blocked PR joins when checks pass", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := protectedMain
			set.MergeQueue, set.AutoMergeAllowed, set.MergeQueueMethod = true, false, "SQUASH"
			w := newWorld(t, set)
			head := w.prBranch("1.1.0")
			pr := w.ensurePR("1.1.0")
			if err := w.sim.SetChecksPassing(fullRepo, tc.passingNow); err != nil {
				t.Fatal(err)
			}
			out, err := w.c.Merge(context.Background(), pr, head, "merge", true)
			if err != nil {
				t.Fatal(err)
			}
			if out.Action != ActionQueued {
				t.Errorf("Merge action = %s, want queued", out.Action)
			}
			if got := w.pulls()[0]; got.InQueue != tc.wantQueue || got.State != "OPEN" {
				t.Errorf("after Merge: in queue %v state %s, want in queue %v, OPEN", got.InQueue, got.State, tc.wantQueue)
			}
			w.clock.onSleep = func(n int) {
				if n == 1 {
					if err := w.sim.SetChecksPassing(fullRepo, true); err != nil {
						t.Error(err)
					}
				}
			}
			sha, err := w.c.WaitMerged(context.Background(), pr, head)
			if err != nil {
				t.Fatal(err)
			}
			if sha != w.head("main") || w.parents(sha) != 1 {
				t.Errorf("merged as %s (%d parents), want main's head %s squashed by the queue", sha, w.parents(sha), w.head("main"))
			}
		})
	}
}

func TestMergeRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		set      githubsim.RepoSettings
		before   func(w *world, pr *PR)
		wantErr  string
		wantHint string
	}{
		{
			name:     "auto-merge not allowed",
			set:      githubsim.RepoSettings{Protected: []string{"main"}, RequiredChecks: []string{"ci"}},
			wantErr:  "pull request #1 (URL) cannot merge yet (blocked) and the repository does not allow auto-merge",
			wantHint: "turn on Settings > General > Pull Requests > Allow auto-merge in the config repository, or set auto-merge: false and merge by hand",
		},
		{
			name:     "draft",
			set:      protectedMain,
			before:   func(w *world, pr *PR) { must(w.t, w.sim.SetDraft(fullRepo, pr.Number, true)) },
			wantErr:  "pull request #1 (URL) is a draft; GitHub does not merge drafts",
			wantHint: "mark the pull request ready for review (or close it so the next run opens a fresh one)",
		},
		{
			name:     "closed",
			set:      protectedMain,
			before:   func(w *world, pr *PR) { must(w.t, w.sim.ClosePR(fullRepo, pr.Number, "alice")) },
			wantErr:  "pull request #1 (URL) will not merge: it was closed without merging (by @alice)",
			wantHint: "look at the pull request; run the promotion again to open a fresh one",
		},
		{
			name: "conflict",
			set:  protectedMain,
			before: func(w *world, pr *PR) {
				c := w.commit(w.head("main"), map[string]string{kfile: "images:\n- name: web\n  newTag: 9.9.9\n"}, "hand edit")
				w.git("", "update-ref", "refs/heads/main", c)
			},
			wantErr:  "pull request #1 (URL) has conflicts with its base branch",
			wantHint: "run the promotion again: it rebuilds the pull request branch from the current base",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.set)
			head := w.prBranch("1.1.0")
			pr := w.ensurePR("1.1.0")
			if tc.before != nil {
				tc.before(w, pr)
			}
			_, err := w.c.Merge(context.Background(), pr, head, "squash", true)
			var hinted interface{ Hint() string }
			if err == nil || !errors.As(err, &hinted) {
				t.Fatalf("Merge error = %v, want one with a hint", err)
			}
			if got := strings.ReplaceAll(err.Error(), pr.URL, "URL"); got != tc.wantErr {
				t.Errorf("error = %q\nwant    %q", got, tc.wantErr)
			}
			if hinted.Hint() != tc.wantHint {
				t.Errorf("hint = %q, want %q", hinted.Hint(), tc.wantHint)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWaitMergedStopsWhenThePRWillNotMerge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		set    githubsim.RepoSettings
		during func(w *world, pr *PR)
		want   string
	}{
		{
			name:   "closed by a person",
			set:    protectedMain,
			during: func(w *world, pr *PR) { must(w.t, w.sim.ClosePR(fullRepo, pr.Number, "alice")) },
			want:   "pull request #1 (URL) will not merge: it was closed without merging (by @alice)",
		},
		{
			name: "dropped from the merge queue",
			set: githubsim.RepoSettings{Protected: []string{"main"}, RequiredChecks: []string{"ci"}, MergeQueue: true,
				AutoMergeAllowed: true},
			during: func(w *world, pr *PR) {
				must(w.t, w.sim.RemoveFromQueue(fullRepo, pr.Number, "The merge group failed required status checks"))
			},
			want: "pull request #1 (URL) will not merge: it was removed from the merge queue (The merge group failed required status checks)",
		},
		{
			name:   "auto-merge turned off",
			set:    protectedMain,
			during: func(w *world, pr *PR) { must(w.t, w.sim.DisableAutoMerge(fullRepo, pr.Number, "bob", "")) },
			want:   "pull request #1 (URL) will not merge: auto-merge was turned off (by @bob)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.set)
			head := w.prBranch("1.1.0")
			pr := w.ensurePR("1.1.0")
			if tc.set.MergeQueue {
				must(t, w.sim.SetChecksPassing(fullRepo, false))
				must(t, w.sim.UpdateRepo(fullRepo, func(s *githubsim.RepoSettings) { s.RequiredChecks = nil }))
			}
			if _, err := w.c.Merge(context.Background(), pr, head, "squash", true); err != nil {
				t.Fatal(err)
			}
			w.clock.onSleep = func(n int) {
				if n == 1 {
					tc.during(w, pr)
				}
			}
			_, err := w.c.WaitMerged(context.Background(), pr, head)
			var closed *ClosedError
			if !errors.As(err, &closed) {
				t.Fatalf("WaitMerged error = %v, want *ClosedError", err)
			}
			if got := strings.ReplaceAll(err.Error(), pr.URL, "URL"); got != tc.want {
				t.Errorf("error = %q\nwant    %q", got, tc.want)
			}
		})
	}
}

func TestMergeWaitsOutUnknownMergeState(t *testing.T) {
	t.Parallel()
	set := githubsim.RepoSettings{UnknownReads: 2}
	w := newWorld(t, set)
	head := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	out, err := w.c.Merge(context.Background(), pr, head, "squash", true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != ActionMerged || out.MergeCommit != w.head("main") {
		t.Errorf("Merge = %+v, want merged as main's head", out)
	}
	if diff := cmp.Diff([]time.Duration{2 * time.Second, 4 * time.Second}, w.clock.Sleeps()); diff != "" {
		t.Errorf("waits for UNKNOWN (-want +got):\n%s", diff)
	}
}

func TestWaitMergedWarnsWhenChecksNeverStart(t *testing.T) {
	t.Parallel()
	set := protectedMain
	set.ChecksNeverStart = true
	w := newWorld(t, set)
	head := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	if _, err := w.c.Merge(context.Background(), pr, head, "squash", true); err != nil {
		t.Fatal(err)
	}
	w.clock.onSleep = func(n int) {
		if n == 12 { // about four minutes of polling
			must(t, w.sim.SetChecksPassing(fullRepo, true))
		}
	}
	if _, err := w.c.WaitMerged(context.Background(), pr, head); err != nil {
		t.Fatal(err)
	}
	logs := w.logs.text()
	if n := strings.Count(logs, "actions/create-github-app-token"); n != 1 {
		t.Errorf("the checks warning appeared %d times, want once; logs:\n%s", n, logs)
	}
	if !strings.Contains(logs, "warning: pull request #1: no required check has started after 3m0s. Pushes and pull requests made with GITHUB_TOKEN start no workflows") {
		t.Errorf("logs lack the warning:\n%s", logs)
	}
}

func TestWaitMergedEndsWithTheContext(t *testing.T) {
	t.Parallel()
	w := newWorld(t, protectedMain)
	head := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	if _, err := w.c.Merge(context.Background(), pr, head, "squash", true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.clock.onSleep = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	_, err := w.c.WaitMerged(ctx, pr, head)
	var to *WaitTimeoutError
	if !errors.As(err, &to) || !errors.Is(err, context.Canceled) || to.Last != "blocked" {
		t.Errorf("WaitMerged error = %v, want a WaitTimeoutError (last state blocked) wrapping context.Canceled", err)
	}
}

func TestMergeWithoutAutoMergeLeavesThePROpen(t *testing.T) {
	t.Parallel()
	w := newWorld(t, protectedMain)
	head := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	w.sim.ResetRequests()
	out, err := w.c.Merge(context.Background(), pr, head, "rebase", false)
	if err != nil || out.Action != ActionNone {
		t.Errorf("Merge = %+v, %v; want action none", out, err)
	}
	if n := w.sim.TotalRequests(); n != 0 {
		t.Errorf("made %d requests, want 0", n)
	}
	if _, err := w.c.Merge(context.Background(), pr, head, "fast-forward", true); err == nil || !strings.Contains(err.Error(), `merge-method "fast-forward" is not one of merge, squash, rebase`) {
		t.Errorf("bad method error = %v", err)
	}
}

// TestPRRunRequestBudget is the API-economy check of whole PR-mode runs:
// build the PR branch (API commit), open the PR, merge it the way the
// repository allows, and wait for the merge commit. The checks pass after
// two polls where they are required.
func TestPRRunRequestBudget(t *testing.T) {
	t.Parallel()
	queue := protectedMain
	queue.MergeQueue = true
	tests := []struct {
		name       string
		set        githubsim.RepoSettings
		wantAction MergeAction
	}{
		{"protected: auto-merge, checks pass, merged", protectedMain, ActionAutoMerge},
		{"unprotected: merged at once", githubsim.RepoSettings{}, ActionMerged},
		{"merge queue: queued, merged", queue, ActionQueued},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.set)
			w.sim.ResetRequests()
			head := w.prBranch("1.1.0")
			pr := w.ensurePR("1.1.0")
			out, err := w.c.Merge(context.Background(), pr, head, "squash", true)
			if err != nil || out.Action != tc.wantAction {
				t.Fatalf("Merge = %+v, %v; want %s", out, err, tc.wantAction)
			}
			w.clock.onSleep = func(n int) {
				if n == 2 {
					must(t, w.sim.SetChecksPassing(fullRepo, true))
				}
			}
			sha := out.MergeCommit
			if sha == "" {
				if sha, err = w.c.WaitMerged(context.Background(), pr, head); err != nil {
					t.Fatal(err)
				}
			}
			if sha != w.head("main") {
				t.Fatalf("merged as %s, main is %s", sha, w.head("main"))
			}
			total := w.sim.TotalRequests()
			t.Logf("%s: %d GitHub requests\n%s", tc.name, total, w.sim.RequestLines())
			if total > 12 {
				t.Errorf("the run made %d requests, want at most 12:\n%s", total, w.sim.RequestLines())
			}
		})
	}
}

func TestMergeUnstableMergesNow(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{OptionalChecksFail: true})
	head := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	out, err := w.c.Merge(context.Background(), pr, head, "squash", true)
	if err != nil || out.Action != ActionMerged || out.MergeCommit != w.head("main") {
		t.Errorf("Merge = %+v, %v; want merged at once as main's head", out, err)
	}
}

// TestMergeCleanStatusRace: the checks pass between our read (BLOCKED) and
// enablePullRequestAutoMerge, which GitHub then refuses with "Pull request
// is in clean status"; the client re-reads and merges.
func TestMergeCleanStatusRace(t *testing.T) {
	t.Parallel()
	var w *world
	hook := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/graphql") && r.Body != nil {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if bytes.Contains(body, []byte("enablePullRequestAutoMerge")) {
				must(w.t, w.sim.SetChecksPassing(fullRepo, true))
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	w = newWorld(t, protectedMain, WithHTTPClient(&http.Client{Transport: hook}))
	head := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	w.sim.ResetRequests()
	out, err := w.c.Merge(context.Background(), pr, head, "merge", true)
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != ActionMerged || out.MergeCommit != w.head("main") || w.parents(out.MergeCommit) != 2 {
		t.Errorf("Merge = %+v, want a merge commit that is main's head", out)
	}
	want := map[string]int{
		"POST /graphql query repository":                    2,
		"POST /graphql mutation enablePullRequestAutoMerge": 1,
		"POST /graphql mutation mergePullRequest":           1,
	}
	if diff := cmp.Diff(want, w.sim.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestSecondRunKeepsAutoMergeAndWorksOnGHESURLs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, protectedMain)
	ghes, err := New(w.sim.URL()+"/api/v3", testToken, WithClock(w.clock))
	if err != nil {
		t.Fatal(err)
	}
	w.c = ghes
	head := w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	if out, err := w.c.Merge(context.Background(), pr, head, "squash", true); err != nil || out.Action != ActionAutoMerge {
		t.Fatalf("first Merge = %+v, %v", out, err)
	}
	head = w.prBranch("1.2.0")
	pr = w.ensurePR("1.2.0")
	w.sim.ResetRequests()
	out, err := w.c.Merge(context.Background(), pr, head, "squash", true)
	if err != nil || out.Action != ActionAutoMerge {
		t.Fatalf("second Merge = %+v, %v", out, err)
	}
	if diff := cmp.Diff(map[string]int{"POST /api/graphql query repository": 1}, w.sim.Requests()); diff != "" {
		t.Errorf("second Merge requests (-want +got):\n%s", diff)
	}
	must(t, w.sim.SetChecksPassing(fullRepo, true))
	sha, err := w.c.WaitMerged(context.Background(), pr, head)
	if err != nil || !strings.Contains(w.show(sha, kfile), "newTag: 1.2.0") {
		t.Errorf("WaitMerged = %s, %v; want the merge of the newest change", sha, err)
	}
}

func FuzzEndpoints(f *testing.F) {
	for _, s := range []string{"https://api.github.com", "https://ghe.example.com/api/v3/", "http://127.0.0.1:1/x", "::", "https://u:p@h/api/v3?x#y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rest, gql, err := endpoints(in)
		if err != nil {
			return
		}
		if !strings.HasSuffix(rest.Path, "/") || !strings.HasSuffix(gql, "/graphql") {
			t.Errorf("endpoints(%q) = %q, %q", in, rest, gql)
		}
		if g, err := url.Parse(gql); rest.User != nil || err != nil || g.User != nil {
			t.Errorf("endpoints(%q) kept user information or broke the URL: %q %q", in, rest, gql)
		}
	})
}
