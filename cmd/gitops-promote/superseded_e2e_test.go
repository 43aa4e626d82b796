package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/promote"
	"github.com/gitops-promote/gitops-promote/internal/sandbox"
)

// startBinary runs the binary in the background; the result arrives on
// the channel when it exits.
func startBinary(t *testing.T, env map[string]string, args ...string) <-chan runResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = env["GITHUB_WORKSPACE"]
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", args, err)
	}
	done := make(chan runResult, 1)
	go func() {
		err := cmd.Wait()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		done <- runResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
	}()
	return done
}

// waitFor polls cond every 20 ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

// TestE2ELaterRunSupersedesTheSharedPullRequest: two runs promote the same
// image of one overlay with different tags. Run A opens the pull request and
// arms auto-merge; run B joins it with the later tag before the checks pass;
// GitHub then merges B's head. The later tag lands; A ends with exit 0,
// superseded=true, deployed=false and a warning naming the tag that replaced
// its own and the commit that carries it; B lands and is confirmed.
func TestE2ELaterRunSupersedesTheSharedPullRequest(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end to end: waits for merge polls")
	}
	w := startWorld(t)
	prBranch := promote.PRBranch(sandbox.Branch, []string{userProd})
	inputs := func(image string) map[string]string {
		in := worldInputs(w, "user-service-production")
		in["mode"], in["images"] = "pull-request", image
		return in
	}
	envA, outA, _ := runnerEnv(t, inputs(userImage))
	doneA := startBinary(t, envA, "run")
	var headA string
	waitFor(t, "run A armed auto-merge on its pull request", func() bool {
		pulls, err := w.GitHub.Pulls(w.Repo)
		if err != nil || len(pulls) != 1 || pulls[0].AutoMerge == "" {
			return false
		}
		headA, err = w.Git.Head(w.Repo, prBranch)
		return err == nil
	})

	const imageB = "ghcr.io/acme/user-service:1.4.3"
	envB, outB, _ := runnerEnv(t, inputs(imageB))
	doneB := startBinary(t, envB, "run")
	var headB string
	waitFor(t, "run B put its tag on the pull request branch and retitled the pull request", func() bool {
		h, err := w.Git.Head(w.Repo, prBranch)
		if err != nil || h == headA {
			return false
		}
		headB = h
		pulls, err := w.GitHub.Pulls(w.Repo)
		return err == nil && len(pulls) == 1 && strings.Contains(pulls[0].Title, imageB)
	})
	if err := w.GitHub.SetChecksPassing(w.Repo, true); err != nil { // GitHub merges the head it has: B's
		t.Fatal(err)
	}

	a, b := <-doneA, <-doneB
	t.Logf("run A job log:\n%s\nrun B job log:\n%s", a.stdout, b.stdout)
	if a.code != 0 {
		t.Errorf("run A: exit %d, want 0 (superseded is not a failure)\nstderr:\n%s", a.code, a.stderr)
	}
	var warnings []string
	for _, line := range strings.Split(a.stdout, "\n") {
		if strings.HasPrefix(line, "::error") {
			t.Errorf("run A wrote an error annotation: %s", line)
		}
		if strings.HasPrefix(line, "::warning") && strings.Contains(line, "superseded") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], imageB) || !strings.Contains(warnings[0], headB[:12]) || !strings.Contains(warnings[0], userImage) {
		t.Errorf("run A superseded warnings %q; want one naming %s, the commit %s and our %s", warnings, imageB, headB[:12], userImage)
	}
	gotA := readOutputs(t, outA)
	if gotA["superseded"] != "true" || gotA["deployed"] != "false" || gotA["revision"] != "" || gotA["pull-request-number"] != "1" || gotA["commit-sha"] != headA {
		t.Errorf("run A outputs %v; want superseded=true, deployed=false, no revision, pull request 1, its commit", gotA)
	}

	if b.code != 0 {
		t.Fatalf("run B: exit %d\nstderr:\n%s", b.code, b.stderr)
	}
	head, err := w.Git.Head(w.Repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	gotB := readOutputs(t, outB)
	if gotB["merged"] != "true" || gotB["revision"] != head || gotB["deployed"] != "true" || gotB["superseded"] != "false" || gotB["pull-request-number"] != "1" {
		t.Errorf("run B outputs %v; want pull request 1 merged as main's head %s and deployed", gotB, head)
	}
	file, err := w.Git.Git(t.Context(), w.Repo, "show", "main:"+userProd+"/kustomization.yaml")
	if err != nil || !strings.Contains(file, `newTag: "1.4.3"`) {
		t.Errorf("main's kustomization (err %v):\n%s\nwant run B's tag", err, file)
	}
}
