package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/argocdsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// Owner and Name name the config repository of the sandbox.
const (
	Owner = "acme"
	Name  = "config"
	// Branch is the branch the Argo CD applications track.
	Branch = "main"
)

// App is one Argo CD application of the sandbox: the overlay it renders.
type App struct {
	Name    string // e.g. "user-service-staging"
	Overlay string // e.g. "apps/user-service/overlays/staging"
}

// World is a running sandbox.
type World struct {
	Git    *gitserver.Server
	GitHub *githubsim.Server
	ArgoCD *argocdsim.Server

	Repo        string // "acme/config"
	RepoURL     string // the clone URL, without credentials
	Token       string // the token git and the GitHub simulator accept
	ArgoCDToken string // the token the Argo CD simulator accepts
	Apps        []App
	SeedHead    string // the commit the repository was seeded with
}

// Options shape a World. The zero value is the demo's world: protected main with a
// required check that passes once the pull request exists, auto-merge allowed, Argo CD's
// 180 s poll.
type Options struct {
	// Seed is the tree of the config repository (usually gitopspromote.Example()).
	Seed fs.FS
	// Protection of main: gitserver.Unprotected, classic or ruleset.
	Protection gitserver.Protection
	// GitHub is the repository's settings in the GitHub simulator; nil means auto-merge
	// allowed, main protected as Protection says, one required check.
	GitHub *githubsim.RepoSettings
	// PollInterval is Argo CD's poll of the repository (default 180 s).
	PollInterval time.Duration
	// RolloutDelay is how long a synced app stays Progressing (default 1 s).
	RolloutDelay time.Duration
	// SyncDuration is how long a sync operation runs (default 500 ms).
	SyncDuration time.Duration
	// Logf receives the simulators' log lines (default: discarded).
	Logf func(format string, args ...any)
}

// Start starts the three servers, seeds the repository and registers one Argo CD
// application per overlay found under apps/*/overlays/*. Close the World when done.
func Start(opts Options) (w *World, err error) {
	if opts.Seed == nil {
		return nil, errors.New("starting sandbox: no seed tree")
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = 180 * time.Second
	}
	if opts.RolloutDelay == 0 {
		opts.RolloutDelay = time.Second
	}
	if opts.SyncDuration == 0 {
		opts.SyncDuration = 500 * time.Millisecond
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	w = &World{Repo: Owner + "/" + Name, Token: "ghs_sandbox" + randomSuffix(), ArgoCDToken: "argocd-sandbox" + randomSuffix()}
	defer func() {
		if err != nil {
			w.Close()
			w = nil
		}
	}()

	if w.Git, err = gitserver.Start(gitserver.WithToken(w.Token), gitserver.WithLogf(logf)); err != nil {
		return w, fmt.Errorf("starting git server: %w", err)
	}
	if _, err = w.Git.CreateRepo(Owner, Name); err != nil {
		return w, fmt.Errorf("creating repository %q: %w", w.Repo, err)
	}
	w.RepoURL = w.Git.RepoURL(w.Repo)
	if w.SeedHead, err = seed(w.Git, w.Repo, opts.Seed); err != nil {
		return w, err
	}
	if opts.Protection != gitserver.Unprotected {
		if err = w.Git.Protect(w.Repo, Branch, opts.Protection); err != nil {
			return w, fmt.Errorf("protecting %s: %w", Branch, err)
		}
	}

	settings := githubsim.RepoSettings{DefaultBranch: Branch, AutoMergeAllowed: true, RequiredChecks: []string{"ci"}}
	if opts.Protection != gitserver.Unprotected {
		settings.Protected = []string{Branch}
		settings.Ruleset = opts.Protection == gitserver.Ruleset
	}
	if opts.GitHub != nil {
		settings = *opts.GitHub
	}
	bare := func(owner, name string) string { return w.Git.BareDir(owner + "/" + name) }
	if w.GitHub, err = githubsim.Start(githubsim.WithToken(w.Token), githubsim.WithBareDir(bare), githubsim.WithLogf(logf)); err != nil {
		return w, fmt.Errorf("starting GitHub simulator: %w", err)
	}
	if err = w.GitHub.AddRepo(Owner, Name, settings); err != nil {
		return w, fmt.Errorf("adding %q to the GitHub simulator: %w", w.Repo, err)
	}

	overlays, err := fs.Glob(opts.Seed, "apps/*/overlays/*")
	if err != nil {
		return w, fmt.Errorf("listing overlays: %w", err)
	}
	var apps []argocdsim.App
	for _, o := range overlays {
		app := App{Name: path.Base(path.Dir(path.Dir(o))) + "-" + path.Base(o), Overlay: o}
		w.Apps = append(w.Apps, app)
		apps = append(apps, argocdsim.App{
			Name: app.Name, RepoURL: w.RepoURL, Path: o, TargetRevision: Branch,
			BareRepoDir: w.Git.BareDir(w.Repo), AutoSync: true, DestNamespace: path.Base(o),
		})
	}
	w.ArgoCD, err = argocdsim.Start(apps,
		argocdsim.WithToken(w.ArgoCDToken),
		argocdsim.WithPollInterval(opts.PollInterval),
		argocdsim.WithRolloutDelay(opts.RolloutDelay),
		argocdsim.WithSyncDuration(opts.SyncDuration),
		argocdsim.WithLogf(logf))
	if err != nil {
		return w, fmt.Errorf("starting Argo CD simulator: %w", err)
	}
	return w, nil
}

// GitHubAPIURL is the REST root of the GitHub simulator (GraphQL at <url>/graphql).
func (w *World) GitHubAPIURL() string { return w.GitHub.URL() }

// Close stops every server of the world.
func (w *World) Close() {
	if w == nil {
		return
	}
	if w.ArgoCD != nil {
		w.ArgoCD.Close()
	}
	if w.GitHub != nil {
		w.GitHub.Close()
	}
	if w.Git != nil {
		_ = w.Git.Close()
	}
}

// seed commits the seed tree as the first commit of main.
func seed(git *gitserver.Server, repo string, tree fs.FS) (string, error) {
	dir, err := os.MkdirTemp("", "gitops-promote-seed-")
	if err != nil {
		return "", fmt.Errorf("seeding %q: %w", repo, err)
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, tree); err != nil {
		return "", fmt.Errorf("seeding %q: %w", repo, err)
	}
	head, err := git.SeedFromDir(repo, Branch, dir)
	if err != nil {
		return "", fmt.Errorf("seeding %q: %w", repo, err)
	}
	return head, nil
}

// randomSuffix makes each world's tokens its own, so a token printed by mistake in one test
// cannot pass in another.
func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "_" + hex.EncodeToString(b)
}
