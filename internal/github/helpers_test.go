package github

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
)

const (
	testToken = "ghs_s3cr3tT0kenValue"
	owner     = "acme"
	repoName  = "config"
	kfile     = "apps/web/overlays/production/kustomization.yaml"
)

// fakeClock records sleeps and returns at once; onSleep runs after the n-th
// sleep (1-based), which is how tests make GitHub change between polls.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	onSleep func(n int)
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.sleeps = append(f.sleeps, d)
	n, hook := len(f.sleeps), f.onSleep
	f.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	if n > 200 {
		return fmt.Errorf("fake clock: more than 200 sleeps, the wait does not end")
	}
	return nil
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// world is a simulator over one real bare repository acme/config whose
// main branch holds one kustomization.
type world struct {
	t     *testing.T
	sim   *githubsim.Server
	dir   string
	clock *fakeClock
	logs  *logRecorder
	c     *Client
}

type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newWorld(t *testing.T, set githubsim.RepoSettings, opts ...Option) *world {
	t.Helper()
	root := t.TempDir()
	w := &world{t: t, dir: filepath.Join(root, owner, repoName+".git"), clock: newFakeClock(), logs: &logRecorder{}}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w.git("", "init", "--bare", "-q", "-b", "main")
	base := w.commit("", map[string]string{kfile: "images:\n- name: web\n  newName: ghcr.io/acme/web\n  newTag: 1.0.0\n"}, "initial")
	w.git("", "update-ref", "refs/heads/main", base)
	sim, err := githubsim.Start(githubsim.WithReposRoot(root), githubsim.WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if err := sim.AddRepo(owner, repoName, set); err != nil {
		t.Fatal(err)
	}
	w.sim = sim
	all := append([]Option{WithClock(w.clock), WithLogf(w.logs.logf)}, opts...)
	w.c, err = New(sim.URL(), testToken, all...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) git(stdin string, args ...string) string {
	w.t.Helper()
	return w.gitEnv(nil, stdin, args...)
}

func (w *world) gitEnv(env []string, stdin string, args ...string) string {
	w.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", w.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files on top of parent with plumbing and returns the commit.
func (w *world) commit(parent string, files map[string]string, msg string) string {
	w.t.Helper()
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(w.t.TempDir(), "index")}
	if parent != "" {
		w.gitEnv(env, "", "read-tree", parent)
	}
	for p, content := range files {
		blob := w.git(content, "hash-object", "-w", "--stdin")
		w.gitEnv(env, "", "update-index", "--add", "--cacheinfo", "100644,"+blob+","+p)
	}
	tree := w.gitEnv(env, "", "write-tree")
	args := []string{"commit-tree", tree, "-m", msg}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	return w.gitEnv(env, "", args...)
}

func (w *world) head(branch string) string {
	w.t.Helper()
	return w.git("", "rev-parse", "refs/heads/"+branch)
}

func (w *world) show(rev, path string) string {
	w.t.Helper()
	return w.git("", "show", rev+":"+path)
}

func (w *world) parents(rev string) int {
	w.t.Helper()
	return len(strings.Fields(w.git("", "show", "-s", "--format=%P", rev)))
}

// prBranch builds the pull request branch with the API (createCommitOnBranch)
// from main, the way the PR path does with commit-method api.
func (w *world) prBranch(tag string) string {
	w.t.Helper()
	sha, err := w.c.CommitOnBranch(context.Background(), CommitSpec{
		Owner: owner, Repo: repoName, Branch: "gitops-promote/main/web", BaseOid: w.head("main"),
		Message:   "Promote ghcr.io/acme/web:" + tag + "\n\nSet by gitops-promote.",
		Additions: map[string][]byte{kfile: []byte("images:\n- name: web\n  newName: ghcr.io/acme/web\n  newTag: " + tag + "\n")},
	})
	if err != nil {
		w.t.Fatalf("building the PR branch: %v", err)
	}
	return sha
}

func (w *world) ensurePR(tag string) *PR {
	w.t.Helper()
	changes := []Change{{File: kfile, Image: "web", Old: "ghcr.io/acme/web:1.0.0", New: "ghcr.io/acme/web:" + tag}}
	pr, err := w.c.EnsurePR(context.Background(), PRSpec{Owner: owner, Repo: repoName, Base: "main", Head: "gitops-promote/main/web",
		Title: "Deploy ghcr.io/acme/web:" + tag + " to apps/web/overlays/production", Body: PRBody("main", changes, RunLink{})})
	if err != nil {
		w.t.Fatalf("EnsurePR: %v", err)
	}
	return pr
}

func (w *world) pulls() []githubsim.PullState {
	w.t.Helper()
	prs, err := w.sim.Pulls(owner + "/" + repoName)
	if err != nil {
		w.t.Fatal(err)
	}
	return prs
}

const fullRepo = owner + "/" + repoName
