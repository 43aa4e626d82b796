package argocdsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// App is one Argo CD Application the simulator serves.
type App struct {
	Name           string
	Namespace      string // the application's namespace; "" = the controller's ("argocd")
	Project        string // "" = "default"
	RepoURL        string // spec.source.repoURL, as shown to clients
	Path           string // the overlay folder in the repository
	TargetRevision string // the branch tracked
	BareRepoDir    string // the bare repository the simulator reads with git
	AutoSync       bool
	DestNamespace  string // spec.destination.namespace (informational)
}

// Failure is a scripted failure for the next syncs of an application.
type Failure int

// The failures SetFailure can script.
const (
	// NoFailure: syncs succeed and rollouts become Healthy.
	NoFailure Failure = iota
	// Degraded: the sync succeeds, the rollout ends Degraded with the message.
	Degraded
	// SyncFailed: the sync operation ends Failed with the message.
	SyncFailed
	// ComparisonError: rendering fails; a ComparisonError condition is set.
	ComparisonError
)

// Option configures the simulator.
type Option func(*config)

type config struct {
	addr         string
	controllerNS string
	pollInterval time.Duration
	syncDuration time.Duration
	rolloutDelay time.Duration
	keepalive    time.Duration
	streamDrop   time.Duration
	noStream     bool
	bufferStream bool
	users        map[string]string
	tokens       []string
	logf         func(format string, args ...any)
	clock        func() time.Time
}

// WithAddr listens on addr (default "127.0.0.1:0").
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithPollInterval sets how often the branch is polled without a refresh
// (default 180s, as Argo CD before 3.0).
func WithPollInterval(d time.Duration) Option { return func(c *config) { c.pollInterval = d } }

// WithSyncDuration sets how long a sync operation stays Running (default 1s).
func WithSyncDuration(d time.Duration) Option { return func(c *config) { c.syncDuration = d } }

// WithRolloutDelay sets how long health stays Progressing after a sync
// that changed the manifests (default 2s).
func WithRolloutDelay(d time.Duration) Option { return func(c *config) { c.rolloutDelay = d } }

// WithKeepalive sets the interval of the stream's ":" keepalive (default 15s).
func WithKeepalive(d time.Duration) Option { return func(c *config) { c.keepalive = d } }

// WithStreamDrop closes every watch stream d after it opened, as a proxy
// that cuts long requests does.
func WithStreamDrop(d time.Duration) Option { return func(c *config) { c.streamDrop = d } }

// WithoutStream answers 404 on the watch stream (a proxy that does not
// route it).
func WithoutStream() Option { return func(c *config) { c.noStream = true } }

// WithBufferedStream never flushes the watch stream, as a buffering proxy.
func WithBufferedStream() Option { return func(c *config) { c.bufferStream = true } }

// WithUser adds a local account for POST /api/v1/session.
func WithUser(name, password string) Option {
	return func(c *config) { c.users[name] = password }
}

// WithToken accepts token as an API token (until ExpireTokens).
func WithToken(token string) Option { return func(c *config) { c.tokens = append(c.tokens, token) } }

// WithLogf receives one line per state change.
func WithLogf(logf func(format string, args ...any)) Option { return func(c *config) { c.logf = logf } }

// Server is a running simulator.
type Server struct {
	cfg      config
	ln       net.Listener
	hs       *http.Server
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	renderMu sync.Mutex
	renders  map[string]*manifest

	mu       sync.Mutex
	apps     map[appKey]*appState
	tokens   map[string]bool
	expired  map[string]bool // tokens ExpireTokens made invalid
	downTill time.Time
	cut      chan struct{} // closed to cut every open stream
	timers   []*time.Timer
}

type appKey struct{ ns, name string }

