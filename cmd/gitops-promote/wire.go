package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/argocd"
	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/github"
	"github.com/gitops-promote/gitops-promote/internal/gitrepo"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

// The adapters below satisfy promote's interfaces over the real packages,
// converting types and marking the errors promote decides on.

// repoAdapter is promote.Repo over a gitrepo.Remote.
type repoAdapter struct{ r *gitrepo.Remote }

func (a repoAdapter) DefaultBranch(ctx context.Context) (string, error) {
	b, err := a.r.DefaultBranch(ctx)
	return b, markGit(err)
}

func (a repoAdapter) Fetch(ctx context.Context, branch string) (promote.Snapshot, error) {
	s, err := a.r.Fetch(ctx, branch)
	if errors.Is(err, gitrepo.ErrNotFound) {
		return nil, promote.Mark(err, promote.ErrBranchNotFound)
	}
	if err != nil {
		return nil, markGit(err)
	}
	return snapAdapter{s: s}, nil
}

func (a repoAdapter) Contains(ctx context.Context, branch, rev, ancestor string) (bool, error) {
	ok, err := a.r.Contains(ctx, branch, rev, ancestor)
	return ok, markGit(err)
}

// snapAdapter is promote.Snapshot over a gitrepo.Snapshot.
type snapAdapter struct{ s *gitrepo.Snapshot }

func (a snapAdapter) Head() string { return a.s.Head() }
func (a snapAdapter) FS() fs.FS    { return a.s.FS() }

func (a snapAdapter) Commit(files []promote.File, msg string, author promote.Author) (string, error) {
	gf := make([]gitrepo.File, len(files))
	for i, f := range files {
		gf[i] = gitrepo.File{Path: f.Path, Content: f.Content}
	}
	return a.s.Commit(gf, msg, gitrepo.Signature{Name: author.Name, Email: author.Email})
}

func (a snapAdapter) Push(ctx context.Context, sha, branch string) error {
	return markGit(a.s.Push(ctx, sha, branch))
}

func (a snapAdapter) PushForce(ctx context.Context, sha, branch string) error {
	return markGit(a.s.PushForce(ctx, sha, branch))
}

// requestCeiling is the ceiling of one exchange with the git server under a
// run's timeout: a third of it, at least 5 s (or the whole timeout when that
// is shorter), at most gitrepo's default of a minute. A server that accepts
// and never answers then costs one ceiling per try, and the tries fit in the
// timeout, which bounds them all.
func requestCeiling(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return gitrepo.DefaultRequestTimeout
	}
	return min(gitrepo.DefaultRequestTimeout, max(timeout/3, min(timeout, 5*time.Second)))
}

// HeadMessage makes the snapshot a promote.HeadMessager.
func (a snapAdapter) HeadMessage() (string, error) { return a.s.HeadMessage() }

// PushLease makes the snapshot a promote.LeasePusher.
func (a snapAdapter) PushLease(ctx context.Context, sha, branch, lease string) error {
	return markGit(a.s.PushLease(ctx, sha, branch, lease))
}

// networkHint is what to do when the git server stayed unreachable through
// gitrepo's own retries.
const networkHint = "the git server could not be reached: check repository-url and the network; the run can be retried safely"

func markGit(err error) error {
	var ne *gitrepo.NetworkError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gitrepo.ErrNonFastForward):
		return promote.Mark(err, promote.ErrNonFastForward)
	case errors.Is(err, gitrepo.ErrProtectedBranch):
		return promote.Mark(err, promote.ErrProtected)
	case errors.As(err, &ne):
		return &hintedError{err: err, hint: networkHint}
	}
	return err
}

// hintedError adds what to do to an error; errors.As still finds what it
// wraps (a *gitrepo.NetworkError stays Temporary for promote's retries).
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }
func (e *hintedError) Hint() string  { return e.hint }

// githubAdapter is promote.GitHub over a github.Client for one repository.
type githubAdapter struct {
	c           *github.Client
	owner, repo string
	prs         map[int]*github.PR
	run         github.RunLink // the workflow run the generated PR body links to
	// links are the rest of the body's links: the Argo CD applications, and
	// web (the GitHub web address, "" when not known) for our commit's page.
	links github.Links
	web   string
	// found is FindPR's last answer per head branch, which EnsurePR uses
	// instead of listing again.
	found map[string]*github.PRInfo
}

