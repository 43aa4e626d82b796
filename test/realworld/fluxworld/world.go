// Package fluxworld brings up the real Flux controllers (source-controller v1.9.3,
// kustomize-controller v1.9.6) on a real kube-apiserver v1.34.2 on 127.0.0.1, for the
// real-world test tier: etcd (Debian), kube-apiserver (token auth, RBAC), the project's
// sandbox git server with a seeded config repository, a rollout stand-in (there is no
// kubelet), Flux's CRDs from the controllers' own modules, and a GitRepository plus a
// Kustomization applying one overlay. With WithNotifications it also runs
// notification-controller v1.9.3 (the other two send it their events), and CreateStatusAlert
// makes Flux write commit statuses to a GitHub (simulator). Binaries come from
// test/realworld/build.sh (kube-apiserver) and test/realworld/build.sh --flux (Flux), in the same
// cache.
//
// It is small on purpose, so that it can later become an addon of the Argo CD tier's world
// (the same etcd, kube-apiserver and git server).
package fluxworld

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
	"github.com/gitops-promote/gitops-promote/test/realworld/procs"
)

// The config repository and Flux objects of the world.
const (
	Owner         = "acme"
	Name          = "config"
	Branch        = "main"
	FluxNamespace = "flux-system"
	Source        = "config" // the GitRepository
)

// Option shapes a World.
type Option func(*options)

type options struct {
	seed         fs.FS
	rolloutDelay time.Duration
	broken       *regexp.Regexp
	logf         func(format string, args ...any)
	keepDir      bool
	notify       *notifyOpts // notify.go
}

// WithSeed is the tree of the config repository's first commit (required).
func WithSeed(seed fs.FS) Option { return func(o *options) { o.seed = seed } }

// WithRolloutDelay is how long the rollout stand-in leaves a new Deployment generation
// unrolled (default 3s).
func WithRolloutDelay(d time.Duration) Option { return func(o *options) { o.rolloutDelay = d } }

// WithBrokenImage makes the rollout stand-in fail Deployments with an image matching re
// (Progressing=False, ProgressDeadlineExceeded). Default: tags containing "broken".
func WithBrokenImage(re *regexp.Regexp) Option { return func(o *options) { o.broken = re } }

// WithLogf receives the world's progress lines.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithKeepDir keeps the world's folder (logs) after Close.
func WithKeepDir() Option { return func(o *options) { o.keepDir = true } }

// World is a running Flux stack.
type World struct {
	Dir        string
	KubeURL    string
	Kubeconfig string // a kubeconfig file (a system:masters token), context namespace flux-system
	Kube       kubernetes.Interface
	Dynamic    dynamic.Interface
	Git        *gitserver.Server
	Repo       string // acme/config
	RepoURL    string
	SeedHead   string

	opts    options
	logf    func(format string, args ...any)
	group   procs.Group
	cancel  context.CancelFunc
	rollout chan error
}

