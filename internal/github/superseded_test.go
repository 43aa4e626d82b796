package github

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
)

// TestMergeRefusesAHeadThatIsNotOurs: a later run rebuilt the shared pull
// request branch with its own change. Merge, pinned to our commit, must not
// merge (or arm auto-merge for) the other commit, whether the head moved
// before our read or between our read and the mutation (GitHub refuses the
// expectedHeadOid then).
func TestMergeRefusesAHeadThatIsNotOurs(t *testing.T) {
	t.Parallel()
	queue := protectedMain
	queue.MergeQueue, queue.MergeQueueMethod = true, "SQUASH"
	tests := []struct {
		name       string
		set        githubsim.RepoSettings
		passing    bool   // required checks pass before Merge
		rebuildAt  string // "" before Merge; else the mutation the later run races
		wantHeadIn bool   // the error names the new head (it was read, not refused)
	}{
		{name: "moved before the read: clean", set: githubsim.RepoSettings{}, wantHeadIn: true},
		{name: "moved before the read: blocked", set: protectedMain, wantHeadIn: true},
		{name: "moved before mergePullRequest", set: githubsim.RepoSettings{}, rebuildAt: "mergePullRequest"},
		{name: "moved before enablePullRequestAutoMerge", set: protectedMain, rebuildAt: "enablePullRequestAutoMerge"},
		{name: "moved before joining the merge queue", set: queue, passing: true, rebuildAt: "enablePullRequestAutoMerge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var (
				w    *world
				once sync.Once
			)
			hook := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if tc.rebuildAt != "" && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/graphql") && r.Body != nil {
					body, _ := io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(body))
					if bytes.Contains(body, []byte(tc.rebuildAt)) {
						once.Do(func() { w.prBranch("1.2.0") })
					}
				}
				return http.DefaultTransport.RoundTrip(r)
			})
			w = newWorld(t, tc.set, WithHTTPClient(&http.Client{Transport: hook}))
			oldMain := w.head("main")
			ours := w.prBranch("1.1.0")
			pr := w.ensurePR("1.1.0")
			if tc.passing {
				must(t, w.sim.SetChecksPassing(fullRepo, true))
			}
			if tc.rebuildAt == "" {
				w.prBranch("1.2.0")
			}
			out, err := w.c.Merge(context.Background(), pr, ours, "squash", true)
			var sup *SupersededError
			if !errors.As(err, &sup) {
				t.Fatalf("Merge = %+v, %v; want a *SupersededError", out, err)
			}
			var hinted interface{ Hint() string }
			if !errors.As(err, &hinted) || hinted.Hint() == "" {
				t.Errorf("the error has no hint")
			}
			if !strings.Contains(err.Error(), "superseded by a later run that updated pull request #1") ||
				!strings.Contains(err.Error(), ours[:12]) {
				t.Errorf("error = %q, want it to name our commit and say a later run updated pull request #1", err)
			}
			if got := sup.Head != ""; got != tc.wantHeadIn {
				t.Errorf("error names the new head: %v, want %v (%q)", got, tc.wantHeadIn, err)
			}
			if w.head("main") != oldMain {
				t.Errorf("main moved to %s: something was merged", w.head("main"))
			}
			if got := w.pulls()[0]; got.State != "OPEN" || got.AutoMerge != "" || got.InQueue {
				t.Errorf("PR after Merge: %s, auto-merge %q, in queue %v; want open, untouched", got.State, got.AutoMerge, got.InQueue)
			}
		})
	}
}

// TestWaitMergedStopsWhenALaterRunTookThePR: our run armed auto-merge; a
// later run rebuilt the branch (auto-merge stays on: it has write access)
// and GitHub merged that head. Our wait must not return that merge commit.
func TestWaitMergedStopsWhenALaterRunTookThePR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		mergeBefore bool // the later head is merged before our first poll
	}{
		{"still open", false},
		{"already merged", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, protectedMain)
			ours := w.prBranch("1.1.0")
			pr := w.ensurePR("1.1.0")
			out, err := w.c.Merge(context.Background(), pr, ours, "squash", true)
			if err != nil || out.Action != ActionAutoMerge {
				t.Fatalf("Merge = %+v, %v; want auto-merge", out, err)
			}
			theirs := w.prBranch("1.2.0")
			if tc.mergeBefore {
				must(t, w.sim.SetChecksPassing(fullRepo, true))
				if got := w.pulls()[0]; got.State != "MERGED" {
					t.Fatalf("the simulator did not merge the later head: %+v", got)
				}
			}
			sha, err := w.c.WaitMerged(context.Background(), pr, ours)
			var sup *SupersededError
			if !errors.As(err, &sup) {
				t.Fatalf("WaitMerged = %q, %v; want a *SupersededError", sha, err)
			}
			want := &SupersededError{Number: 1, URL: pr.URL, Ours: ours, Head: theirs}
			if diff := cmp.Diff(want, sup); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if n := len(w.clock.Sleeps()); n != 0 {
				t.Errorf("WaitMerged slept %d times; a moved head must end the wait at once", n)
			}
		})
	}
}
