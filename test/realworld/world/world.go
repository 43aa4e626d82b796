// Package world brings up a real Argo CD on a real Kubernetes API server on 127.0.0.1 for the
// real-world test tier: etcd, kube-apiserver (token auth, RBAC), redis, Argo CD's repo-server,
// application controller and API server (auth on), the project's sandbox git server with
// branch protection, optionally the GitHub simulator, and a rollout stand-in (there is no
// kubelet). Binaries come from test/realworld/build.sh; etcd and redis from Debian.
//
// One call, Start, brings it up; Close stops every process by its PID and removes the folder.
// Later components (Argo CD's notifications controller, Flux's controllers) plug in through
// WithAddon and StartProcess.
package world

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
	"github.com/gitops-promote/gitops-promote/test/realworld/procs"
	"github.com/gitops-promote/gitops-promote/test/realworld/rollout"
)

// Namespace is Argo CD's namespace.
const Namespace = "argocd"

// The config repository of the world.
const (
	Owner  = "acme"
	Name   = "config"
	Branch = "main"
)

// App is an Argo CD Application the world creates.
type App struct {
	Name     string
	Paths    []string // one path: spec.source; more: spec.sources (a multi-source application)
	AutoSync bool
	DestNS   string // "" = the last element of the first path

	Annotations map[string]string // on the Application, e.g. notification subscriptions
}

// Option shapes a World.
type Option func(*options)

type options struct {
	binDir       string
	seed         fs.FS
	protection   gitserver.Protection
	github       *githubsim.RepoSettings
	apps         []App
	rolloutDelay time.Duration
	broken       *regexp.Regexp
	argocdCM     map[string]string
	addons       []func(ctx context.Context, w *World) error
	logf         func(format string, args ...any)
	keepDir      bool
}

// WithBinDir names the folder of the built binaries (default: what build.sh --bin-dir prints,
// or $GITOPS_PROMOTE_REALWORLD_BIN).
func WithBinDir(dir string) Option { return func(o *options) { o.binDir = dir } }

// WithSeed is the tree of the config repository's first commit (required).
func WithSeed(seed fs.FS) Option { return func(o *options) { o.seed = seed } }

// WithProtection protects main in the git server (default unprotected: pushes land).
func WithProtection(p gitserver.Protection) Option { return func(o *options) { o.protection = p } }

// WithGitHub starts the GitHub simulator over the same repositories, with these settings.
func WithGitHub(s githubsim.RepoSettings) Option { return func(o *options) { o.github = &s } }

// WithApps creates these Argo CD applications once the world is up.
func WithApps(apps ...App) Option { return func(o *options) { o.apps = append(o.apps, apps...) } }

// WithRolloutDelay is how long the rollout stand-in leaves a new Deployment generation
// unrolled (default 3s).
func WithRolloutDelay(d time.Duration) Option { return func(o *options) { o.rolloutDelay = d } }

// WithBrokenImage makes the rollout stand-in fail Deployments with an image matching re
// (Progressing=False, ProgressDeadlineExceeded). Default: images whose tag has "broken".
func WithBrokenImage(re *regexp.Regexp) Option { return func(o *options) { o.broken = re } }

// WithArgoCDConfig adds keys to argocd-cm.
func WithArgoCDConfig(kv map[string]string) Option {
	return func(o *options) {
		if o.argocdCM == nil {
			o.argocdCM = map[string]string{}
		}
		for k, v := range kv {
			o.argocdCM[k] = v
		}
	}
}

// WithAddon runs fn once the core world is up (before the applications are created): the
// place for more components, e.g. a notifications controller or Flux's controllers.
func WithAddon(fn func(ctx context.Context, w *World) error) Option {
	return func(o *options) { o.addons = append(o.addons, fn) }
}

// WithLogf receives the world's progress lines (default: discarded).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithKeepDir keeps the world's folder (logs, etcd data) after Close.
func WithKeepDir() Option { return func(o *options) { o.keepDir = true } }