// FindPR makes the adapter a promote.PRFinder.
func (a *githubAdapter) FindPR(ctx context.Context, base, head string) (*promote.PRInfo, error) {
	info, err := a.c.FindPR(ctx, a.owner, a.repo, base, head)
	if err != nil {
		return nil, markGitHub(err)
	}
	if a.found == nil {
		a.found = map[string]*github.PRInfo{}
	}
	a.found[head] = info
	if info == nil {
		return nil, nil
	}
	return &promote.PRInfo{Number: info.Number, URL: info.URL, State: info.State, HeadSHA: info.HeadSHA}, nil
}

func (a *githubAdapter) EnsurePR(ctx context.Context, s promote.PRSpec) (*promote.PR, error) {
	spec := github.PRSpec{
		Owner: a.owner, Repo: a.repo, Base: s.Base, Head: s.Head,
		Title: s.Title, Body: a.body(s), Labels: s.Labels, Reviewers: s.Reviewers, HeadSHA: s.HeadSHA,
	}
	if f, ok := a.found[s.Head]; ok {
		spec.LookedUp, spec.Found = true, f
		delete(a.found, s.Head)
	}
	pr, err := a.c.EnsurePR(ctx, spec)
	if err != nil {
		return nil, markGitHub(err)
	}
	a.prs[pr.Number] = pr
	return &promote.PR{Number: pr.Number, URL: pr.URL, HeadRef: pr.HeadRef, BaseRef: pr.BaseRef}, nil
}

// body is the person's pr-body with our marker, or the generated body.
func (a *githubAdapter) body(s promote.PRSpec) string {
	if s.Body != "" {
		return github.MarkBodyWith(s.Body, renderedObjects(s.Rendered))
	}
	changes := make([]github.Change, len(s.Changes))
	for i, c := range s.Changes {
		changes[i] = github.Change{File: c.File, Image: c.Image, Old: c.Old, New: c.New}
	}
	links := a.links
	links.Run, links.Commit = a.run, s.HeadSHA
	if a.web != "" && s.HeadSHA != "" {
		links.CommitURL = github.CommitURL(a.web, a.owner+"/"+a.repo, s.HeadSHA)
	}
	return github.PRBodyWith(s.Base, changes, github.BodyExtras{Rendered: renderedObjects(s.Rendered), Links: links})
}

func (a *githubAdapter) pr(p *promote.PR) *github.PR {
	if pr, ok := a.prs[p.Number]; ok {
		return pr
	}
	return &github.PR{Owner: a.owner, Repo: a.repo, Number: p.Number, URL: p.URL, HeadRef: p.HeadRef, BaseRef: p.BaseRef}
}

func (a *githubAdapter) Merge(ctx context.Context, p *promote.PR, head, method string, autoMerge bool) (*promote.MergeOutcome, error) {
	out, err := a.c.Merge(ctx, a.pr(p), head, method, autoMerge)
	if err != nil {
		return nil, markGitHub(err)
	}
	return &promote.MergeOutcome{
		Merged:    out.Action == github.ActionMerged,
		SHA:       out.MergeCommit,
		AutoMerge: out.Action == github.ActionAutoMerge,
		Queued:    out.Action == github.ActionQueued,
	}, nil
}

func (a *githubAdapter) WaitMerged(ctx context.Context, p *promote.PR, head string) (string, error) {
	sha, err := a.c.WaitMerged(ctx, a.pr(p), head)
	return sha, markGitHub(err)
}

func (a *githubAdapter) CommitOnBranch(ctx context.Context, s promote.CommitSpec) (string, error) {
	add := make(map[string][]byte, len(s.Files))
	for _, f := range s.Files {
		add[f.Path] = f.Content
	}
	sha, err := a.c.CommitOnBranch(ctx, github.CommitSpec{
		Owner: a.owner, Repo: a.repo, Branch: s.Branch, BaseOid: s.BaseOid,
		ExpectedHeadOid: s.ExpectedHead, Message: s.Message, Additions: add,
	})
	return sha, markGitHub(err)
}

