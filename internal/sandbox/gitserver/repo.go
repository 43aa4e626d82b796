package gitserver

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Protection is how a branch is protected.
type Protection int

const (
	// Unprotected lifts a protection.
	Unprotected Protection = iota
	// Classic is GitHub's branch protection rule: pushes are refused with
	// GH006 and "protected branch hook declined".
	Classic
	// Ruleset is a GitHub repository ruleset: pushes are refused with GH013
	// and "push declined due to repository rule violations".
	Ruleset
)

// The fixed identity and time of commits the server makes itself, so seeded
// repositories have the same SHAs on every run.
const (
	seedName  = "gitserver"
	seedEmail = "gitserver@example.invalid"
	seedDate  = "1700000000 +0000"
)

// BareDir is the directory of repo ("owner/name"): a bare repository the
// git CLI can work on directly.
func (s *Server) BareDir(repo string) string {
	return filepath.Join(s.root, filepath.FromSlash(repo)+".git")
}

// CreateRepo makes an empty bare repository owner/name whose default branch
// is main, and returns its name "owner/name".
func (s *Server) CreateRepo(owner, name string) (string, error) {
	if !validName(owner) || !validName(name) || strings.HasSuffix(name, ".git") {
		return "", fmt.Errorf("creating repository %q: owner and name must be plain names", owner+"/"+name)
	}
	repo := owner + "/" + name
	dir := s.BareDir(repo)
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("creating repository %q: it already exists", repo)
	}
	if _, err := runGit(context.Background(), "", nil, nil, "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return "", fmt.Errorf("creating repository %q: %w", repo, err)
	}
	settings := [][2]string{
		{"http.receivepack", "true"},
		{"http.uploadpack", "true"},
		{"uploadpack.allowReachableSHA1InWant", "true"},
		{"uploadpack.allowAnySHA1InWant", "true"},
		{"uploadpack.allowFilter", "true"},
		{"receive.shallowUpdate", "true"},
		{"receive.advertisePushOptions", "true"},
		{"core.logAllRefUpdates", "true"},
		{"gc.auto", "0"},
	}
	for _, kv := range settings {
		if _, err := s.git(context.Background(), repo, nil, nil, "config", kv[0], kv[1]); err != nil {
			return "", fmt.Errorf("configuring repository %q: %w", repo, err)
		}
	}
	return repo, nil
}

// SeedFromDir commits every file under dir as the whole tree of branch in
// repo (on top of the branch when it exists) and returns the commit SHA.
func (s *Server) SeedFromDir(repo, branch, dir string) (string, error) {
	ctx := context.Background()
	if !s.exists(repo) {
		return "", fmt.Errorf("seeding %q: %w", repo, errNotFound)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("seeding %q from %q: %w", repo, dir, err)
	}
	index, cleanup, err := tempIndex()
	if err != nil {
		return "", fmt.Errorf("seeding %q: %w", repo, err)
	}
	defer cleanup()
	env := []string{"GIT_INDEX_FILE=" + index, "GIT_WORK_TREE=" + abs}
	if _, err := s.git(ctx, repo, env, nil, "add", "--all", "--force", "."); err != nil {
		return "", fmt.Errorf("seeding %q from %q: %w", repo, dir, err)
	}
	return s.commitIndex(ctx, repo, branch, env, "Seed the config repository")
}

