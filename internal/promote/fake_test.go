package promote

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/fstest"
)

// fakeRemote is a git remote in memory: commits are file maps, branches
// point at commits, pushes are fast-forward checked like a real server.
type fakeRemote struct {
	mu        sync.Mutex
	commits   map[string]*fakeCommit
	branches  map[string]string
	protected map[string]bool
	// beforePush runs once per push, before the ref check: another
	// pipeline landing between our fetch and our push.
	beforePush func(r *fakeRemote, attempt int)
	pushes     int
	fetches    int
}

type fakeCommit struct {
	parent string
	files  map[string][]byte
	msg    string
	author Author
}

func newFakeRemote(t *testing.T, branch string) *fakeRemote {
	t.Helper()
	files := map[string][]byte{}
	root := filepath.Join("..", "..", "testdata", "example")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatalf("reading the example repo: %v", err)
	}
	r := &fakeRemote{commits: map[string]*fakeCommit{}, branches: map[string]string{}, protected: map[string]bool{}}
	r.branches[branch] = r.store(&fakeCommit{files: files, msg: "initial"})
	return r
}

func (r *fakeRemote) store(c *fakeCommit) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s\n%s\n%d\n", c.parent, c.msg, len(r.commits))
	for _, k := range sortedKeys(c.files) {
		fmt.Fprintf(h, "%s\n%s\n", k, c.files[k])
	}
	sha := hex.EncodeToString(h.Sum(nil))
	r.commits[sha] = c
	return sha
}

func sortedKeys(m map[string][]byte) []string { return slices.Sorted(maps.Keys(m)) }

// commitOn lands a commit directly on branch (another pipeline).
func (r *fakeRemote) commitOn(branch string, edit func(files map[string][]byte)) string {
	head := r.branches[branch]
	files := maps.Clone(r.commits[head].files)
	edit(files)
	sha := r.store(&fakeCommit{parent: head, files: files, msg: "another pipeline"})
	r.branches[branch] = sha
	return sha
}

func (r *fakeRemote) file(branch, path string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.commits[r.branches[branch]].files[path])
}

func (r *fakeRemote) DefaultBranch(context.Context) (string, error) { return "main", nil }

func (r *fakeRemote) Fetch(_ context.Context, branch string) (Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fetches++
	head, ok := r.branches[branch]
	if !ok {
		return nil, fmt.Errorf("branch %q: %w", branch, ErrBranchNotFound)
	}
	return &fakeSnap{r: r, head: head}, nil
}

func (r *fakeRemote) Contains(_ context.Context, _, rev, ancestor string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := rev; c != ""; c = r.commits[c].parent {
		if c == ancestor {
			return true, nil
		}
	}
	return false, nil
}

type fakeSnap struct {
	r    *fakeRemote
	head string
}

func (s *fakeSnap) Head() string { return s.head }

func (s *fakeSnap) FS() fs.FS {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	m := fstest.MapFS{}
	for p, b := range s.r.commits[s.head].files {
		m[p] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return m
}

func (s *fakeSnap) Commit(files []File, msg string, author Author) (string, error) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	all := maps.Clone(s.r.commits[s.head].files)
	for _, f := range files {
		all[f.Path] = f.Content
	}
	return s.r.store(&fakeCommit{parent: s.head, files: all, msg: msg, author: author}), nil
}

func (s *fakeSnap) Push(_ context.Context, sha, branch string) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.pushes++
	if s.r.beforePush != nil {
		s.r.beforePush(s.r, s.r.pushes)
	}
	if s.r.protected[branch] {
		return Mark(fmt.Errorf("GH006: Protected branch update failed for refs/heads/%s", branch), ErrProtected)
	}
	if s.r.branches[branch] != s.r.commits[sha].parent {
		return Mark(fmt.Errorf("! [rejected] %s (fetch first)", branch), ErrNonFastForward)
	}
	s.r.branches[branch] = sha
	return nil
}

func (s *fakeSnap) PushForce(_ context.Context, sha, branch string) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.branches[branch] = sha
	return nil
}