// DeleteBranch makes the adapter a promote.BranchDeleter.
func (a *githubAdapter) DeleteBranch(ctx context.Context, branch, sha string) error {
	return a.c.DeleteBranch(ctx, a.owner, a.repo, branch, sha)
}

func markGitHub(err error) error {
	var (
		pe *github.ProtectedError
		se *github.SupersededError
	)
	switch {
	case err == nil:
		return nil
	case github.Refused(err):
		return promote.Mark(err, promote.ErrRefused)
	case errors.Is(err, github.ErrStaleHead):
		return promote.Mark(err, promote.ErrStaleData)
	case errors.As(err, &pe):
		return promote.Mark(err, promote.ErrProtected)
	case errors.As(err, &se):
		return &promote.HeadMovedError{Head: se.Head, Err: err}
	}
	return err
}

// argoConfirmer is a promote.Confirmer over an argocd.Client for the
// applications of argocd-apps. It is also a promote.Preflighter: before
// anything lands, each application must deploy one of the edited
// kustomization files from our repository.
type argoConfirmer struct {
	c       *argocd.Client
	apps    []argocd.AppRef
	refresh string
	sync    bool
	remote  bool // validate-remote: rendering an application's path may fetch

	mu       sync.Mutex
	rendered map[argocd.AppRef][]string // by Preflight: the edited files each app renders
}

func (a *argoConfirmer) Name() string { return "Argo CD" }

// Preflight reads each application's spec: one of its sources must be our
// repository, and the edited kustomization file must be part of what that
// source renders at its path (the path is the overlay, or the in-process
// kustomize build of the path reads the file). Otherwise the error is bad
// input naming the app, its repository and path, and the overlay.
func (a *argoConfirmer) Preflight(ctx context.Context, s promote.PreflightSpec) error {
	var opts []kustomize.ValidatorOption
	if a.remote {
		opts = append(opts, kustomize.WithRemote())
	}
	rendered, err := a.c.CheckDeploys(ctx, argocd.DeploysSpec{
		Apps: a.apps, RepoURL: s.RepoURL, Files: s.Files,
		Reads: func(dir string) ([]string, error) {
			if s.FS == nil {
				return nil, errors.New("the branch head is not at hand")
			}
			return kustomize.FilesRead(s.FS, dir, opts...)
		},
	})
	a.mu.Lock()
	a.rendered = rendered
	a.mu.Unlock()
	return err
}

// imagesFor returns the image values of changes that app must run: those
// of the edited files it renders (every change when Preflight did not
// run).
func (a *argoConfirmer) imagesFor(changes []kustomize.Change) func(argocd.AppRef) []string {
	a.mu.Lock()
	rendered := a.rendered
	a.mu.Unlock()
	return func(app argocd.AppRef) []string {
		var out []string
		for _, c := range changes {
			if rendered != nil && !slices.Contains(rendered[app], c.File) {
				continue
			}
			if c.New != "" && !slices.Contains(out, c.New) {
				out = append(out, c.New)
			}
		}
		return out
	}
}

func (a *argoConfirmer) Confirm(ctx context.Context, s promote.ConfirmSpec) ([]promote.AppStatus, error) {
	got, err := a.c.Wait(ctx, argocd.WaitSpec{
		Apps: a.apps, Revision: s.Revision, RepoURL: s.RepoURL, Refresh: a.refresh, Sync: a.sync, Contains: s.Contains, Keeps: s.Keeps,
		Images: a.imagesFor(s.Changes),
	})
	out := make([]promote.AppStatus, 0, len(got))
	for _, st := range got {
		if st.App.Name == "" {
			continue
		}
		out = append(out, promote.AppStatus{
			App: st.App.String(), Result: st.State.String(), Sync: st.Sync, Health: st.Health,
			Revision: st.Revision, Elapsed: st.Elapsed,
		})
	}
	return out, err
}

