package github

import (
	"context"
	"errors"
	"testing"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/google/go-cmp/cmp"
)

func TestCommitOnBranchStaleOnceThenLandsVerified(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{})
	ctx := context.Background()
	read := w.head("main")
	// Someone else lands a commit after we read main.
	other := w.commit(read, map[string]string{"apps/api/kustomization.yaml": "images: []\n"}, "another pipeline")
	w.git("", "update-ref", "refs/heads/main", other, read)

	edit := func(head string) CommitSpec {
		return CommitSpec{Owner: owner, Repo: repoName, Branch: "main", ExpectedHeadOid: head,
			Message:   "Promote ghcr.io/acme/web:1.1.0\n\nSet by gitops-promote.",
			Additions: map[string][]byte{kfile: []byte("images:\n- name: web\n  newTag: 1.1.0\n")}}
	}
	_, err := w.c.CommitOnBranch(ctx, edit(read))
	if !errors.Is(err, ErrStaleHead) {
		t.Fatalf("first commit error = %v, want ErrStaleHead", err)
	}
	if w.head("main") != other {
		t.Fatalf("a stale commit moved main")
	}
	head, err := w.c.BranchHead(ctx, owner, repoName, "main")
	if err != nil || head != other {
		t.Fatalf("BranchHead = %s, %v; want %s", head, err, other)
	}
	sha, err := w.c.CommitOnBranch(ctx, edit(head))
	if err != nil {
		t.Fatal(err)
	}
	if sha != w.head("main") || w.git("", "rev-parse", sha+"^") != other {
		t.Errorf("commit %s is not main's head on top of %s", sha, other)
	}
	if !w.sim.Verified(fullRepo, sha) {
		t.Errorf("commit %s is not verified in the simulator", sha)
	}
	got := map[string]string{
		"message": w.git("", "show", "-s", "--format=%B", sha),
		"file":    w.show(sha, kfile),
		"other":   w.show(sha, "apps/api/kustomization.yaml"),
	}
	want := map[string]string{
		"message": "Promote ghcr.io/acme/web:1.1.0\n\nSet by gitops-promote.",
		"file":    "images:\n- name: web\n  newTag: 1.1.0",
		"other":   "images: []",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("commit content (-want +got):\n%s", diff)
	}
}

func TestCommitOnBranchResetsOurPRBranch(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{})
	first := w.prBranch("1.1.0")
	second := w.prBranch("1.2.0")
	if w.git("", "rev-parse", second+"^") != w.head("main") {
		t.Errorf("the rebuilt PR branch does not start from main: %s^ != %s (first build %s)", second, w.head("main"), first)
	}
	if got := w.sim.Requests(); got["PATCH /repos/{owner}/{repo}/git/refs/{ref...}"] != 1 {
		t.Errorf("requests:\n%s\nwant one forced ref update for the second build", w.sim.RequestLines())
	}
}

func TestCommitOnProtectedBranch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  githubsim.RepoSettings
		want ProtectedError
	}{
		{"classic protection", githubsim.RepoSettings{Protected: []string{"main"}},
			ProtectedError{Branch: "main", Message: "Changes must be made through a pull request."}},
		{"ruleset", githubsim.RepoSettings{Protected: []string{"main"}, Ruleset: true},
			ProtectedError{Branch: "main", Ruleset: true, Message: "Repository rule violations found\n\nChanges must be made through a pull request."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.set)
			_, err := w.c.CommitOnBranch(context.Background(), CommitSpec{Owner: owner, Repo: repoName, Branch: "main",
				ExpectedHeadOid: w.head("main"), Message: "m", Additions: map[string][]byte{"a": []byte("b")}})
			var pe *ProtectedError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v, want *ProtectedError", err)
			}
			if diff := cmp.Diff(tc.want, *pe); diff != "" {
				t.Errorf("ProtectedError (-want +got):\n%s", diff)
			}
			if pe.Hint() != "the branch needs a pull request: use mode: pull-request (or auto)" {
				t.Errorf("hint = %q", pe.Hint())
			}
		})
	}
}

func TestBranchRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  githubsim.RepoSettings
		want []string
	}{
		{"ruleset with checks and queue", githubsim.RepoSettings{Protected: []string{"main"}, Ruleset: true, RequiredChecks: []string{"ci"}, MergeQueue: true},
			[]string{"pull_request", "required_status_checks", "merge_queue"}},
		{"classic protection is not listed", githubsim.RepoSettings{Protected: []string{"main"}}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.set)
			got, err := w.c.BranchRules(context.Background(), owner, repoName, "main")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBranchHeadNotFound(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{})
	if _, err := w.c.BranchHead(context.Background(), owner, repoName, "nope"); !errors.Is(err, ErrBranchNotFound) {
		t.Errorf("error = %v, want ErrBranchNotFound", err)
	}
}