// World is a running real-world stack.
type World struct {
	Dir    string // the world's own folder: logs/, tmp/, etcd/, kube/
	BinDir string

	EtcdURL    string
	KubeURL    string
	KubeToken  string // a system:masters token
	Kubeconfig string // a kubeconfig file with that token, context namespace argocd
	RestConfig *rest.Config
	Kube       kubernetes.Interface
	Dynamic    dynamic.Interface

	ArgoCDURL     string // http://127.0.0.1:port (the API server runs --insecure)
	ArgoCDAddr    string // 127.0.0.1:port, for the argocd CLI (--plaintext)
	AdminPassword string
	AdminToken    string // a session of admin
	ArgoCDToken   string // the API token of the apiKey account "ci"
	RepoServer    string // 127.0.0.1:port of Argo CD's repo-server (TLS, self-signed)

	Git      *gitserver.Server
	GitHub   *githubsim.Server // nil unless WithGitHub
	Repo     string            // "acme/config"
	RepoURL  string
	GitToken string // the token git and the GitHub simulator accept
	SeedHead string

	opts       options
	logf       func(format string, args ...any)
	mu         sync.Mutex
	group      procs.Group
	procByName map[string]*Proc
	cancel     context.CancelFunc
	rolloutErr chan error
}

// Start brings the world up. Close it when done (also on error, Start cleans up itself).
func Start(ctx context.Context, opts ...Option) (w *World, err error) {
	o := options{rolloutDelay: 3 * time.Second, broken: regexp.MustCompile(`:[^@]*broken`), logf: func(string, ...any) {}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.seed == nil {
		return nil, errors.New("starting the real world: no seed tree (WithSeed)")
	}
	w = &World{opts: o, logf: o.logf, Repo: Owner + "/" + Name, GitToken: "ghs_realworld_" + randomHex(8)}
	defer func() {
		if err != nil {
			w.Close()
			w = nil
		}
	}()
	if w.BinDir = o.binDir; w.BinDir == "" {
		if w.BinDir, err = lookBinDir(ctx); err != nil {
			return w, err
		}
	}
	for _, b := range []string{"argocd", "kube-apiserver", "kustomize"} {
		if !fileExists(filepath.Join(w.BinDir, b)) {
			return w, fmt.Errorf("no %s in %s: run 'make realworld-build' (test/realworld/build.sh)", b, w.BinDir)
		}
	}
	// A short folder: unix socket paths (the askpass sockets) must stay under 108 bytes.
	if w.Dir, err = os.MkdirTemp("", "rw-"); err != nil {
		return w, fmt.Errorf("making the world's folder: %w", err)
	}
	w.group.Dir, w.group.Logf = w.Dir, w.logf
	start := time.Now()
	if err = w.startGit(); err != nil {
		return w, err
	}
	if err = w.startEtcd(ctx); err != nil {
		return w, err
	}
	if err = w.startAPIServer(ctx); err != nil {
		return w, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.rolloutErr = make(chan error, 1)
	go func() {
		w.rolloutErr <- rollout.Run(rctx, w.Kube, rollout.Options{Delay: o.rolloutDelay, Broken: o.broken, Logf: w.logf})
	}()
	if err = w.configureArgoCD(ctx); err != nil {
		return w, err
	}
	if err = w.startArgoCD(ctx); err != nil {
		return w, err
	}
	for _, addon := range o.addons {
		if err = addon(ctx, w); err != nil {
			return w, err
		}
	}
	for _, a := range o.apps {
		if err = w.CreateApp(ctx, a); err != nil {
			return w, err
		}
	}
	w.logf("world up in %s: Argo CD %s, kube-apiserver %s, folder %s", time.Since(start).Round(100*time.Millisecond), w.ArgoCDURL, w.KubeURL, w.Dir)
	return w, nil
}

// startGit starts the sandbox git server (and the GitHub simulator) and seeds the repository.
func (w *World) startGit() error {
	var err error
	if w.Git, err = gitserver.Start(gitserver.WithToken(w.GitToken), gitserver.WithLogf(w.logf)); err != nil {
		return fmt.Errorf("starting the git server: %w", err)
	}
	if _, err = w.Git.CreateRepo(Owner, Name); err != nil {
		return fmt.Errorf("creating %s: %w", w.Repo, err)
	}
	w.RepoURL = w.Git.RepoURL(w.Repo)
	dir := filepath.Join(w.Dir, "seed")
	if err := os.CopyFS(dir, w.opts.seed); err != nil {
		return fmt.Errorf("seeding %s: %w", w.Repo, err)
	}
	if w.SeedHead, err = w.Git.SeedFromDir(w.Repo, Branch, dir); err != nil {
		return fmt.Errorf("seeding %s: %w", w.Repo, err)
	}
	if w.opts.protection != gitserver.Unprotected {
		if err := w.Git.Protect(w.Repo, Branch, w.opts.protection); err != nil {
			return fmt.Errorf("protecting %s: %w", Branch, err)
		}
	}
	if w.opts.github != nil {
		bare := func(owner, name string) string { return w.Git.BareDir(owner + "/" + name) }
		if w.GitHub, err = githubsim.Start(githubsim.WithToken(w.GitToken), githubsim.WithBareDir(bare), githubsim.WithLogf(w.logf)); err != nil {
			return fmt.Errorf("starting the GitHub simulator: %w", err)
		}
		if err := w.GitHub.AddRepo(Owner, Name, *w.opts.github); err != nil {
			return fmt.Errorf("adding %s to the GitHub simulator: %w", w.Repo, err)
		}
	}
	return nil
}

// baseEnv is the environment every process gets: PATH with the bin folder first (the
// repo-server execs kustomize and git), HOME inside the world.
func (w *World) baseEnv() []string {
	home := filepath.Join(w.Dir, "home")
	_ = os.MkdirAll(home, 0o700)
	return []string{"PATH=" + w.BinDir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + home}
}

// CreateApp creates an Argo CD Application in the world's cluster.
func (w *World) CreateApp(ctx context.Context, a App) error {
	dest := a.DestNS
	if dest == "" {
		dest = path.Base(a.Paths[0])
	}
	spec := map[string]any{
		"project":     "default",
		"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": dest},
	}
	var sources []any
	for _, p := range a.Paths {
		sources = append(sources, map[string]any{"repoURL": w.RepoURL, "path": p, "targetRevision": Branch})
	}
	if len(sources) == 1 {
		spec["source"] = sources[0]
	} else {
		spec["sources"] = sources
	}
	policy := map[string]any{"syncOptions": []any{"CreateNamespace=true"}}
	if a.AutoSync {
		policy["automated"] = map[string]any{"prune": true, "selfHeal": true}
	}
	spec["syncPolicy"] = policy
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": a.Name, "namespace": Namespace},
		"spec":     spec,
	}}
	if len(a.Annotations) > 0 {
		app.SetAnnotations(a.Annotations)
	}
	return w.Create(ctx, app)
}

// Proc is a started component by name: "repo-server", "application-controller", "server",
// or the name given to StartProcess.
func (w *World) Proc(name string) *Proc {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.procByName[name]; p != nil {
		return p
	}
	for _, p := range w.group.All() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Procs is every process of the world, in start order.
func (w *World) Procs() []*Proc { return w.group.All() }

// Logs is the tail of every component's log, for a failing test.
func (w *World) Logs(n int) string { return w.group.Logs(n) }

// Close stops every process by its PID, newest first, the servers, and removes the folder.
func (w *World) Close() {
	if w == nil {
		return
	}
	if w.cancel != nil {
		w.cancel()
		if err := <-w.rolloutErr; err != nil {
			w.logf("rollout stand-in: %v", err)
		}
	}
	w.group.StopAll(10 * time.Second)
	if w.GitHub != nil {
		w.GitHub.Close()
	}
	if w.Git != nil {
		_ = w.Git.Close()
	}
	if w.Dir != "" && !w.opts.keepDir {
		_ = os.RemoveAll(w.Dir)
	}
}
