package argocdsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Repo is a bare git repository with a work clone to commit into, for
// tests, benchmarks and the demo. It drives the simulator the way a push
// does.
type Repo struct {
	Bare string // the bare repository: App.BareRepoDir
	work string
}

// NewRepo creates dir/config.git with one commit of files on branch and
// returns it with that commit's SHA.
func NewRepo(ctx context.Context, dir, branch string, files map[string]string) (*Repo, string, error) {
	r := &Repo{Bare: filepath.Join(dir, "config.git"), work: filepath.Join(dir, "work")}
	if _, err := run(ctx, "", "git", "init", "-q", "--bare", "-b", branch, r.Bare); err != nil {
		return nil, "", err
	}
	if _, err := run(ctx, "", "git", "init", "-q", "-b", branch, r.work); err != nil {
		return nil, "", err
	}
	if _, err := run(ctx, r.work, "git", "remote", "add", "origin", r.Bare); err != nil {
		return nil, "", err
	}
	sha, err := r.commit(ctx, branch, files, "initial config")
	return r, sha, err
}

// Commit writes files (slash paths relative to the root; "" content
// deletes) on top of branch, pushes, and returns the new commit's SHA. A
// branch that does not exist yet starts at from.
func (r *Repo) Commit(ctx context.Context, branch, from string, files map[string]string, msg string) (string, error) {
	if _, err := run(ctx, r.work, "git", "fetch", "-q", "origin"); err != nil {
		return "", err
	}
	start := "origin/" + branch
	if _, err := run(ctx, r.work, "git", "rev-parse", "--verify", "-q", start); err != nil {
		start = from
	}
	if _, err := run(ctx, r.work, "git", "checkout", "-q", "-B", branch, start); err != nil {
		return "", err
	}
	return r.commit(ctx, branch, files, msg)
}

func (r *Repo) commit(ctx context.Context, branch string, files map[string]string, msg string) (string, error) {
	for p, content := range files {
		full := filepath.Join(r.work, filepath.FromSlash(p))
		if content == "" {
			if err := os.Remove(full); err != nil && !os.IsNotExist(err) {
				return "", fmt.Errorf("removing %s: %w", p, err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return "", fmt.Errorf("creating the folder of %s: %w", p, err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("writing %s: %w", p, err)
		}
	}
	steps := [][]string{
		{"git", "add", "-A"},
		{"git", "-c", "user.name=sim", "-c", "user.email=sim@example.invalid", "commit", "-q", "--allow-empty", "-m", msg},
		{"git", "push", "-q", "origin", "HEAD:refs/heads/" + branch},
	}
	for _, s := range steps {
		if _, err := run(ctx, r.work, s...); err != nil {
			return "", err
		}
	}
	out, err := run(ctx, r.work, "git", "rev-parse", "HEAD")
	return strings.TrimSpace(out), err
}

// IsAncestor reports whether ancestor is in the history of rev, with
// `git merge-base --is-ancestor` on the bare repository.
func (r *Repo) IsAncestor(ctx context.Context, rev, ancestor string) (bool, error) {
	cmd := exec.CommandContext(ctx, "git", "--git-dir="+r.Bare, "merge-base", "--is-ancestor", ancestor, rev)
	err := cmd.Run()
	if err == nil {
		return true, nil
	}
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() == 1 {
		return false, nil
	}
	return false, fmt.Errorf("checking whether %s contains %s: %w", rev, ancestor, err)
}

func run(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("running %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
