package sandbox_test

import (
	"strings"
	"testing"
	"time"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/internal/sandbox"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// The world comes up seeded: the repository's main holds the example tree, it is protected,
// and one Argo CD application per overlay is Synced at the seed commit.
func TestStartSeedsProtectedRepositoryAndApps(t *testing.T) {
	w, err := sandbox.Start(sandbox.Options{Seed: gitopspromote.Example(), Protection: gitserver.Classic, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)

	head, err := w.Git.Head(w.Repo, sandbox.Branch)
	if err != nil {
		t.Fatal(err)
	}
	if head != w.SeedHead {
		t.Errorf("main is at %s, want the seed commit %s", head, w.SeedHead)
	}
	files, err := w.Git.Git(t.Context(), w.Repo, "ls-tree", "-r", "--name-only", head)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(files, "apps/user-service/overlays/production/kustomization.yaml") {
		t.Errorf("seed tree lacks the production overlay:\n%s", files)
	}
	var names []string
	for _, a := range w.Apps {
		names = append(names, a.Name)
	}
	want := "order-service-production order-service-staging user-service-production user-service-staging"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("apps = %q, want %q", got, want)
	}
	if strings.Contains(w.RepoURL, w.Token) {
		t.Errorf("RepoURL %q carries the token", w.RepoURL)
	}
}
