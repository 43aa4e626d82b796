package gitrepo

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

const (
	testToken = "ghs_SECRETtoken4242424242424242"
	repoName  = "acme/config"
)

var author = Signature{Name: "github-actions[bot]", Email: "41898282+github-actions[bot]@users.noreply.github.com"}

// world is a git server holding acme/config, seeded with a small overlay
// tree, and what the code under test logged.
type world struct {
	srv  *gitserver.Server
	seed string // the seed commit
	logs *logSink
}

func newWorld(t *testing.T) *world {
	t.Helper()
	srv, err := gitserver.Start(gitserver.WithToken(testToken), gitserver.WithRoot(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	if _, err := srv.CreateRepo("acme", "config"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for p, content := range seedFiles {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seed, err := srv.SeedFromDir(repoName, "main", dir)
	if err != nil {
		t.Fatal(err)
	}
	return &world{srv: srv, seed: seed, logs: &logSink{}}
}

var seedFiles = map[string]string{
	"README.md":                                 "# config\n",
	"apps/web/base/kustomization.yaml":          "resources:\n- deployment.yaml\n",
	"apps/web/base/deployment.yaml":             "kind: Deployment\n",
	"apps/web/overlays/prod/kustomization.yaml": "resources:\n- ../../base\nimages:\n- name: web\n  newTag: \"1.0\" # pinned\n",
	"apps/web/overlays/dev/kustomization.yaml":  "resources:\n- ../../base\n",
	"apps/api/overlays/prod/kustomization.yaml": "images:\n- name: api\n  newTag: \"2.0\"\n",
}

// remote returns a Remote on acme/config with fast retries and the world's
// log sink.
func (w *world) remote(t *testing.T, token string, opts ...Option) *Remote {
	t.Helper()
	opts = append([]Option{
		WithToken(token),
		WithLogf(w.logs.logf),
		WithRetry(4, 10*time.Millisecond, 5*time.Second),
		WithClock(func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }),
	}, opts...)
	r, err := New(w.srv.RepoURL(repoName), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *world) head(t *testing.T) string {
	t.Helper()
	h, err := w.srv.Head(repoName, "main")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (w *world) git(t *testing.T, args ...string) string {
	t.Helper()
	out, err := w.srv.Git(t.Context(), repoName, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pushes counts the receive-pack POSTs the server saw.
func (w *world) pushes() int {
	n := 0
	for _, r := range w.srv.Requests() {
		if r.Method == "POST" && r.Service == "git-receive-pack" {
			n++
		}
	}
	return n
}

// clone runs `git clone` the way a person would check what landed.
func (w *world) clone(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	u, _ := url.Parse(w.srv.RepoURL(repoName))
	u.User = url.UserPassword("x-access-token", testToken)
	cmd := exec.Command("git", "clone", "--quiet", u.String(), dir+"/c")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "HOME="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out.String())
	}
	return dir + "/c"
}

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logSink) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func (l *logSink) contains(s string) bool {
	for _, line := range l.all() {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}