// Start renders every application at the head of its branch (shown Synced
// and Healthy there, as a settled cluster) and serves the API.
func Start(apps []App, opts ...Option) (*Server, error) {
	cfg := config{
		addr: "127.0.0.1:0", controllerNS: "argocd", pollInterval: 180 * time.Second,
		syncDuration: time.Second, rolloutDelay: 2 * time.Second, keepalive: 15 * time.Second,
		users: map[string]string{}, clock: time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logf == nil {
		cfg.logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, ctx: ctx, cancel: cancel, renders: map[string]*manifest{},
		apps: map[appKey]*appState{}, tokens: map[string]bool{}, expired: map[string]bool{}, cut: make(chan struct{}),
	}
	for _, t := range cfg.tokens {
		s.tokens[t] = true
	}
	for _, a := range apps {
		st, err := s.newApp(ctx, a)
		if err != nil {
			cancel()
			return nil, err
		}
		s.apps[appKey{st.cfg.Namespace, st.cfg.Name}] = st
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("listening on %s: %w", cfg.addr, err)
	}
	s.ln = ln
	s.hs = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.logf("argocdsim: serving: %v", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.pollLoop()
	}()
	return s, nil
}

// URL is the base URL of the API, http://127.0.0.1:port.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops the server, its poller and its timers.
func (s *Server) Close() {
	s.cancel()
	s.mu.Lock()
	for _, t := range s.timers {
		t.Stop()
	}
	close(s.cut)
	s.cut = make(chan struct{})
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.hs.Shutdown(ctx)
	s.wg.Wait()
}

// Fail503 answers every request with 503 for d, and cuts open streams, as
// an Argo CD server that restarts behind its load balancer.
func (s *Server) Fail503(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downTill = s.cfg.clock().Add(d)
	close(s.cut)
	s.cut = make(chan struct{})
}

// ExpireTokens makes every token issued or configured so far invalid;
// logging in again gives a valid one.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.expired[t] = true
	}
	clear(s.tokens)
}

// SetRepoURL changes the repository URL every application names in its
// spec (what clients read), as when Argo CD reaches the repository through
// the same proxy or mirror as CI. Where the simulator reads git from is
// unchanged.
func (s *Server) SetRepoURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		a.cfg.RepoURL = url
	}
}

// SetFailure scripts a failure for the next syncs of the application
// name (in any namespace); NoFailure clears it. message "" takes a
// realistic default.
func (s *Server) SetFailure(name string, f Failure, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range s.apps {
		if k.name == name {
			a.failure, a.failMsg = f, message
		}
	}
}

// PollNow reconciles every application now, as the periodic poll does.
func (s *Server) PollNow(ctx context.Context) {
	s.mu.Lock()
	apps := make([]*appState, 0, len(s.apps))
	for _, a := range s.apps {
		apps = append(apps, a)
	}
	s.mu.Unlock()
	for _, a := range apps {
		s.reconcile(ctx, a, false)
	}
}

// DeployedAt returns when the application name first showed Synced and
// Healthy at rev with no operation in flight.
func (s *Server) DeployedAt(name, rev string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range s.apps {
		if k.name == name {
			t, ok := a.deployedAt[rev]
			return t, ok
		}
	}
	return time.Time{}, false
}

func (s *Server) pollLoop() {
	t := time.NewTicker(s.cfg.pollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.PollNow(s.ctx)
		}
	}
}

// after runs f after d unless the server closed. Called with s.mu held.
func (s *Server) after(d time.Duration, f func()) {
	if s.ctx.Err() != nil {
		return
	}
	s.timers = append(s.timers, time.AfterFunc(d, func() {
		if s.ctx.Err() == nil {
			f()
		}
	}))
}

func (s *Server) now() time.Time { return s.cfg.clock().UTC().Truncate(time.Second) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// renderCached renders rev's overlay once per (repository, commit, path).
func (s *Server) renderCached(ctx context.Context, gitDir, rev, dir string, hard bool) (*manifest, error) {
	key := gitDir + "\x00" + rev + "\x00" + dir
	s.renderMu.Lock()
	m, ok := s.renders[key]
	s.renderMu.Unlock()
	if ok && !hard {
		return m, nil
	}
	m, err := render(ctx, gitDir, rev, dir)
	if err != nil {
		return nil, err
	}
	s.renderMu.Lock()
	s.renders[key] = m
	s.renderMu.Unlock()
	return m, nil
}
