package main

import (
	"strings"
	"testing"
)

// TestRunUnreachableGitServerSaysWhatToDo: the git server keeps failing
// through gitrepo's retries. The run ends with exit 1, one error, a hint,
// and retry lines that say the operation once.
func TestRunUnreachableGitServerSaysWhatToDo(t *testing.T) {
	t.Parallel()
	s, repo := startGitServer(t)
	s.Fail500(20)
	r := runBinary(t, t.TempDir(), nil, "run", "--mode", "push", "--repository-url", s.RepoURL(repo), "--token", testToken,
		"--overlays", userProd, "--images", userImage)
	noToken(t, r)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "\nhint: "+networkHint+"\n") {
		t.Errorf("stderr lacks the hint %q:\n%s", networkHint, r.stderr)
	}
	retries := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "attempt ") {
			continue
		}
		retries++
		if n := strings.Count(line, "reading the default branch of"); n != 1 {
			t.Errorf("the retry line names the operation %d times, want once:\n%s", n, line)
		}
	}
	if retries == 0 {
		t.Errorf("no retry line was logged:\n%s", r.stderr)
	}
}
