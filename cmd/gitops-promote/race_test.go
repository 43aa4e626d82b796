package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// manyImages is a kustomization that lists n images, each of which one pipeline bumps.
func manyImages(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nresources:\n  - deployment.yaml\n\nimages:\n")
	for i := range n {
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

// concurrentTimeout is each pipeline's --timeout: its landing budget, as a
// person would give it. The product is bounded by it, so is the test: no
// other clock is asserted.
const concurrentTimeout = 10 * time.Minute

// concurrentPipelines runs n pipelines, as separate processes of the binary,
// each setting a different image in the same file on the same branch of the
// real git server at the same moment, and checks what a user would: every
// process exits 0, the file holds all n new tags, the branch gained exactly
// n commits, and the server's reflog shows only fast-forwards (nothing was
// force-pushed or lost). It logs the slowest run and the total.
func concurrentPipelines(t *testing.T, n int) {
	s, err := gitserver.Start(gitserver.WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	repo, err := s.CreateRepo("acme", "fleet")
	if err != nil {
		t.Fatal(err)
	}
	old, err := s.SeedFromDir(repo, "main", manyImages(t, n))
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.RefUpdates(repo, "main")
	if err != nil {
		t.Fatal(err)
	}

	results := make([]runResult, n)
	took := make([]time.Duration, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		dir := t.TempDir()
		wg.Go(func() {
			<-start
			// Not runBinary: it may t.Fatal, which only the test goroutine may call.
			ctx, cancel := context.WithTimeout(context.Background(), concurrentTimeout+time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "run", "--mode", "push",
				"--repository-url", s.RepoURL(repo), "--token", testToken, "--timeout", concurrentTimeout.String(),
				"--overlays", "apps/fleet/overlays/prod", "--images", fmt.Sprintf("ghcr.io/acme/svc-%02d:2.0.%d", i, i), "--json")
			cmd.Dir, cmd.Env = dir, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			t0 := time.Now()
			err := cmd.Run()
			took[i] = time.Since(t0)
			results[i] = runResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
			if err != nil && cmd.ProcessState == nil {
				results[i] = runResult{stderr: err.Error(), code: -1}
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	total := time.Since(t0)

	landed := 0
	for i, r := range results {
		noToken(t, r)
		if r.code != 0 {
			t.Errorf("pipeline %d: exit %d, stderr:\n%s", i, r.code, r.stderr)
			continue
		}
		landed++
	}
	t.Logf("%d pipelines: %d landed, slowest run %s, total %s", n, landed, slices.Max(took).Round(10*time.Millisecond), total.Round(10*time.Millisecond))
	newHead := head(t, s, repo)
	count, err := s.Git(t.Context(), repo, "rev-list", "--count", old+".."+newHead)
	if err != nil {
		t.Fatal(err)
	}
	if count != fmt.Sprint(n) {
		t.Errorf("the branch gained %s commits, want %d", count, n)
	}
	updates, err := s.FastForwardOnly(t.Context(), repo, "main")
	if err != nil {
		t.Errorf("the server's reflog shows an update that is not a fast-forward:\n%v", err)
	}
	if pushes := updates - len(before); pushes != n {
		t.Errorf("the server's reflog shows %d updates of main since the seed, want %d (one push per pipeline)", pushes, n)
	}
	content, _ := cloneFile(t, s, repo, "apps/fleet/overlays/prod/kustomization.yaml")
	for i := range n {
		want := fmt.Sprintf("  # service %02d\n  - name: ghcr.io/acme/svc-%02d\n    newTag: 2.0.%d\n", i, i, i)
		if !strings.Contains(content, want) {
			t.Errorf("the file lost pipeline %d's tag; want %q in:\n%s", i, want, content)
		}
	}
}

// Twenty pipelines at once on one branch all land (issue 12, finding 4).
func TestRunTwentyConcurrentPipelinesAllLand(t *testing.T) {
	concurrentPipelines(t, 20)
}

// Fifty pipelines at once on one branch all land (issue 12, finding 4).
func TestRunFiftyConcurrentPipelinesAllLand(t *testing.T) {
	if testing.Short() {
		t.Skip("fifty processes racing on one branch")
	}
	concurrentPipelines(t, 50)
}

// A pipeline that loses eleven races in a row (another commit lands between
// each of its fetches and its push) still lands: lost races are retried until
// the landing budget is spent, not for a fixed count (it gave up after ten).
func TestRunKeepsLandingPastTenLostRaces(t *testing.T) {
	t.Parallel()
	s, repo := startGitServer(t)
	const lost = 11
	var mu sync.Mutex // pushes may come on new connections: new server goroutines
	others := 0
	s.BeforeReceive(func(r string) {
		mu.Lock()
		defer mu.Unlock()
		if others >= lost {
			return
		}
		others++
		if _, err := s.CommitFiles(r, "main", map[string][]byte{fmt.Sprintf("docs/other-%02d.md", others): []byte("another pipeline\n")}, "Another pipeline"); err != nil {
			t.Error(err)
		}
	})
	r := runBinary(t, t.TempDir(), nil, "run", "--mode", "push", "--repository-url", s.RepoURL(repo), "--token", testToken,
		"--timeout", concurrentTimeout.String(), "--overlays", userProd, "--images", userImage, "--json")
	noToken(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d after lost races\nstderr:\n%s", r.code, r.stderr)
	}
	got := decodeJSON(t, r.stdout)
	if h := head(t, s, repo); got["commit-sha"] != h {
		t.Errorf("commit-sha %v, want the head %s", got["commit-sha"], h)
	}
	if n := strings.Count(r.stderr, "fetching the new head and re-applying the edit"); n != lost {
		t.Errorf("%d retries logged, want %d", n, lost)
	}
}
