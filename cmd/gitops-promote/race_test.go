package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// twentyImages is a kustomization that lists twenty images, each of which one pipeline bumps.
func twentyImages(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nresources:\n  - deployment.yaml\n\nimages:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  # service %02d\n  - name: ghcr.io/acme/svc-%02d\n    newTag: 1.0.0\n", i, i)
	}
	files := map[string]string{
		"apps/fleet/overlays/prod/kustomization.yaml": b.String(),
		"apps/fleet/overlays/prod/deployment.yaml":    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fleet\nspec:\n  template:\n    spec:\n      containers:\n        - name: svc-00\n          image: ghcr.io/acme/svc-00:0.1.0\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Twenty pipelines, as separate processes, each set a different image in the same file on
// the same branch at the same moment. All must land: every process exits 0, the file holds
// all twenty new tags, the branch gained exactly twenty commits, and the old head is still in
// its history (nothing was force-pushed).
func TestRunTwentyConcurrentPipelinesAllLand(t *testing.T) {
	s, err := gitserver.Start(gitserver.WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	repo, err := s.CreateRepo("acme", "fleet")
	if err != nil {
		t.Fatal(err)
	}
	old, err := s.SeedFromDir(repo, "main", twentyImages(t))
	if err != nil {
		t.Fatal(err)
	}

	const n = 20
	results := make([]runResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		dir := t.TempDir()
		wg.Go(func() {
			<-start
			// Not runBinary: it may t.Fatal, which only the test goroutine may call.
			cmd := exec.Command(binary, "run", "--mode", "push",
				"--repository-url", s.RepoURL(repo), "--token", testToken,
				"--overlays", "apps/fleet/overlays/prod", "--images", fmt.Sprintf("ghcr.io/acme/svc-%02d:2.0.%d", i, i), "--json")
			cmd.Dir, cmd.Env = dir, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			results[i] = runResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
			if err != nil && cmd.ProcessState == nil {
				results[i] = runResult{stderr: err.Error(), code: -1}
			}
		})
	}
	close(start)
	wg.Wait()

	for i, r := range results {
		noToken(t, r)
		if r.code != 0 {
			t.Errorf("pipeline %d: exit %d, stderr:\n%s", i, r.code, r.stderr)
		}
	}
	newHead := head(t, s, repo)
	count, err := s.Git(t.Context(), repo, "rev-list", "--count", old+".."+newHead)
	if err != nil {
		t.Fatal(err)
	}
	if count != fmt.Sprint(n) {
		t.Errorf("the branch gained %s commits, want %d", count, n)
	}
	if _, err := s.Git(t.Context(), repo, "merge-base", "--is-ancestor", old, newHead); err != nil {
		t.Errorf("the old head %s is not an ancestor of %s: something was force-pushed", old, newHead)
	}
	content, _ := cloneFile(t, s, repo, "apps/fleet/overlays/prod/kustomization.yaml")
	for i := range n {
		want := fmt.Sprintf("  # service %02d\n  - name: ghcr.io/acme/svc-%02d\n    newTag: 2.0.%d\n", i, i, i)
		if !strings.Contains(content, want) {
			t.Errorf("the file lost pipeline %d's tag; want %q in:\n%s", i, want, content)
		}
	}
}
