package promote

import (
	"context"
	"errors"
	"io/fs"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

// Repo is the config repository's git remote.
type Repo interface {
	// DefaultBranch returns the branch the remote's HEAD points at.
	DefaultBranch(ctx context.Context) (string, error)
	// Fetch reads the head of branch into memory.
	Fetch(ctx context.Context, branch string) (Snapshot, error)
	// Contains reports whether ancestor is in the history of rev, fetching
	// from branch as needed.
	Contains(ctx context.Context, branch, rev, ancestor string) (bool, error)
}

// Snapshot is one fetched head of a branch, in memory.
type Snapshot interface {
	// Head is the full SHA of the fetched commit.
	Head() string
	// FS reads the head's tree (slash paths from the repository root).
	FS() fs.FS
	// Commit writes files on top of Head and returns the new commit's SHA.
	Commit(files []File, msg string, author Author) (string, error)
	// Push fast-forwards branch to sha; a lost race is marked ErrNonFastForward,
	// a protection refusal ErrProtected. It never forces.
	Push(ctx context.Context, sha, branch string) error
	// PushForce sets our own pull request branch to sha (force with lease).
	PushForce(ctx context.Context, sha, branch string) error
}

// File is one file to write in a commit.
type File struct {
	Path    string
	Content []byte
}

// Author is the git author and committer.
type Author struct {
	Name, Email string
}

// GitHub is the forge API, available only where the GitHub API is used.
type GitHub interface {
	// EnsurePR opens the pull request for spec.Head, or adopts the open one.
	EnsurePR(ctx context.Context, spec PRSpec) (*PR, error)
	// Merge enables auto-merge (or the merge queue), or merges at once where
	// GitHub allows it, pinned to head, our commit on the pull request
	// branch: when the branch holds another commit (a later run rebuilt it)
	// it fails and merges nothing.
	Merge(ctx context.Context, pr *PR, head, method string, autoMerge bool) (*MergeOutcome, error)
	// WaitMerged blocks until the pull request is merged with head as its
	// head and returns the merge commit on the base branch; when the head
	// became another commit it fails at once.
	WaitMerged(ctx context.Context, pr *PR, head string) (string, error)
	// CommitOnBranch makes a commit through the API (shown as Verified); a
	// moved head is marked ErrStaleData.
	CommitOnBranch(ctx context.Context, spec CommitSpec) (string, error)
}

// PRSpec describes the one pull request of a target.
type PRSpec struct {
	Base, Head string // branch names
	Title      string
	// Body is the person's pr-body, rendered; "" asks the adapter for the generated body
	// (a table of Changes, a link to the workflow run, the marker that finds our PRs).
	Body      string
	Changes   []kustomize.Change
	Labels    []string
	Reviewers []string
	// HeadSHA is our commit on Head (a pull request whose head it is, merged
	// meanwhile, say, is adopted rather than opened again).
	HeadSHA string
	// Rendered is the rendered change of the edit, for the body.
	Rendered []kustomize.ObjectDiff
}

// PR is an open pull request.
type PR struct {
	Number  int
	URL     string
	HeadRef string
	BaseRef string
}

// MergeOutcome is what asking to merge did.
type MergeOutcome struct {
	Merged    bool   // merged at once
	SHA       string // the merge commit when Merged
	AutoMerge bool   // auto-merge enabled: GitHub merges when checks pass
	Queued    bool   // added to the merge queue
}

// CommitSpec is a commit made through the API on Branch, whose head must
// still be ExpectedHead. With BaseOid set, Branch (our pull request branch)
// is first created or moved to BaseOid.
type CommitSpec struct {
	Branch       string
	BaseOid      string
	ExpectedHead string
	Message      string
	Files        []File
}

// ArgoCD confirms a revision in Argo CD.
type ArgoCD interface {
	Wait(ctx context.Context, spec WaitSpec) ([]AppStatus, error)
}

// WaitSpec says what to wait for in Argo CD.
type WaitSpec struct {
	Apps     []string // [namespace/]name
	Revision string   // our commit on the tracked branch
	RepoURL  string   // our repository, to pick the source of multi-source apps
	Refresh  string   // normal, hard or none
	Sync     bool     // also request a sync
	// Contains reports whether ours is in the history of rev (git ancestry).
	Contains func(ctx context.Context, rev, ours string) (bool, error)
}

// AppStatus is where one application stood when the wait ended.
type AppStatus struct {
	Puller   string        // the Confirmer's Name: Argo CD, GitHub, Flux
	App      string        // [namespace/]name
	Result   string        // e.g. deployed, degraded, waiting
	Sync     string        // Synced, OutOfSync, ...
	Health   string        // Healthy, Progressing, Degraded, ...
	Revision string        // the revision Argo CD applied
	Elapsed  time.Duration // time until the verdict
}

// HeadMovedError is what a [GitHub] adapter returns from Merge or WaitMerged
// when the pull request's head is no longer the commit given: a later run
// rebuilt the branch, or someone added commits. Head is the new head, ""
// when GitHub did not say.
type HeadMovedError struct {
	Head string
	Err  error // the adapter's error, with its message and hint
}

// Error implements error.
func (e *HeadMovedError) Error() string { return e.Err.Error() }

// Unwrap returns the adapter's error.
func (e *HeadMovedError) Unwrap() error { return e.Err }

// Marks that adapters put on their errors with [Mark].
var (
	// ErrNonFastForward: the branch moved since the fetch (a lost race).
	ErrNonFastForward = errors.New("the branch moved since it was fetched")
	// ErrStaleData: the API refused a commit because the head moved.
	ErrStaleData = errors.New("the branch head moved (STALE_DATA)")
	// ErrProtected: branch protection or a ruleset refused the change.
	ErrProtected = errors.New("the branch is protected")
)

// Mark returns err marked with mark: errors.Is(result, mark) holds, and the
// message, hint and other wrapped errors of err are kept.
func Mark(err, mark error) error {
	if err == nil {
		return nil
	}
	return &markedError{err: err, mark: mark}
}

type markedError struct{ err, mark error }

func (e *markedError) Error() string   { return e.err.Error() }
func (e *markedError) Unwrap() []error { return []error{e.err, e.mark} }