// Start brings the world up; Close it when done (Start cleans up itself on error).
func Start(ctx context.Context, opts ...Option) (w *World, err error) {
	o := options{rolloutDelay: 3 * time.Second, broken: regexp.MustCompile(`:[^@]*broken`), logf: func(string, ...any) {}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.seed == nil {
		return nil, errors.New("starting the Flux world: no seed tree (WithSeed)")
	}
	w = &World{opts: o, logf: o.logf, Repo: Owner + "/" + Name}
	defer func() {
		if err != nil {
			w.Close()
			w = nil
		}
	}()
	bins, err := binaries(o.notify != nil)
	if err != nil {
		return w, err
	}
	if w.Dir, err = os.MkdirTemp("", "fw-"); err != nil {
		return w, fmt.Errorf("making the world's folder: %w", err)
	}
	w.group.Dir, w.group.Logf = w.Dir, w.logf
	start := time.Now()
	if err = w.startGit(); err != nil {
		return w, err
	}
	etcd, err := w.startEtcd(ctx)
	if err != nil {
		return w, err
	}
	if err = w.startAPIServer(ctx, bins["kube-apiserver"], etcd); err != nil {
		return w, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.rollout = cancel, make(chan error, 1)
	go func() { w.rollout <- runRollout(rctx, w.Kube, o.rolloutDelay, o.broken, w.logf) }()
	if err = w.installFlux(ctx); err != nil {
		return w, err
	}
	if err = w.startFlux(ctx, bins); err != nil {
		return w, err
	}
	w.logf("Flux world up in %s: kube-apiserver %s, git %s, folder %s", time.Since(start).Round(100*time.Millisecond), w.KubeURL, w.RepoURL, w.Dir)
	return w, nil
}

func (w *World) startGit() error {
	var err error
	if w.Git, err = gitserver.Start(gitserver.WithLogf(w.logf)); err != nil {
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
	return nil
}

func (w *World) env() []string {
	home := filepath.Join(w.Dir, "home")
	tmp := filepath.Join(w.Dir, "tmp")
	_ = os.MkdirAll(home, 0o700)
	_ = os.MkdirAll(tmp, 0o700)
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + tmp}
}

// startEtcd starts Debian's etcd on two free loopback ports and returns its client URL.
func (w *World) startEtcd(ctx context.Context) (string, error) {
	ports, err := procs.FreePorts(2)
	if err != nil {
		return "", err
	}
	client, peer := "http://"+procs.Addr(ports[0]), "http://"+procs.Addr(ports[1])
	p, err := w.group.Start("etcd", "etcd", []string{
		"--name=default", "--data-dir=" + filepath.Join(w.Dir, "etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=default=" + peer, "--log-level=warn",
	}, w.env())
	if err != nil {
		return "", fmt.Errorf("%w (etcd comes from Debian's etcd-server)", err)
	}
	return client, w.group.WaitUp(ctx, p, 30*time.Second, func(ctx context.Context) error {
		return get(ctx, http.DefaultClient, client+"/health", "")
	})
}

// startAPIServer starts kube-apiserver with one system:masters token and writes the kubeconfig.
func (w *World) startAPIServer(ctx context.Context, bin, etcd string) error {
	ports, err := procs.FreePorts(1)
	if err != nil {
		return err
	}
	dir := filepath.Join(w.Dir, "kube")
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o700); err != nil {
		return fmt.Errorf("preparing kube-apiserver: %w", err)
	}
	token := randomHex(16)
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return fmt.Errorf("writing the token file: %w", err)
	}
	key, pub, err := writeKeyPair(dir)
	if err != nil {
		return err
	}
	p, err := w.group.Start("kube-apiserver", bin, []string{
		"--etcd-servers=" + etcd, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[0]), "--cert-dir=" + filepath.Join(dir, "certs"),
		"--token-auth-file=" + tokens, "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pub, "--service-account-signing-key-file=" + key,
		"--service-cluster-ip-range=10.96.0.0/16", "--disable-admission-plugins=ServiceAccount",
		"--profiling=false", "--v=1",
	}, w.env())
	if err != nil {
		return err
	}
	w.KubeURL = "https://" + procs.Addr(ports[0])
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the apiserver's own self-signed certificate on loopback
	if err := w.group.WaitUp(ctx, p, 90*time.Second, func(ctx context.Context) error {
		return get(ctx, hc, w.KubeURL+"/readyz", token)
	}); err != nil {
		return err
	}
	w.Kubeconfig = filepath.Join(dir, "kubeconfig")
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: fluxworld\n  cluster:\n    server: %s\n    insecure-skip-tls-verify: true\nusers:\n- name: admin\n  user:\n    token: %s\ncontexts:\n- name: fluxworld\n  context:\n    cluster: fluxworld\n    user: admin\n    namespace: %s\ncurrent-context: fluxworld\n", w.KubeURL, token, FluxNamespace)
	if err := os.WriteFile(w.Kubeconfig, []byte(kc), 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", w.Kubeconfig)
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.WarningHandler = rest.NoWarnings{}
	if w.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	w.Dynamic, err = dynamic.NewForConfig(cfg)
	return err
}

// Close stops every process by its id, newest first, the git server, and removes the folder.
func (w *World) Close() {
	if w == nil {
		return
	}
	if w.cancel != nil {
		w.cancel()
		if err := <-w.rollout; err != nil && !errors.Is(err, context.Canceled) {
			w.logf("rollout stand-in: %v", err)
		}
	}
	w.group.StopAll(10 * time.Second)
	if w.Git != nil {
		_ = w.Git.Close()
	}
	if w.Dir != "" && !w.opts.keepDir {
		_ = os.RemoveAll(w.Dir)
	}
}

// Logs is the tail of every component's log, for a failing test.
func (w *World) Logs(n int) string { return w.group.Logs(n) }

func get(ctx context.Context, hc *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