// fakeGitHub merges pull requests in the fake remote.
type fakeGitHub struct {
	r        *fakeRemote
	mergeNow bool // Merge merges at once (a CLEAN pull request)
	waits    int
	specs    []PRSpec
	merges   []string
	prs      map[string]*PR
	// beforeWait runs before the first WaitMerged looks: a later run
	// rebuilding the pull request branch, say.
	beforeWait func(r *fakeRemote)
	// afterMerge runs after a merge: a later change landing on the base.
	afterMerge func(r *fakeRemote)
	// unpinned merges whatever head the branch has, as a client that does
	// not pass expectedHeadOid would.
	unpinned bool
}

// errSuperseded is what the adapter reports when the head is not ours.
var errSuperseded = errors.New("superseded by a later run that updated pull request #7")

func (g *fakeGitHub) EnsurePR(_ context.Context, spec PRSpec) (*PR, error) {
	g.specs = append(g.specs, spec)
	if g.prs == nil {
		g.prs = map[string]*PR{}
	}
	if pr, ok := g.prs[spec.Head]; ok {
		return pr, nil
	}
	n := len(g.prs) + 7
	pr := &PR{Number: n, URL: fmt.Sprintf("https://github.example/acme/config/pull/%d", n), HeadRef: spec.Head, BaseRef: spec.Base}
	g.prs[spec.Head] = pr
	return pr, nil
}

func (g *fakeGitHub) Merge(_ context.Context, pr *PR, head, method string, autoMerge bool) (*MergeOutcome, error) {
	g.merges = append(g.merges, method)
	if g.mergeNow {
		sha, err := g.merge(pr, head)
		return &MergeOutcome{Merged: true, SHA: sha}, err
	}
	return &MergeOutcome{AutoMerge: true}, nil
}

func (g *fakeGitHub) WaitMerged(_ context.Context, pr *PR, head string) (string, error) {
	g.waits++
	if g.beforeWait != nil && g.waits == 1 {
		g.r.mu.Lock()
		g.beforeWait(g.r)
		g.r.mu.Unlock()
	}
	return g.merge(pr, head)
}

func (g *fakeGitHub) merge(pr *PR, ours string) (string, error) {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	if now := g.r.branches[pr.HeadRef]; now != ours && !g.unpinned {
		return "", &HeadMovedError{Head: now, Err: errSuperseded}
	}
	head := g.r.commits[g.r.branches[pr.HeadRef]]
	sha := g.r.store(&fakeCommit{parent: g.r.branches[pr.BaseRef], files: maps.Clone(head.files), msg: "Merge pull request"})
	g.r.branches[pr.BaseRef] = sha
	if g.afterMerge != nil {
		g.afterMerge(g.r)
	}
	return sha, nil
}

func (g *fakeGitHub) CommitOnBranch(_ context.Context, spec CommitSpec) (string, error) {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	if spec.BaseOid != "" {
		g.r.branches[spec.Branch] = spec.BaseOid
	}
	if g.r.branches[spec.Branch] != spec.ExpectedHead {
		return "", Mark(fmt.Errorf("STALE_DATA"), ErrStaleData)
	}
	files := maps.Clone(g.r.commits[spec.ExpectedHead].files)
	for _, f := range spec.Files {
		files[f.Path] = f.Content
	}
	sha := g.r.store(&fakeCommit{parent: spec.ExpectedHead, files: files, msg: spec.Message})
	g.r.branches[spec.Branch] = sha
	return sha, nil
}

// fakeArgo answers deployed when the revision contains ours.
type fakeArgo struct {
	specs []WaitSpec
}

func (a *fakeArgo) Wait(ctx context.Context, spec WaitSpec) ([]AppStatus, error) {
	a.specs = append(a.specs, spec)
	ok, err := spec.Contains(ctx, spec.Revision, spec.Revision)
	if err != nil || !ok {
		return nil, fmt.Errorf("revision not found: %w", err)
	}
	var out []AppStatus
	for _, app := range spec.Apps {
		out = append(out, AppStatus{App: app, Result: "deployed", Sync: "Synced", Health: "Healthy", Revision: spec.Revision})
	}
	return out, nil
}
