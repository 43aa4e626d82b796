package promote

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/gitops-promote/gitops-promote/internal/config"
)

// The fake snapshot reads its head's message and pushes with a lease, as
// the git adapter does.
func (s *fakeSnap) HeadMessage() (string, error) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	return s.r.commits[s.head].msg, nil
}

func (s *fakeSnap) PushLease(_ context.Context, sha, branch, lease string) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.pushes++
	if s.r.beforePush != nil {
		s.r.beforePush(s.r, s.r.pushes)
	}
	if s.r.branches[branch] != lease {
		return Mark(fmt.Errorf("! [rejected] %s (stale info)", branch), ErrNonFastForward)
	}
	s.r.branches[branch] = sha
	return nil
}

// prRun runs one pull-request promotion that opens (or joins) the pull
// request and does not wait for the merge.
func prRun(t *testing.T, r *fakeRemote, gh *fakeGitHub, images ...string) (*Result, error) {
	t.Helper()
	cfg := testConfig(func(c *config.Config) {
		c.Mode, c.Images, c.WaitForMerge = config.ModePullRequest, images, false
	})
	return New(r, WithRetry(fastRetry), WithGitHub(gh)).Run(context.Background(), cfg)
}

// A second run into the same pull request keeps the first run's image and
// adds its own, rebuilt on the current base; the same image twice: the
// later value wins. The PR title and body list every change.
func TestPullRequestsAccumulate(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	gh := &fakeGitHub{r: r}
	if _, err := prRun(t, r, gh, "ghcr.io/acme/user-service:1.4.2"); err != nil {
		t.Fatal(err)
	}
	// main moves on meanwhile (another change merged): the rebuild starts there.
	moved := r.commitOn("main", func(f map[string][]byte) { f["README.md"] = []byte("moved\n") })
	res, err := prRun(t, r, gh, "ghcr.io/acme/sidecar:2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	c := r.commits[r.branches[res.PRBranch]]
	file := string(c.files[prodUser])
	if c.parent != moved || !strings.Contains(file, `newTag: "1.4.2"`) || !strings.Contains(file, "ghcr.io/acme/sidecar") || string(c.files["README.md"]) != "moved\n" {
		t.Errorf("pull request head (parent %s, main %s):\n%s\nwant both images, rebuilt on main", short(c.parent), short(moved), file)
	}
	if len(res.Changes) != 1 || res.Changes[0].Image != "ghcr.io/acme/sidecar" {
		t.Errorf("run outputs changes %+v, want only its own", res.Changes)
	}
	last := gh.specs[len(gh.specs)-1]
	if len(last.Changes) != 2 || !strings.Contains(last.Title, "2 images") {
		t.Errorf("pull request text %q lists %+v; want both changes", last.Title, last.Changes)
	}

	if _, err := prRun(t, r, gh, "ghcr.io/acme/user-service:1.4.3"); err != nil {
		t.Fatal(err)
	}
	file = string(r.commits[r.branches[res.PRBranch]].files[prodUser])
	if !strings.Contains(file, `newTag: "1.4.3"`) || strings.Contains(file, "1.4.2") || !strings.Contains(file, "ghcr.io/acme/sidecar") {
		t.Errorf("after a later tag of the same image:\n%s\nwant 1.4.3 and the sidecar", file)
	}
}

// Two runs race for the branch: the lease refuses the second push, which
// retries on top of the first.
func TestPullRequestLeaseKeepsTheFirstPush(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	gh := &fakeGitHub{r: r}
	prBranch := PRBranch("main", []string{"apps/user-service/overlays/production"})
	other := &fakeGitHub{r: r}
	r.beforePush = func(r *fakeRemote, attempt int) {
		if attempt != 1 {
			return
		}
		r.mu.Unlock() // the other run lands between our read and our push
		defer r.mu.Lock()
		r.beforePush = nil
		if _, err := prRun(t, r, other, "ghcr.io/acme/sidecar:2.0.0"); err != nil {
			t.Error(err)
		}
	}
	res, err := prRun(t, r, gh, "ghcr.io/acme/user-service:1.4.2")
	if err != nil {
		t.Fatal(err)
	}
	file := string(r.commits[r.branches[prBranch]].files[prodUser])
	if res.Attempts < 2 || !strings.Contains(file, "1.4.2") || !strings.Contains(file, "ghcr.io/acme/sidecar") {
		t.Errorf("after %d attempts the branch holds:\n%s\nwant both images", res.Attempts, file)
	}
}

// A pr-branch holding a commit the tool did not make is refused before
// anything is pushed, naming the branch and the commit.
func TestPullRequestForeignBranchRefused(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	base := r.branches["main"]
	files := maps.Clone(r.commits[base].files)
	files["notes.md"] = []byte("mine\n")
	foreign := r.store(&fakeCommit{parent: base, files: files, msg: "WIP: my notes"})
	r.branches["deploy/prod"] = foreign
	cfg := testConfig(func(c *config.Config) { c.Mode, c.PRBranch = config.ModePullRequest, "deploy/prod" })
	_, err := New(r, WithRetry(fastRetry), WithGitHub(&fakeGitHub{r: r})).Run(context.Background(), cfg)
	var fe *ForeignBranchError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), `"deploy/prod"`) || !strings.Contains(err.Error(), short(foreign)) || !fe.BadInput() {
		t.Fatalf("Run error %v; want a bad-input refusal naming deploy/prod and %s", err, short(foreign))
	}
	if r.branches["deploy/prod"] != foreign || r.pushes != 0 {
		t.Errorf("the branch moved or %d pushes happened", r.pushes)
	}
}

