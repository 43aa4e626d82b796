package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/internal/sandbox"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/faultproxy"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// faultWorld is the sandbox with an unprotected main (push mode), and a
// fault proxy in front of its real git server.
func faultWorld(t *testing.T) (*sandbox.World, *faultproxy.Proxy) {
	t.Helper()
	w, err := sandbox.Start(sandbox.Options{
		Seed: gitopspromote.Example(), Protection: gitserver.Unprotected,
		PollInterval: 180 * time.Second, RolloutDelay: 100 * time.Millisecond, SyncDuration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(w.Close)
	p, err := faultproxy.Start(w.Git.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	// Argo CD reaches the repository through the same address as the runs, so the
	// check that the application deploys our repository holds.
	w.ArgoCD.SetRepoURL(p.URL(w.RepoURL))
	return w, p
}

// pushArgs runs a push to the sandbox through the proxy, confirmed in Argo CD.
func pushArgs(w *sandbox.World, p *faultproxy.Proxy, timeout string) []string {
	return []string{"run", "--mode", "push", "--repository-url", p.URL(w.RepoURL), "--token", w.Token,
		"--overlays", userProd, "--images", userImage, "--timeout", timeout, "--json",
		"--argocd-server", w.ArgoCD.URL(), "--argocd-token", w.ArgoCDToken, "--argocd-apps", "user-service-production",
		"--argocd-refresh", "normal"}
}

// runWithin runs the binary like runBinary, killed after limit: a run that
// outlives its own timeout by far fails the test instead of hanging it.
func runWithin(t *testing.T, limit time.Duration, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the run was still going after %s: killed\nstderr:\n%s", limit, stderr.String())
	}
	return runResult{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// Finding 2: the server applied the push but its answer was lost (dropped
// with the connection left silent, or cut, with another pipeline's commit
// landing on ours in between). The run reads the branch: exit 0, commit-sha
// and revision are our commit, one commit of ours on the branch, and Argo CD
// is asked and confirms it.
func TestRunPushWhoseAnswerWasLostReportsLanded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault faultproxy.Fault
		onTop bool
	}{
		{"answer dropped", faultproxy.DropAnswer, false},
		{"cut after apply, another commit on top", faultproxy.CutAfterApply, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, p := faultWorld(t)
			var other string
			if tc.onTop {
				p.AfterFault(func(faultproxy.Exchange) {
					var err error
					other, err = w.Git.CommitFiles(w.Repo, "main", map[string][]byte{"docs/other.md": []byte("another pipeline\n")}, "Another pipeline")
					if err != nil {
						t.Error(err)
					}
				})
			}
			p.Inject(faultproxy.Pushes, tc.fault, 1)
			// timeout 15s: a dropped answer costs one request ceiling (5 s).
			r := runWithin(t, 90*time.Second, pushArgs(w, p, "15s")...)
			noToken(t, r)
			if r.code != 0 {
				t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			got := decodeJSON(t, r.stdout)
			ours, _ := got["commit-sha"].(string)
			if len(ours) != 40 || got["revision"] != ours || got["changed"] != true || got["deployed"] != true {
				t.Fatalf("outputs %v; want our commit as commit-sha and revision, changed and deployed", got)
			}
			headNow, err := w.Git.Head(w.Repo, "main")
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{false: ours, true: other}[tc.onTop]; headNow != want {
				t.Errorf("main is at %s, want %s", headNow, want)
			}
			if n, _ := w.Git.Git(t.Context(), w.Repo, "rev-list", "--count", w.SeedHead+".."+headNow); n != map[bool]string{false: "1", true: "2"}[tc.onTop] {
				t.Errorf("%s commits since the seed: ours landed twice or not at all", n)
			}
			if !strings.Contains(r.stderr, "the earlier push landed") {
				t.Errorf("stderr does not say the push whose answer was lost landed:\n%s", r.stderr)
			}
		})
	}
}

// Finding 3: four pushes in a row cut on the way: the run keeps retrying
// and lands (exit 0) once the network is back; when it never comes back,
// the run ends at its timeout with exit 1 and a plain message, never exit 2
// or an internal one.
func TestRunNetworkBlipDuringPush(t *testing.T) {
	t.Parallel()
	t.Run("four cut pushes, then the network is back", func(t *testing.T) {
		t.Parallel()
		w, p := faultWorld(t)
		p.Inject(faultproxy.Pushes, faultproxy.CutBeforeApply, 4)
		r := runWithin(t, 3*time.Minute, pushArgs(w, p, "2m")...)
		noToken(t, r)
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		headNow, _ := w.Git.Head(w.Repo, "main")
		if got := decodeJSON(t, r.stdout); got["commit-sha"] != headNow || got["deployed"] != true {
			t.Errorf("outputs %v; want our commit %s at the head, deployed", got, headNow)
		}
		cuts := 0
		for _, e := range p.Log() {
			if e.Fault == faultproxy.CutBeforeApply {
				cuts++
			}
		}
		if cuts != 4 {
			t.Errorf("%d pushes were cut, want 4", cuts)
		}
	})
	t.Run("the network stays down", func(t *testing.T) {
		t.Parallel()
		w, p := faultWorld(t)
		p.Inject(faultproxy.Pushes, faultproxy.CutBeforeApply, -1)
		r := runWithin(t, 2*time.Minute, pushArgs(w, p, "5s")...)
		noToken(t, r)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
		}
		for _, bad := range []string{"invalid commit", "not a commit made by Commit", "made by Commit"} {
			if strings.Contains(r.stderr, bad) {
				t.Errorf("stderr shows an internal message %q:\n%s", bad, r.stderr)
			}
		}
		if !strings.Contains(r.stderr, `error: landing on "main": `) || !strings.Contains(r.stderr, "\nhint: ") {
			t.Errorf("stderr lacks a plain landing error with a hint:\n%s", r.stderr)
		}
		if headNow, _ := w.Git.Head(w.Repo, "main"); headNow != w.SeedHead {
			t.Errorf("main moved to %s through cut pushes", headNow)
		}
	})
}

// Finding 6: a git server that accepts and never answers. timeout bounds the
// run (exit 1, well before a single 2-minute request could end), and each
// request has its own ceiling, so one hung request is retried within the
// timeout and the run lands.
func TestRunHungGitServerIsBoundedByTimeout(t *testing.T) {
	t.Parallel()
	t.Run("never answers", func(t *testing.T) {
		t.Parallel()
		w, p := faultWorld(t)
		p.Inject(faultproxy.Any, faultproxy.Hang, -1)
		r := runWithin(t, 60*time.Second, pushArgs(w, p, "3s")...)
		noToken(t, r)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "time allowed ran out") || !strings.Contains(r.stderr, "\nhint: the git server did not answer within timeout (3s)") {
			t.Errorf("stderr does not say the time ran out, with a hint naming the timeout:\n%s", r.stderr)
		}
	})
	t.Run("one request hangs", func(t *testing.T) {
		t.Parallel()
		w, p := faultWorld(t)
		p.Inject(faultproxy.Any, faultproxy.Hang, 1)
		// timeout 15s: the hung request is given up after its 5 s ceiling.
		r := runWithin(t, 90*time.Second, pushArgs(w, p, "15s")...)
		noToken(t, r)
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "no answer within 5s") {
			t.Errorf("stderr does not say the request got no answer within its ceiling:\n%s", r.stderr)
		}
	})
}
