package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
		what, rest, ok := strings.Cut(strings.TrimSpace(line), ": attempt ")
		if !ok {
			continue
		}
		retries++
		if strings.Contains(rest, what) {
			t.Errorf("the retry line repeats %q:\n%s", what, line)
		}
	}
	if retries == 0 {
		t.Errorf("no retry line was logged:\n%s", r.stderr)
	}
}

func TestGitLogfDropsTheRepeat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{
			name: "retry line",
			in:   "reading the default branch of http://h/r.git: attempt 2 failed (reading the default branch of http://h/r.git: network error: 500); retrying in 1s",
			want: "reading the default branch of http://h/r.git: attempt 2 failed (network error: 500); retrying in 1s",
		},
		{
			name: "different operation kept",
			in:   `fetching http://h/r.git: attempt 1 failed (fetching branch "main" of http://h/r.git: network error: 500); retrying in 1s`,
			want: `fetching http://h/r.git: attempt 1 failed (fetching branch "main" of http://h/r.git: network error: 500); retrying in 1s`,
		},
		{name: "other lines untouched", in: "pushed abc to http://h/r.git branch main", want: "pushed abc to http://h/r.git branch main"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			gitLogf(func(f string, a ...any) { got = append(got, fmt.Sprintf(f, a...)) })("%s", tc.in)
			if diff := cmp.Diff([]string{tc.want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
