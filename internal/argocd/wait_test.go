package argocd_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/argocd"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/argocdsim"
)

const (
	token   = "ci-token"
	repoURL = "https://git.example/acme/config.git"
	kustom  = "apps/web/overlays/prod/kustomization.yaml"
)

func configFiles(tag string) map[string]string {
	return map[string]string{
		"apps/web/base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"apps/web/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:latest
`,
		kustom: overlay(tag),
	}
}

func overlay(tag string) string {
	return "namespace: prod\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/web\n    newTag: \"" + tag + "\"\n"
}

// world is a bare config repository and an Argo CD simulator over it.
type world struct {
	sim   *argocdsim.Server
	repo  *argocdsim.Repo
	first string // the commit the apps start Synced and Healthy at
	logs  *logSink
}

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logSink) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

type simApp struct {
	name, ns string
	auto     bool
}

func newWorld(t *testing.T, apps []simApp, opts ...argocdsim.Option) *world {
	t.Helper()
	ctx := context.Background()
	repo, first, err := argocdsim.NewRepo(ctx, t.TempDir(), "main", configFiles("1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	if apps == nil {
		apps = []simApp{{name: "web-prod", auto: true}}
	}
	var cfg []argocdsim.App
	for _, a := range apps {
		cfg = append(cfg, argocdsim.App{Name: a.name, Namespace: a.ns, RepoURL: repoURL, Path: "apps/web/overlays/prod",
			TargetRevision: "main", BareRepoDir: repo.Bare, AutoSync: a.auto})
	}
	base := []argocdsim.Option{
		argocdsim.WithToken(token), argocdsim.WithUser("admin", "s3cret"),
		argocdsim.WithSyncDuration(150 * time.Millisecond), argocdsim.WithRolloutDelay(300 * time.Millisecond),
		argocdsim.WithKeepalive(100 * time.Millisecond),
	}
	sim, err := argocdsim.Start(cfg, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return &world{sim: sim, repo: repo, first: first, logs: &logSink{}}
}

func (w *world) push(t *testing.T, tag string) string {
	t.Helper()
	sha, err := w.repo.Commit(context.Background(), "main", "", map[string]string{kustom: overlay(tag)}, "set web to "+tag)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func (w *world) client(t *testing.T, opts ...argocd.Option) *argocd.Client {
	t.Helper()
	if len(opts) == 0 {
		opts = []argocd.Option{argocd.WithToken(token)}
	}
	c, err := argocd.New(w.sim.URL(), append(opts, argocd.WithLogf(w.logs.logf))...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spec is a WaitSpec with intervals short enough for tests.
func (w *world) spec(rev string, apps ...string) argocd.WaitSpec {
	if len(apps) == 0 {
		apps = []string{"web-prod"}
	}
	var refs []argocd.AppRef
	for _, a := range apps {
		r, _ := argocd.ParseAppRef(a)
		refs = append(refs, r)
	}
	return argocd.WaitSpec{
		Apps: refs, Revision: rev, RepoURL: repoURL,
		Contains:       w.repo.IsAncestor,
		StatusInterval: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond, ResyncInterval: time.Second,
		FirstEventTimeout: 500 * time.Millisecond, IdleTimeout: time.Second,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond,
	}
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

type outcome struct {
	State    argocd.State
	Sync     string
	Health   string
	Revision string
	Images   []string
}

func summarize(sts []argocd.AppStatus) []outcome {
	var out []outcome
	for _, s := range sts {
		out = append(out, outcome{s.State, s.Sync, s.Health, s.Revision, s.Images})
	}
	return out
}

// TestConfirms covers the paths that must end "deployed", each checked
// against the simulator: the revision Wait reports was really reached.
func TestConfirms(t *testing.T) {
	tests := []struct {
		name    string
		apps    []simApp
		simOpts []argocdsim.Option
		spec    func(w *world, ours string) argocd.WaitSpec
		during  func(w *world)
		before  func(w *world)
		later   bool   // another pipeline pushes a descendant before we wait
		wantLog string // a line that shows the path taken
	}{
		{name: "stale Synced+Healthy at the previous commit, then ours after the refresh"},
		{name: "no refresh: waits for the simulator's poll", simOpts: []argocdsim.Option{argocdsim.WithPollInterval(700 * time.Millisecond)},
			spec: func(w *world, ours string) argocd.WaitSpec { s := w.spec(ours); s.Refresh = "none"; return s }},
		{name: "hard refresh", spec: func(w *world, ours string) argocd.WaitSpec { s := w.spec(ours); s.Refresh = "hard"; return s }},
		{name: "a later commit that contains ours", later: true},
		{name: "stream cut every 300ms and 503 for a second",
			simOpts: []argocdsim.Option{argocdsim.WithStreamDrop(300 * time.Millisecond), argocdsim.WithRolloutDelay(2 * time.Second)},
			during:  func(w *world) { time.Sleep(200 * time.Millisecond); w.sim.Fail503(time.Second) },
			wantLog: "watch stream ended"},
		{name: "stream cut every 3s and 503 for 20 s, as the issue states it",
			simOpts: []argocdsim.Option{argocdsim.WithStreamDrop(3 * time.Second)},
			during:  func(w *world) { time.Sleep(100 * time.Millisecond); w.sim.Fail503(20 * time.Second) }},
		{name: "503 when the wait starts: the refresh is asked again once Argo CD answers",
			before: func(w *world) { w.sim.Fail503(time.Second) }, wantLog: "asking again with the next read"},
		{name: "no stream (404): polling", simOpts: []argocdsim.Option{argocdsim.WithoutStream()}, wantLog: "the watch stream is not available (404)"},
		{name: "a buffering proxy: polling", simOpts: []argocdsim.Option{argocdsim.WithBufferedStream(), argocdsim.WithRolloutDelay(2 * time.Second)},
			wantLog: "delivers nothing (a buffering proxy?)"},
		{name: "manual sync requested for an app without auto-sync", apps: []simApp{{name: "web-prod"}},
			spec: func(w *world, ours string) argocd.WaitSpec { s := w.spec(ours); s.Sync = true; return s }},
		{name: "several apps in parallel, one in its own namespace",
			apps: []simApp{{name: "web-prod", auto: true}, {name: "web-team", ns: "team-a", auto: true}},
			spec: func(w *world, ours string) argocd.WaitSpec { return w.spec(ours, "web-prod", "team-a/web-team") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tc.apps, tc.simOpts...)
			ours := w.push(t, "1.1.0")
			want := ours
			if tc.later {
				want = w.push(t, "1.2.0")
			}
			spec := w.spec(ours)
			if tc.spec != nil {
				spec = tc.spec(w, ours)
			}
			if tc.before != nil {
				tc.before(w)
			}
			if tc.during != nil {
				go tc.during(w)
			}
			sts, err := w.client(t).Wait(withTimeout(t, 40*time.Second), spec)
			if err != nil {
				t.Fatalf("Wait: %v\nlog:\n%s", err, w.logs.all())
			}
			var wantOut []outcome
			for range spec.Apps {
				wantOut = append(wantOut, outcome{argocd.Deployed, "Synced", "Healthy", want, []string{"ghcr.io/acme/web:" + map[bool]string{false: "1.1.0", true: "1.2.0"}[tc.later]}})
			}
			if diff := cmp.Diff(wantOut, summarize(sts)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if !strings.Contains(w.logs.all(), tc.wantLog) {
				t.Errorf("log does not contain %q:\n%s", tc.wantLog, w.logs.all())
			}
			for _, ref := range spec.Apps {
				if _, ok := w.sim.DeployedAt(ref.Name, want); !ok {
					t.Errorf("Wait returned but the simulator never had %s Synced+Healthy at %s", ref, want)
				}
			}
		})
	}
}

func TestSyncWhileAnotherOperationRuns(t *testing.T) {
	t.Parallel()
	w := newWorld(t, []simApp{{name: "web-prod"}}, argocdsim.WithSyncDuration(time.Second))
	ours := w.push(t, "1.1.0")
	// Someone else syncs the branch head (ours) first.
	req, _ := http.NewRequest(http.MethodPost, w.sim.URL()+"/api/v1/applications/web-prod/sync", strings.NewReader(`{"revision":"main"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sync by someone else = %d", resp.StatusCode)
	}
	spec := w.spec(ours)
	spec.Sync = true
	w.logs = &logSink{} // only the second client's lines
	sts, err := w.client(t).Wait(withTimeout(t, 30*time.Second), spec)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if sts[0].State != argocd.Deployed || sts[0].Revision != ours {
		t.Errorf("status = %+v, want deployed at %s", sts[0], ours)
	}
	if logs := w.logs.all(); strings.Contains(logs, "sync of "+ours[:7]+" requested") {
		t.Errorf("a second sync was requested although one was running for our revision:\n%s", logs)
	}
}

// TestDoesNotConfirm covers the paths that must end in an error, and what
// the error tells a person.
func TestDoesNotConfirm(t *testing.T) {
	tests := []struct {
		name     string
		failure  argocdsim.Failure
		apps     []simApp // nil: web-prod with auto-sync
		timeout  time.Duration
		setup    func(t *testing.T, w *world) (ours string, c *argocd.Client, spec argocd.WaitSpec)
		timedOut bool
		wantIn   []string
		check    func(t *testing.T, err error)
	}{
		{name: "degraded after our sync fails before the timeout", failure: argocdsim.Degraded, timeout: 40 * time.Second,
			wantIn: []string{"web-prod failed", "Degraded after", "not ready: Deployment prod/web: Degraded (Deployment \"web\" exceeded its progress deadline)"}},
		{name: "sync of ours failed", failure: argocdsim.SyncFailed, timeout: 40 * time.Second,
			wantIn: []string{"web-prod failed", "ended Failed", "one or more objects failed to apply", "Deployment prod/web: OutOfSync, sync SyncFailed"}},
		{name: "a commit that is not a descendant of ours is not deployed", timeout: 4 * time.Second, timedOut: true,
			setup: func(t *testing.T, w *world) (string, *argocd.Client, argocd.WaitSpec) {
				side, err := w.repo.Commit(context.Background(), "side", w.first, map[string]string{kustom: overlay("9.9.9")}, "side branch")
				if err != nil {
					t.Fatal(err)
				}
				w.push(t, "1.1.0") // main moves on without side
				return side, w.client(t), w.spec(side)
			},
			wantIn: []string{"timed out waiting for Argo CD application web-prod", "which does not contain", "last status: web-prod: sync Synced, health Healthy"}},
		{name: "a later commit that replaced our image supersedes ours", timeout: 20 * time.Second,
			setup: func(t *testing.T, w *world) (string, *argocd.Client, argocd.WaitSpec) {
				ours := w.push(t, "1.1.0")
				later := w.push(t, "1.2.0") // another pipeline, on top of ours, before Argo CD looked
				spec := w.spec(ours)
				spec.Keeps = func(_ context.Context, rev string) (bool, error) { return rev != later, nil }
				return ours, w.client(t), spec
			},
			wantIn: []string{"Argo CD application web-prod is at", "a later commit that replaced our image values", "is superseded"},
			check: func(t *testing.T, err error) {
				var se *argocd.SupersededError
				if !errors.As(err, &se) || !se.Superseded() {
					t.Errorf("error %T is not a *SupersededError", err)
				}
			}},
		{name: "comparison error until the timeout shows the condition", failure: argocdsim.ComparisonError, timeout: 5 * time.Second, timedOut: true,
			wantIn: []string{"timed out", "conditions: ComparisonError: Failed to load target state", "sync Unknown"}},
		{name: "missing app explains Argo CD's 403", timeout: 10 * time.Second,
			setup: func(t *testing.T, w *world) (string, *argocd.Client, argocd.WaitSpec) {
				ours := w.push(t, "1.1.0")
				return ours, w.client(t), w.spec(ours, "team-x/nope")
			},
			wantIn: []string{`application "nope" in namespace "team-x"`, "answers 403 permission denied for missing and forbidden applications alike"},
			check: func(t *testing.T, err error) {
				var nf *argocd.AppNotFoundError
				if !errors.As(err, &nf) || nf.Hint() == "" {
					t.Errorf("error %T is not an *AppNotFoundError with a hint", err)
				}
			}},
		{name: "expired token", timeout: 10 * time.Second,
			setup: func(t *testing.T, w *world) (string, *argocd.Client, argocd.WaitSpec) {
				ours := w.push(t, "1.1.0")
				w.sim.ExpireTokens()
				return ours, w.client(t), w.spec(ours)
			},
			wantIn: []string{"Argo CD refused the token (expired or invalid): invalid session: token has invalid claims: token is expired"},
			check: func(t *testing.T, err error) {
				var ae *argocd.AuthError
				if !errors.As(err, &ae) || !strings.Contains(ae.Hint(), "argocd-token") {
					t.Errorf("error %T is not an *AuthError naming argocd-token", err)
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("the error shows the token: %v", err)
				}
			}},
		{name: "auto-sync off and no sync asked: said at once, not at the timeout", apps: []simApp{{name: "web-prod"}}, timeout: 30 * time.Second,
			setup: func(t *testing.T, w *world) (string, *argocd.Client, argocd.WaitSpec) {
				ours := w.push(t, "1.1.0")
				return ours, w.client(t), w.spec(ours)
			},
			wantIn: []string{"web-prod has auto-sync off", "nothing will sync it"},
			check: func(t *testing.T, err error) {
				var h interface{ Hint() string }
				if !errors.As(err, &h) || !strings.Contains(h.Hint(), "argocd-sync") {
					t.Errorf("error %v has no hint naming argocd-sync", err)
				}
			}},
		{name: "wrong password", timeout: 10 * time.Second,
			setup: func(t *testing.T, w *world) (string, *argocd.Client, argocd.WaitSpec) {
				ours := w.push(t, "1.1.0")
				return ours, w.client(t, argocd.WithLogin("admin", "wrong-horse")), w.spec(ours)
			},
			wantIn: []string{`Argo CD refused the login of user "admin": Invalid username or password`},
			check: func(t *testing.T, err error) {
				if strings.Contains(err.Error(), "wrong-horse") {
					t.Errorf("the error shows the password: %v", err)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tc.apps)
			var (
				ours string
				c    *argocd.Client
				spec argocd.WaitSpec
			)
			if tc.setup != nil {
				_, c, spec = tc.setup(t, w)
			} else {
				w.sim.SetFailure("web-prod", tc.failure, "")
				ours = w.push(t, "1.1.0")
				c, spec = w.client(t), w.spec(ours)
			}
			sts, err := c.Wait(withTimeout(t, tc.timeout), spec)
			if err == nil {
				t.Fatalf("Wait confirmed %+v, want an error", sts)
			}
			for _, s := range sts {
				if s.State == argocd.Deployed {
					t.Errorf("status %+v says deployed", s)
				}
			}
			if got := errors.Is(err, context.DeadlineExceeded); got != tc.timedOut {
				t.Errorf("timed out = %v, want %v: %v", got, tc.timedOut, err)
			}
			for _, want := range tc.wantIn {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

func TestLoginAgainWhenTheSessionExpires(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil, argocdsim.WithRolloutDelay(time.Second))
	ours := w.push(t, "1.1.0")
	c := w.client(t, argocd.WithLogin("admin", "s3cret"))
	go func() {
		time.Sleep(300 * time.Millisecond)
		w.sim.ExpireTokens()
	}()
	sts, err := c.Wait(withTimeout(t, 30*time.Second), w.spec(ours))
	if err != nil {
		t.Fatalf("Wait: %v\n%s", err, w.logs.all())
	}
	if sts[0].State != argocd.Deployed {
		t.Errorf("state = %v, want deployed", sts[0].State)
	}
}

func TestStatusLines(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil, argocdsim.WithRolloutDelay(time.Second))
	ours := w.push(t, "1.1.0")
	if _, err := w.client(t).Wait(withTimeout(t, 30*time.Second), w.spec(ours)); err != nil {
		t.Fatal(err)
	}
	logs := w.logs.all()
	for _, want := range []string{
		"argocd: web-prod: asking Argo CD to look at Git now (refresh=normal)",
		"argocd: web-prod: sync ",
		", health ",
		"elapsed (",
		"argocd: web-prod: deployed (Synced and Healthy at " + ours[:7] + ")",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log does not contain %q:\n%s", want, logs)
		}
	}
}
