package gitserver

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testToken = "ghs_servertesttoken0123456789"

func startServer(t *testing.T) (*Server, string) {
	t.Helper()
	s, err := Start(WithToken(testToken), WithRoot(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	repo, err := s.CreateRepo("acme", "config")
	if err != nil {
		t.Fatal(err)
	}
	seed := t.TempDir()
	writeFile(t, filepath.Join(seed, "apps", "web", "kustomization.yaml"), "images:\n- name: web\n  newTag: \"1.0\"\n")
	if _, err := s.SeedFromDir(repo, "main", seed); err != nil {
		t.Fatal(err)
	}
	return s, repo
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// authURL is the repository URL with credentials, for the git CLI only.
func authURL(s *Server, repo, token string) string {
	u, _ := url.Parse(s.RepoURL(repo))
	u.User = url.UserPassword("x-access-token", token)
	return u.String()
}

// gitCLI runs git with no user configuration and returns combined output.
func gitCLI(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "HOME="+dir,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// cloneEditPush clones main, changes the kustomization and pushes, returning
// the push output.
func cloneEditPush(t *testing.T, s *Server, repo, token string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if out, err := gitCLI(t, dir, "clone", "--quiet", "--depth", "1", authURL(s, repo, token), "w"); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	w := filepath.Join(dir, "w")
	writeFile(t, filepath.Join(w, "apps", "web", "kustomization.yaml"), "images:\n- name: web\n  newTag: \"2.0\"\n")
	if out, err := gitCLI(t, w, "commit", "--quiet", "-am", "bump web"); err != nil {
		t.Fatalf("commit: %v\n%s", err, out)
	}
	return gitCLI(t, w, "push", "origin", "HEAD:main")
}

func TestCloneAndPushWithToken(t *testing.T) {
	s, repo := startServer(t)
	before, err := s.Head(repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := cloneEditPush(t, s, repo, testToken); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	after, err := s.Head(repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	parent, err := s.Git(t.Context(), repo, "rev-parse", after+"^")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, parent); diff != "" {
		t.Errorf("parent of the pushed commit (-want +got):\n%s", diff)
	}
	got, err := s.Git(t.Context(), repo, "show", "main:apps/web/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("images:\n- name: web\n  newTag: \"2.0\"", got); diff != "" {
		t.Errorf("file on main (-want +got):\n%s", diff)
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		protect Protection
		want    []string // lines the git CLI prints
	}{
		{
			name:  "wrong token",
			token: "ghs_wrong",
			want:  []string{"remote: Invalid username or token. Password authentication is not supported for Git operations."},
		},
		{
			name:    "classic protection",
			token:   testToken,
			protect: Classic,
			want: []string{
				"remote: error: GH006: Protected branch update failed for refs/heads/main.",
				"remote: - Changes must be made through a pull request.",
				" ! [remote rejected] HEAD -> main (protected branch hook declined)",
			},
		},
		{
			name:    "ruleset",
			token:   testToken,
			protect: Ruleset,
			want: []string{
				"remote: error: GH013: Repository rule violations found for refs/heads/main.",
				"remote: Review all repository rules at {URL}/acme/config/rules?ref=refs%2Fheads%2Fmain",
				"remote: - Changes must be made through a pull request.",
				" ! [remote rejected] HEAD -> main (push declined due to repository rule violations)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, repo := startServer(t)
			before, _ := s.Head(repo, "main")
			if tc.protect != Unprotected {
				if err := s.Protect(repo, "main", tc.protect); err != nil {
					t.Fatal(err)
				}
			}
			var out string
			var err error
			if tc.token == testToken {
				out, err = cloneEditPush(t, s, repo, tc.token)
			} else {
				out, err = gitCLI(t, t.TempDir(), "ls-remote", authURL(s, repo, tc.token))
			}
			if err == nil {
				t.Fatalf("git succeeded, want a refusal:\n%s", out)
			}
			var missing []string
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "{URL}", s.URL())
				if !containsLine(out, w) {
					missing = append(missing, w)
				}
			}
			if diff := cmp.Diff([]string(nil), missing); diff != "" {
				t.Errorf("lines missing from git's output (-want +got):\n%s\noutput:\n%s", diff, out)
			}
			after, _ := s.Head(repo, "main")
			if after != before {
				t.Errorf("main moved from %s to %s despite the refusal", before, after)
			}
		})
	}
}

func containsLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimRight(l, " ") == want {
			return true
		}
	}
	return false
}

func TestFaults(t *testing.T) {
	t.Run("500 then recovers", func(t *testing.T) {
		s, repo := startServer(t)
		s.Fail500(1)
		out, err := gitCLI(t, t.TempDir(), "ls-remote", authURL(s, repo, testToken))
		if err == nil || !strings.Contains(out, "500") {
			t.Fatalf("first ls-remote: err %v, want a 500:\n%s", err, out)
		}
		if out, err := gitCLI(t, t.TempDir(), "ls-remote", authURL(s, repo, testToken)); err != nil {
			t.Fatalf("second ls-remote: %v\n%s", err, out)
		}
		var got []int
		for _, r := range s.Requests() {
			if r.Status != 401 { // git asks without credentials first
				got = append(got, r.Status)
			}
		}
		// ls-remote speaks protocol v2: info/refs, then ls-refs.
		if diff := cmp.Diff([]int{500, 200, 200}, got); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
	})
	for _, mode := range []CutMode{CutBeforeApply, CutAfterApply} {
		t.Run("cut push "+map[CutMode]string{CutBeforeApply: "before", CutAfterApply: "after"}[mode], func(t *testing.T) {
			s, repo := startServer(t)
			before, _ := s.Head(repo, "main")
			// curl retries a request whose reused connection died before any
			// answer, so cut twice to make the git CLI see the fault.
			s.CutPushes(2, mode)
			out, err := cloneEditPush(t, s, repo, testToken)
			if err == nil {
				t.Fatalf("push succeeded through a cut connection:\n%s", out)
			}
			after, _ := s.Head(repo, "main")
			moved := after != before
			if want := mode == CutAfterApply; moved != want {
				t.Errorf("main moved = %v, want %v", moved, want)
			}
			if out, err := s.Git(t.Context(), repo, "fsck", "--no-dangling"); err != nil {
				t.Errorf("fsck after a cut push: %v\n%s", err, out)
			}
		})
	}
}

func TestBeforeReceiveAndNotFound(t *testing.T) {
	s, repo := startServer(t)
	var other string
	s.BeforeReceive(func(r string) {
		s.BeforeReceive(nil)
		sha, err := s.CommitFiles(r, "main", map[string][]byte{"apps/web/kustomization.yaml": []byte("other\n")}, "other pipeline")
		if err != nil {
			t.Errorf("injecting a commit: %v", err)
		}
		other = sha
	})
	out, err := cloneEditPush(t, s, repo, testToken)
	if err == nil {
		t.Fatalf("push won a race it should lose:\n%s", out)
	}
	if !strings.Contains(out, "failed to update ref") && !strings.Contains(out, "cannot lock ref") {
		t.Errorf("push output does not show the lost race:\n%s", out)
	}
	if head, _ := s.Head(repo, "main"); head != other {
		t.Errorf("main = %s, want the other pipeline's %s", head, other)
	}
	out, err = gitCLI(t, t.TempDir(), "ls-remote", authURL(s, "acme/missing", testToken))
	if err == nil || !strings.Contains(out, "remote: Repository not found.") {
		t.Errorf("ls-remote of a missing repository: err %v, output:\n%s", err, out)
	}
}

func TestReadOnlyToken(t *testing.T) {
	const ro = "ghs_readonly0123456789"
	s, err := Start(WithToken(testToken), WithReadOnlyToken(ro), WithRoot(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	repo, err := s.CreateRepo("acme", "config")
	if err != nil {
		t.Fatal(err)
	}
	seed := t.TempDir()
	writeFile(t, filepath.Join(seed, "apps", "web", "kustomization.yaml"), "images:\n- name: web\n  newTag: \"1.0\"\n")
	if _, err := s.SeedFromDir(repo, "main", seed); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Head(repo, "main")
	out, err := cloneEditPush(t, s, repo, ro)
	if err == nil {
		t.Fatalf("push with a read-only token succeeded:\n%s", out)
	}
	if want := "remote: Permission to acme/config.git denied to github-actions[bot]."; !containsLine(out, want) {
		t.Errorf("git output lacks %q:\n%s", want, out)
	}
	if after, _ := s.Head(repo, "main"); after != before {
		t.Errorf("main moved to %s with a read-only token", after)
	}
}

// The reflog shows every update; a forced push is found by FastForwardOnly.
func TestFastForwardOnlyFindsAForcedPush(t *testing.T) {
	s, repo := startServer(t)
	if n, err := s.FastForwardOnly(t.Context(), repo, "main"); err != nil || n == 0 {
		t.Fatalf("after seeding: %d updates, %v; want some, all fast-forwards", n, err)
	}
	seed, _ := s.Head(repo, "main")
	if _, err := s.CommitFiles(repo, "main", map[string][]byte{"x": []byte("x\n")}, "next"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Git(t.Context(), repo, "update-ref", "-m", "forced", "refs/heads/main", seed); err != nil {
		t.Fatal(err)
	}
	_, err := s.FastForwardOnly(t.Context(), repo, "main")
	if err == nil || !strings.Contains(err.Error(), "(forced) is not a fast-forward") {
		t.Errorf("FastForwardOnly after a forced update: %v", err)
	}
}