// ownerRepo returns the GitHub owner and name: the repository input, or the
// last two path segments of the repository URL.
func ownerRepo(cfg *config.Config) (string, string, error) {
	full := cfg.Repository
	if full == "" {
		u, err := url.Parse(cfg.RepositoryURL)
		if err != nil {
			return "", "", fmt.Errorf("reading owner/name from repository-url: %w", err)
		}
		parts := strings.Split(strings.Trim(strings.TrimSuffix(u.Path, ".git"), "/"), "/")
		if len(parts) >= 2 {
			full = parts[len(parts)-2] + "/" + parts[len(parts)-1]
		}
	}
	owner, name, ok := strings.Cut(full, "/")
	if !ok || owner == "" || name == "" {
		return "", "", &usageError{msg: "repository: give owner/name for the GitHub API (it could not be read from repository-url)"}
	}
	return owner, name, nil
}

// adapters builds the pipeline's dependencies from cfg.
// onSession, when not nil, hears an Argo CD session token obtained by login.
func adapters(cfg *config.Config, getenv func(string) string, logf func(string, ...any), onSession func(string)) ([]promote.Option, promote.Repo, error) {
	var repo promote.Repo
	if cfg.RepositoryURL != "" {
		r, err := gitrepo.New(cfg.RepositoryURL, gitrepo.WithToken(cfg.Token), gitrepo.WithLogf(logf),
			gitrepo.WithRequestTimeout(requestCeiling(cfg.Timeout)))
		if err != nil {
			return nil, nil, err
		}
		repo = repoAdapter{r: r}
	}
	opts := []promote.Option{promote.WithLogf(logf)}
	if cfg.UsesGitHubAPI() && cfg.Verb != config.VerbWait && (cfg.Token != "" || cfg.Mode == config.ModePullRequest || cfg.CommitMethod == config.CommitAPI) {
		owner, name, err := ownerRepo(cfg)
		if err != nil {
			return nil, nil, err
		}
		c, err := github.New(cfg.GitHubAPIURL, cfg.Token, github.WithLogf(logf))
		if err != nil {
			return nil, nil, err
		}
		web, _ := githubWeb(cfg, getenv)
		opts = append(opts, promote.WithGitHub(&githubAdapter{c: c, owner: owner, repo: name, prs: map[int]*github.PR{},
			run: runLink(getenv), links: github.Links{Apps: appLinks(cfg)}, web: web}))
	}
	if cfg.ArgoCDServer != "" {
		aopts, err := argoOptions(cfg, logf, onSession)
		if err != nil {
			return nil, nil, err
		}
		c, err := argocd.New(cfg.ArgoCDServer, aopts...)
		if err != nil {
			return nil, nil, err
		}
		apps, err := argocd.ParseAppRefs(cfg.ArgoCDApps)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, promote.WithConfirmer(&argoConfirmer{c: c, apps: apps, refresh: string(cfg.ArgoCDRefresh), sync: cfg.ArgoCDSync, remote: cfg.ValidateRemote}))
	}
	if opt, err := statusOption(cfg, logf); err != nil {
		return nil, nil, err
	} else if opt != nil {
		opts = append(opts, opt)
	}
	if o, ok, err := fluxOption(cfg, getenv, logf); err != nil {
		return nil, nil, err
	} else if ok {
		opts = append(opts, o)
	}
	return opts, repo, nil
}

// argoOptions turns the Argo CD inputs into client options. With a login,
// onSession (when not nil) hears the session token Argo CD hands out, so it
// can be redacted and masked like the configured secrets.
func argoOptions(cfg *config.Config, logf func(string, ...any), onSession func(string)) ([]argocd.Option, error) {
	aopts := []argocd.Option{argocd.WithLogf(logf)}
	switch {
	case cfg.ArgoCDToken != "":
		aopts = append(aopts, argocd.WithToken(cfg.ArgoCDToken))
	case cfg.ArgoCDUsername != "":
		aopts = append(aopts, argocd.WithLogin(cfg.ArgoCDUsername, cfg.ArgoCDPassword))
	}
	if onSession != nil {
		aopts = append(aopts, argocd.WithSessionToken(onSession))
	}
	if cfg.ArgoCDCA != "" {
		aopts = append(aopts, argocd.WithCA(cfg.ArgoCDCA))
	}
	if cfg.ArgoCDInsecure {
		aopts = append(aopts, argocd.WithInsecure())
	}
	return aopts, nil
}