// Through the API, a run that joins the pending pull request commits on top
// of its head (expectedHeadOid is the lease) with both images.
func TestPullRequestsAccumulateThroughTheAPI(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	gh := &fakeGitHub{r: r}
	api := func(images ...string) (*Result, error) {
		cfg := testConfig(func(c *config.Config) {
			c.Mode, c.Images, c.WaitForMerge, c.CommitMethod = config.ModePullRequest, images, false, config.CommitAPI
		})
		return New(r, WithRetry(fastRetry), WithGitHub(gh)).Run(context.Background(), cfg)
	}
	first, err := api("ghcr.io/acme/user-service:1.4.2")
	if err != nil {
		t.Fatal(err)
	}
	res, err := api("ghcr.io/acme/sidecar:2.0.0")
	if err != nil {
		t.Fatal(err)
	}
	c := r.commits[r.branches[res.PRBranch]]
	if c.parent != first.CommitSHA {
		t.Errorf("the joining commit's parent is %s, want the pending head %s", short(c.parent), short(first.CommitSHA))
	}
	file := string(c.files[prodUser])
	if !strings.Contains(file, `newTag: "1.4.2"`) || !strings.Contains(file, "ghcr.io/acme/sidecar") {
		t.Errorf("pull request head:\n%s\nwant both images", file)
	}
	if !strings.Contains(c.msg, TrailerChange+": ghcr.io/acme/user-service ghcr.io/acme/user-service:1.4.2 "+prodUser) {
		t.Errorf("commit message lacks the first run's change trailer:\n%s", c.msg)
	}
}

// fakeFinder adds FindPR to the fake GitHub: the newest pull request of a
// branch as a test sets it.
type fakeFinder struct {
	*fakeGitHub
	info *PRInfo
}

func (f fakeFinder) FindPR(context.Context, string, string) (*PRInfo, error) { return f.info, nil }

// A branch whose head has no marker but is the last head of a merged pull
// request (left by an older version, say) is reused: nothing is lost, and
// its old values are not replayed.
func TestPullRequestBranchOfAMergedPRIsReused(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	prBranch := PRBranch("main", []string{"apps/user-service/overlays/production"})
	old := r.commitOn("main", func(map[string][]byte) {})
	r.branches[prBranch] = old
	gh := fakeFinder{fakeGitHub: &fakeGitHub{r: r}, info: &PRInfo{Number: 3, State: "merged", HeadSHA: old}}
	cfg := testConfig(func(c *config.Config) { c.Mode, c.WaitForMerge = config.ModePullRequest, false })
	res, err := New(r, WithRetry(fastRetry), WithGitHub(gh)).Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r.branches[prBranch] != res.CommitSHA || r.commits[res.CommitSHA].parent != r.branches["main"] {
		t.Errorf("the branch was not rebuilt on main with our commit")
	}
	// The same head while its pull request is still open is someone's: refused.
	r.branches[prBranch] = old
	gh.info.State = "open"
	_, err = New(r, WithRetry(fastRetry), WithGitHub(gh)).Run(context.Background(), cfg)
	var fe *ForeignBranchError
	if !errors.As(err, &fe) || fe.BadInput() {
		t.Errorf("Run error %v; want a *ForeignBranchError (not bad input: the branch is the generated one)", err)
	}
}