// CommitFiles commits files (slash paths to contents) on top of branch in
// repo, keeping every other file, and returns the commit SHA. It stands for
// another client pushing, without going through HTTP.
func (s *Server) CommitFiles(repo, branch string, files map[string][]byte, msg string) (string, error) {
	ctx := context.Background()
	if !s.exists(repo) {
		return "", fmt.Errorf("committing to %q: %w", repo, errNotFound)
	}
	index, cleanup, err := tempIndex()
	if err != nil {
		return "", fmt.Errorf("committing to %q: %w", repo, err)
	}
	defer cleanup()
	env := []string{"GIT_INDEX_FILE=" + index}
	if head, _ := s.Head(repo, branch); head != "" {
		if _, err := s.git(ctx, repo, env, nil, "read-tree", head); err != nil {
			return "", fmt.Errorf("committing to %q: %w", repo, err)
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name != path.Clean(name) || path.IsAbs(name) || strings.HasPrefix(name, "../") {
			return "", fmt.Errorf("committing %q to %q: not a clean relative path", name, repo)
		}
		sha, err := s.git(ctx, repo, nil, files[name], "hash-object", "-w", "--stdin")
		if err != nil {
			return "", fmt.Errorf("committing %q to %q: %w", name, repo, err)
		}
		if _, err := s.git(ctx, repo, env, nil, "update-index", "--add", "--cacheinfo", "100644,"+sha+","+name); err != nil {
			return "", fmt.Errorf("committing %q to %q: %w", name, repo, err)
		}
	}
	return s.commitIndex(ctx, repo, branch, env, msg)
}

func (s *Server) commitIndex(ctx context.Context, repo, branch string, env []string, msg string) (string, error) {
	ref := "refs/heads/" + branch
	tree, err := s.git(ctx, repo, env, nil, "write-tree")
	if err != nil {
		return "", fmt.Errorf("writing the tree for %q: %w", repo, err)
	}
	old, _ := s.Head(repo, branch)
	args := []string{"commit-tree", tree, "-m", msg}
	if old != "" {
		args = append(args, "-p", old)
	}
	commitEnv := append([]string{
		"GIT_AUTHOR_NAME=" + seedName, "GIT_AUTHOR_EMAIL=" + seedEmail, "GIT_AUTHOR_DATE=" + seedDate,
		"GIT_COMMITTER_NAME=" + seedName, "GIT_COMMITTER_EMAIL=" + seedEmail, "GIT_COMMITTER_DATE=" + seedDate,
	}, env...)
	sha, err := s.git(ctx, repo, commitEnv, nil, args...)
	if err != nil {
		return "", fmt.Errorf("committing to %q: %w", repo, err)
	}
	// update-ref with the old value is atomic: a concurrent push makes it fail
	// instead of being overwritten.
	if _, err := s.git(ctx, repo, nil, nil, "update-ref", "-m", "gitserver commit", ref, sha, old); err != nil {
		return "", fmt.Errorf("moving %s of %q: %w", ref, repo, err)
	}
	return sha, nil
}

// Head returns the commit SHA branch points at in repo.
func (s *Server) Head(repo, branch string) (string, error) {
	sha, err := s.git(context.Background(), repo, nil, nil, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("reading branch %q of %q: %w", branch, repo, err)
	}
	return sha, nil
}

// Git runs the git CLI in repo's bare directory and returns its trimmed
// standard output.
func (s *Server) Git(ctx context.Context, repo string, args ...string) (string, error) {
	if !s.exists(repo) {
		return "", fmt.Errorf("running git in %q: %w", repo, errNotFound)
	}
	return s.git(ctx, repo, nil, nil, args...)
}

// Protect protects branch of repo the way kind says (Unprotected lifts it).
// Pushes to a protected branch are refused by a pre-receive hook with
// GitHub's text; changes made on the bare directory directly are not.
func (s *Server) Protect(repo, branch string, kind Protection) error {
	if !s.exists(repo) {
		return fmt.Errorf("protecting %q: %w", repo, errNotFound)
	}
	if strings.ContainsAny(branch, " '\"\\$`\n*?[") || branch == "" {
		return fmt.Errorf("protecting branch %q of %q: not a branch name this server protects", branch, repo)
	}
	s.mu.Lock()
	refs := s.protected[repo]
	if refs == nil {
		refs = map[string]Protection{}
		s.protected[repo] = refs
	}
	if kind == Unprotected {
		delete(refs, "refs/heads/"+branch)
	} else {
		refs["refs/heads/"+branch] = kind
	}
	script := s.hookScript(repo, refs)
	s.mu.Unlock()
	hook := filepath.Join(s.BareDir(repo), "hooks", "pre-receive")
	if err := os.MkdirAll(filepath.Dir(hook), 0o755); err != nil {
		return fmt.Errorf("installing the pre-receive hook of %q: %w", repo, err)
	}
	tmp := hook + ".tmp"
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		return fmt.Errorf("installing the pre-receive hook of %q: %w", repo, err)
	}
	if err := os.Rename(tmp, hook); err != nil {
		return fmt.Errorf("installing the pre-receive hook of %q: %w", repo, err)
	}
	return nil
}

// hookScript is a pre-receive hook printing GitHub's refusal for each
// protected ref pushed. Called with s.mu held.
func (s *Server) hookScript(repo string, refs map[string]Protection) string {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Installed by gitserver.Protect: refuses pushes to protected branches.\nstatus=0\nwhile read old new ref; do\n  case \"$ref\" in\n")
	names := make([]string, 0, len(refs))
	for ref := range refs {
		names = append(names, ref)
	}
	sort.Strings(names)
	for _, ref := range names {
		var lines []string
		switch refs[ref] {
		case Classic:
			lines = []string{
				"error: GH006: Protected branch update failed for " + ref + ".",
				"",
				"- Changes must be made through a pull request.",
			}
		case Ruleset:
			lines = []string{
				"error: GH013: Repository rule violations found for " + ref + ".",
				"Review all repository rules at " + s.url + "/" + repo + "/rules?ref=" + url.QueryEscape(ref),
				"",
				"- Changes must be made through a pull request.",
				"",
			}
		}
		fmt.Fprintf(&b, "    '%s')\n", ref)
		for _, l := range lines {
			fmt.Fprintf(&b, "      printf '%%s\\n' '%s' >&2\n", l)
		}
		b.WriteString("      status=1 ;;\n")
	}
	b.WriteString("  esac\ndone\nexit $status\n")
	return b.String()
}

// declineReasons maps each protected ref of repo to the reason GitHub gives
// in the push report.
func (s *Server) declineReasons(repo string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for ref, kind := range s.protected[repo] {
		switch kind {
		case Classic:
			out[ref] = "protected branch hook declined"
		case Ruleset:
			out[ref] = "push declined due to repository rule violations"
		}
	}
	return out
}

func (s *Server) git(ctx context.Context, repo string, env []string, stdin []byte, args ...string) (string, error) {
	return runGit(ctx, s.BareDir(repo), env, stdin, args...)
}

func runGit(ctx context.Context, gitDir string, env []string, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	if gitDir != "" {
		cmd.Env = append(cmd.Env, "GIT_DIR="+gitDir)
	}
	cmd.Env = append(cmd.Env, env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

func tempIndex() (string, func(), error) {
	dir, err := os.MkdirTemp("", "gitserver-index-")
	if err != nil {
		return "", nil, fmt.Errorf("making a temporary index: %w", err)
	}
	return filepath.Join(dir, "index"), func() { _ = os.RemoveAll(dir) }, nil
}
