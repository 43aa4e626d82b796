package githubsim

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// gitTimeout bounds each git command the simulator runs.
const gitTimeout = 30 * time.Second

// gitIdentity is who the simulator writes commits as, the way GitHub does
// for merges and API commits.
type gitIdentity struct {
	authorName, authorEmail string
	when                    time.Time
}

// bare runs git plumbing against one bare repository.
type bare struct {
	dir string
}

func (b bare) run(ctx context.Context, env []string, stdin []byte, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", b.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	cmd.Env = append(cmd.Env, env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("running git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// resolve returns the commit a ref points at, or "" when it does not exist.
func (b bare) resolve(ctx context.Context, ref string) string {
	out, err := b.run(ctx, nil, nil, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return ""
	}
	return out
}

// updateRef moves ref from old to new atomically; old "" means "must not exist".
func (b bare) updateRef(ctx context.Context, ref, newSHA, oldSHA string) error {
	if oldSHA == "" {
		oldSHA = strings.Repeat("0", 40)
	}
	_, err := b.run(ctx, nil, nil, "update-ref", ref, newSHA, oldSHA)
	return err
}

// deleteRef deletes ref when it is still at old.
func (b bare) deleteRef(ctx context.Context, ref, old string) error {
	_, err := b.run(ctx, nil, nil, "update-ref", "-d", ref, old)
	return err
}

// isAncestor reports whether a is in b's history.
func (b bare) isAncestor(ctx context.Context, a, c string) bool {
	_, err := b.run(ctx, nil, nil, "merge-base", "--is-ancestor", a, c)
	return err == nil
}

// mergeTree merges two commits and returns the resulting tree, or ok false
// when they conflict.
func (b bare) mergeTree(ctx context.Context, ours, theirs string) (tree string, ok bool, err error) {
	out, err := b.run(ctx, nil, nil, "merge-tree", "--write-tree", "--no-messages", ours, theirs)
	if err != nil {
		if strings.Contains(err.Error(), "exit status 1") {
			return "", false, nil
		}
		return "", false, err
	}
	return strings.SplitN(out, "\n", 2)[0], true, nil
}

func (id gitIdentity) env(committerName, committerEmail string) []string {
	date := id.when.UTC().Format(time.RFC3339)
	return []string{
		"GIT_AUTHOR_NAME=" + id.authorName, "GIT_AUTHOR_EMAIL=" + id.authorEmail, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + committerName, "GIT_COMMITTER_EMAIL=" + committerEmail, "GIT_COMMITTER_DATE=" + date,
	}
}

// commitTree writes a commit object; committer is GitHub, as on github.com.
func (b bare) commitTree(ctx context.Context, id gitIdentity, tree, msg string, parents ...string) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	return b.run(ctx, id.env("GitHub", "noreply@github.com"), []byte(msg), append(args, "-F", "-")...)
}

// commitInfo is what the simulator reads back from a commit.
type commitInfo struct {
	tree, message, authorName, authorEmail string
	parents                                []string
}

func (b bare) readCommit(ctx context.Context, sha string) (commitInfo, error) {
	out, err := b.run(ctx, nil, nil, "show", "-s", "--format=%T%n%P%n%an%n%ae%n%B", sha)
	if err != nil {
		return commitInfo{}, err
	}
	lines := strings.SplitN(out, "\n", 5)
	for len(lines) < 5 {
		lines = append(lines, "")
	}
	return commitInfo{tree: lines[0], parents: strings.Fields(lines[1]), authorName: lines[2], authorEmail: lines[3], message: lines[4]}, nil
}

// revList lists the commits in base..head, oldest first.
func (b bare) revList(ctx context.Context, base, head string) ([]string, error) {
	out, err := b.run(ctx, nil, nil, "rev-list", "--reverse", "--topo-order", base+".."+head)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// fileChange is one path written or removed by createCommitOnBranch.
type fileChange struct {
	path    string
	content []byte
	delete  bool
}

// applyChanges builds a new tree from parent's tree with the changes
// applied, through a throwaway index file.
func (b bare) applyChanges(ctx context.Context, parent string, changes []fileChange) (string, error) {
	idx, err := os.CreateTemp("", "githubsim-index-*")
	if err != nil {
		return "", fmt.Errorf("creating a temporary index: %w", err)
	}
	idxPath := idx.Name()
	idx.Close()
	os.Remove(idxPath)
	defer os.Remove(idxPath)
	env := []string{"GIT_INDEX_FILE=" + idxPath}
	if _, err := b.run(ctx, env, nil, "read-tree", parent); err != nil {
		return "", err
	}
	for _, ch := range changes {
		if ch.delete {
			if _, err := b.run(ctx, env, nil, "ls-files", "--error-unmatch", "--", ch.path); err != nil {
				return "", errPathMissing{path: ch.path}
			}
			if _, err := b.run(ctx, env, nil, "update-index", "--force-remove", "--", ch.path); err != nil {
				return "", err
			}
			continue
		}
		blob, err := b.run(ctx, nil, ch.content, "hash-object", "-w", "--stdin")
		if err != nil {
			return "", err
		}
		if _, err := b.run(ctx, env, nil, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+ch.path); err != nil {
			return "", err
		}
	}
	return b.run(ctx, env, nil, "write-tree")
}

// cherryPick replays commit c (whose first parent is its base) onto onto,
// returning the new tree, or ok false on a conflict.
func (b bare) cherryPickTree(ctx context.Context, onto, c string) (string, bool, error) {
	diff, err := b.run(ctx, nil, nil, "diff-tree", "-p", "--binary", "--full-index", c+"^", c)
	if err != nil {
		return "", false, err
	}
	idx, err := os.CreateTemp("", "githubsim-index-*")
	if err != nil {
		return "", false, fmt.Errorf("creating a temporary index: %w", err)
	}
	idxPath := idx.Name()
	idx.Close()
	os.Remove(idxPath)
	defer os.Remove(idxPath)
	env := []string{"GIT_INDEX_FILE=" + idxPath}
	if _, err := b.run(ctx, env, nil, "read-tree", onto); err != nil {
		return "", false, err
	}
	if strings.TrimSpace(diff) != "" {
		if _, err := b.run(ctx, env, []byte(diff+"\n"), "apply", "--cached", "-"); err != nil {
			return "", false, nil
		}
	}
	tree, err := b.run(ctx, env, nil, "write-tree")
	return tree, err == nil, err
}

// bareDirIn returns the conventional <root>/<owner>/<name>.git layout.
func bareDirIn(root string) func(owner, name string) string {
	return func(owner, name string) string { return filepath.Join(root, owner, name+".git") }
}

type errPathMissing struct{ path string }

func (e errPathMissing) Error() string { return fmt.Sprintf("path %q does not exist", e.path) }
