package flux

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

// cluster is a fake Kubernetes API holding one Kustomization and its
// GitRepository, read back from the recorded fixtures.
type cluster struct {
	t   *testing.T
	dyn *dynamicfake.FakeDynamicClient

	mu    sync.Mutex
	lines []string
	seen  chan string // every progress line
}

func newCluster(t *testing.T, ks *Kustomization, git *GitRepository) *cluster {
	t.Helper()
	scheme := runtime.NewScheme()
	lists := map[schema.GroupVersionResource]string{KustomizationResource: "KustomizationList", GitRepositoryResource: "GitRepositoryList"}
	var objs []runtime.Object
	if ks != nil {
		objs = append(objs, toU(t, ks, "kustomize.toolkit.fluxcd.io/v1", "Kustomization"))
	}
	if git != nil {
		objs = append(objs, toU(t, git, "source.toolkit.fluxcd.io/v1", "GitRepository"))
	}
	return &cluster{t: t, dyn: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, lists, objs...), seen: make(chan string, 1000)}
}

func toU(t *testing.T, v any, apiVersion, kind string) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(v)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	return u
}

func (c *cluster) client() *Client {
	cl, err := New(WithDynamic(c.dyn), WithLogf(func(f string, a ...any) {
		line := fmt.Sprintf(f, a...)
		c.mu.Lock()
		c.lines = append(c.lines, line)
		c.mu.Unlock()
		select {
		case c.seen <- line:
		default:
		}
	}))
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

func (c *cluster) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// ks and git read the objects as they are now.
func (c *cluster) ks() *Kustomization {
	u, err := c.dyn.Resource(KustomizationResource).Namespace("flux-system").Get(context.Background(), "demo", metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	ks, err := decode[Kustomization](u)
	if err != nil {
		c.t.Fatal(err)
	}
	return ks
}

func (c *cluster) git() *GitRepository {
	u, err := c.dyn.Resource(GitRepositoryResource).Namespace("flux-system").Get(context.Background(), "config", metav1.GetOptions{})
	if err != nil {
		c.t.Fatal(err)
	}
	g, err := decode[GitRepository](u)
	if err != nil {
		c.t.Fatal(err)
	}
	return g
}

// putKS and putGit write the objects as Flux's controllers would.
func (c *cluster) putKS(ks *Kustomization) {
	if _, err := c.dyn.Resource(KustomizationResource).Namespace("flux-system").Update(context.Background(), toU(c.t, ks, "kustomize.toolkit.fluxcd.io/v1", "Kustomization"), metav1.UpdateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) putGit(g *GitRepository) {
	if _, err := c.dyn.Resource(GitRepositoryResource).Namespace("flux-system").Update(context.Background(), toU(c.t, g, "source.toolkit.fluxcd.io/v1", "GitRepository"), metav1.UpdateOptions{}); err != nil {
		c.t.Fatal(err)
	}
}

// waitLine blocks until a progress line containing s was logged.
func (c *cluster) waitLine(s string) {
	c.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if strings.Contains(c.log(), s) {
			return
		}
		select {
		case <-c.seen:
		case <-deadline:
			c.t.Fatalf("no progress line says %q; log:\n%s", s, c.log())
		}
	}
}

// until polls cond (the fake has no controller to wait for).
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func fast(spec WaitSpec) WaitSpec {
	spec.PollInterval, spec.ResyncInterval, spec.StatusInterval = 20*time.Millisecond, 50*time.Millisecond, time.Hour
	spec.ReconnectMin, spec.ReconnectMax = 5*time.Millisecond, 20*time.Millisecond
	return spec
}

type result struct {
	st  []Status
	err error
}

func start(ctx context.Context, c *Client, spec WaitSpec) <-chan result {
	done := make(chan result, 1)
	go func() {
		st, err := c.Wait(ctx, spec)
		done <- result{st, err}
	}()
	return done
}

func ready(ks *Kustomization, status, reason, msg string) {
	c := ks.Condition("Ready")
	c.Status, c.Reason, c.Message = status, reason, msg
}

// TestWaitReconcileAndRace plays the recorded sequence of a push: the
// source fetches our commit after our request, the Kustomization applies
// it on the source change (Ready=True at ours, our request not handled
// yet), then handles our request. The wait passes only at the last step,
// and never while Ready=True names the old revision.
func TestWaitReconcileAndRace(t *testing.T) {
	c := newCluster(t, loadKS(t, "run1-ks-ready-rev1.json"), loadGit(t, "run1-git-ready-rev1.json"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := start(ctx, c.client(), fast(WaitSpec{Refs: []Ref{{"flux-system", "demo"}}, Revision: v110, Reconcile: true}))

	// Ready=True at the old revision: the wait must not pass.
	c.waitLine("applied main@sha1:5594076")
	var token string
	until(t, "the reconcile request on the GitRepository", func() bool {
		token = c.git().Metadata.Annotations[RequestedAtAnnotation]
		return token != ""
	})
	if _, err := time.Parse(time.RFC3339Nano, token); err != nil {
		t.Errorf("requestedAt %q is not the RFC 3339 time flux reconcile writes: %v", token, err)
	}
	if got := c.ks().Metadata.Annotations[RequestedAtAnnotation]; got != "" {
		t.Fatalf("the Kustomization was asked (%q) before its source handled the request", got)
	}

	// The source fetches our commit and handles the request.
	g := c.git()
	g.Status.Artifact.Revision = "main@sha1:" + v110
	g.Status.LastHandledReconcileAt = token
	c.putGit(g)
	until(t, "the reconcile request on the Kustomization", func() bool {
		return c.ks().Metadata.Annotations[RequestedAtAnnotation] == token
	})

	// Applied on the source change: Ready=True at ours, request not handled.
	ks := c.ks()
	ks.Status.LastAppliedRevision, ks.Status.LastAttemptedRevision = "main@sha1:"+v110, "main@sha1:"+v110
	ready(ks, "True", "ReconciliationSucceeded", "Applied revision: main@sha1:"+v110)
	c.putKS(ks)
	c.waitLine("our reconcile request not handled yet")
	select {
	case r := <-done:
		t.Fatalf("the wait ended before the Kustomization handled our request: %+v %v", r.st, r.err)
	default:
	}

	ks = c.ks()
	ks.Status.LastHandledReconcileAt = token
	c.putKS(ks)
	r := <-done
	if r.err != nil {
		t.Fatalf("Wait: %v\nlog:\n%s", r.err, c.log())
	}
	if got := r.st[0]; got.State != Deployed || got.Applied != "main@sha1:"+v110 || got.Ready != "True" {
		t.Errorf("status = %+v, want deployed at main@sha1:%s", got, v110)
	}
	if !strings.Contains(c.log(), "flux: flux-system/demo: deployed (Ready at main@sha1:3975911)") {
		t.Errorf("log does not say deployed:\n%s", c.log())
	}
}

// TestWaitPollsWhenWatchRefused: a forbidden watch falls back to polling.
func TestWaitPollsWhenWatchRefused(t *testing.T) {
	c := newCluster(t, loadKS(t, "run1-ks-ready-rev1.json"), loadGit(t, "run1-git-ready-rev1.json"))
	var watches int
	var mu sync.Mutex
	c.dyn.PrependWatchReactor("*", func(k8stesting.Action) (bool, watch.Interface, error) {
		mu.Lock()
		watches++
		mu.Unlock()
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "kustomizations"}, "demo", errors.New("watch not allowed"))
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := start(ctx, c.client(), fast(WaitSpec{Refs: []Ref{{"flux-system", "demo"}}, Revision: v110}))
	c.waitLine("applied main@sha1:5594076")
	ks := c.ks()
	ks.Status.LastAppliedRevision = "main@sha1:" + v110
	c.putKS(ks)
	r := <-done
	if r.err != nil || r.st[0].State != Deployed {
		t.Fatalf("Wait = %+v, %v; want deployed by polling", r.st, r.err)
	}
	mu.Lock()
	defer mu.Unlock()
	if watches != 2 {
		t.Errorf("watches tried = %d, want 2 (one per object, then polling only)", watches)
	}
}

func TestWaitFailsAtOnce(t *testing.T) {
	tests := []struct {
		name    string
		ks      *Kustomization // nil: missing
		git     *GitRepository // nil: missing
		edit    func(*Kustomization)
		ours    string
		want    []string
		hint    string
		kind    any
		reconc  bool
		patchNo bool // patches are forbidden
	}{
		{
			name: "health check failed names the Deployment", ks: loadKS(t, "run1-ks-broken.json"), git: loadGit(t, "run1-git-ready-rev1.json"), ours: broken,
			want: []string{"Flux Kustomization flux-system/demo failed: Ready=False (HealthCheckFailed) at main@sha1:e8ede23", "Deployment/demo/demo status: 'Failed'"},
			hint: "fix the manifests", kind: new(*DeployError),
		},
		{
			name: "suspended", ks: loadKS(t, "run1-ks-ready-rev1.json"), git: loadGit(t, "run1-git-ready-rev1.json"), ours: v110,
			edit: func(k *Kustomization) { k.Spec.Suspend = true },
			want: []string{"Kustomization flux-system/demo is suspended (spec.suspend: true)"}, hint: "resume it", kind: new(*DeployError),
		},
		{
			name: "missing Kustomization", git: loadGit(t, "run1-git-ready-rev1.json"), ours: v110,
			want: []string{"Flux Kustomization flux-system/demo does not exist"}, hint: "check the name and namespace in flux-kustomizations", kind: new(*NotFoundError),
		},
		{
			name: "missing source", ks: loadKS(t, "run1-ks-ready-rev1.json"), ours: v110,
			want: []string{"its source GitRepository flux-system/config does not exist"}, kind: new(*DeployError),
		},
		{
			name: "not a git source", ks: loadKS(t, "run1-ks-ready-rev1.json"), git: loadGit(t, "run1-git-ready-rev1.json"), ours: v110,
			edit: func(k *Kustomization) { k.Spec.SourceRef.Kind = "OCIRepository" },
			want: []string{"applies a OCIRepository source (config): only GitRepository sources"}, hint: "status-contexts", kind: new(*hintError),
		},
		{
			name: "reconcile request refused", ks: loadKS(t, "run1-ks-ready-rev1.json"), git: loadGit(t, "run1-git-ready-rev1.json"), ours: v110,
			reconc: true, patchNo: true,
			want: []string{"requesting a reconcile of GitRepository flux-system/config: the identity may not patch it"}, hint: "flux-reconcile: false", kind: new(*hintError),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.edit != nil {
				tt.edit(tt.ks)
			}
			c := newCluster(t, tt.ks, tt.git)
			if tt.patchNo {
				c.dyn.PrependReactor("patch", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "gitrepositories"}, "config", errors.New("no patch"))
				})
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := c.client().Wait(ctx, fast(WaitSpec{Refs: []Ref{{"flux-system", "demo"}}, Revision: tt.ours, Reconcile: tt.reconc}))
			if err == nil {
				t.Fatal("Wait succeeded")
			}
			if ctx.Err() != nil {
				t.Fatalf("Wait did not fail at once: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var h interface{ Hint() string }
			if tt.hint != "" && (!errors.As(err, &h) || !strings.Contains(h.Hint(), tt.hint)) {
				t.Errorf("hint of %v does not say %q", err, tt.hint)
			}
			if !errors.As(err, tt.kind) {
				t.Errorf("error is %T, want %T", err, tt.kind)
			}
		})
	}
}

// TestWaitDeadline: the deadline ends the wait with the last status.
func TestWaitDeadline(t *testing.T) {
	c := newCluster(t, loadKS(t, "run1-ks-ready-rev1.json"), loadGit(t, "run1-git-ready-rev1.json"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.client().Wait(ctx, fast(WaitSpec{Refs: []Ref{{"flux-system", "demo"}}, Revision: v110}))
	var de *DeployError
	if !errors.As(err, &de) || !de.TimedOut {
		t.Fatalf("Wait error = %v, want a timed-out DeployError", err)
	}
	for _, w := range []string{"timed out waiting for Flux Kustomization flux-system/demo", "Ready=True (ReconciliationSucceeded)", "applied main@sha1:5594076"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error does not wrap the deadline")
	}
}

// TestWaitDescendantAndSuperseded: git ancestry and our values decide.
func TestWaitDescendantAndSuperseded(t *testing.T) {
	for _, keeps := range []bool{true, false} {
		t.Run(fmt.Sprintf("keeps=%v", keeps), func(t *testing.T) {
			c := newCluster(t, loadKS(t, "run1-ks-ready-v1.3.0.json"), loadGit(t, "run1-git-ready-rev1.json"))
			var asked []string
			spec := fast(WaitSpec{Refs: []Ref{{"flux-system", "demo"}}, Revision: v110,
				Contains: func(_ context.Context, rev, ours string) (bool, error) {
					asked = append(asked, rev[:7])
					return rev == v130 && ours == v110, nil
				},
				Keeps: func(_ context.Context, rev string) (bool, error) { return keeps, nil },
			})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := c.client().Wait(ctx, spec)
			if keeps {
				if err != nil || st[0].State != Deployed {
					t.Fatalf("Wait = %+v, %v; want deployed at the descendant", st, err)
				}
				return
			}
			var se *SupersededError
			if !errors.As(err, &se) || st[0].State != Superseded || !strings.Contains(err.Error(), "main@sha1:8c7aeab, a later commit that replaced our image values") {
				t.Fatalf("Wait = %+v, %v; want superseded", st, err)
			}
		})
	}
}

func TestNewKubeconfig(t *testing.T) {
	const content = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\nusers:\n- name: u\n  user:\n    token: s3cr3t-token\ncontexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\ncurrent-context: ctx\n"
	env := func(string) string { return "" }
	if c, err := New(WithKubeconfig(content), WithGetenv(env)); err != nil || !strings.Contains(c.Where, "https://127.0.0.1:6443") {
		t.Fatalf("New(content) = %v, %v", c, err)
	}
	for _, tt := range []struct {
		name string
		opts []Option
		want string
	}{
		{"unknown context", []Option{WithKubeconfig(content), WithContext("nope")}, `kubeconfig: context "nope" does not exist`},
		{"JSON content on one line is content, never quoted", []Option{WithKubeconfig(`{"apiVersion":"v1","kind":"Config","users":[{"name":"u","user":{"token":"s3cr3t-token"}}],"current-context":"nope"}`)}, `kubeconfig: invalid configuration: [context was not found for specified context: nope`},
		{"content that is no kubeconfig", []Option{WithKubeconfig("token: s3cr3t-token\n: : :\n")}, "kubeconfig: the content is not a kubeconfig"},
		{"missing path", []Option{WithKubeconfig("/nonexistent/kubeconfig")}, `kubeconfig: got "/nonexistent/kubeconfig", want the path of a kubeconfig file or its content`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(append(tt.opts, WithGetenv(env))...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error shows the credential: %v", err)
			}
			var b interface{ BadInput() bool }
			if !errors.As(err, &b) || !b.BadInput() {
				t.Errorf("error is not bad input: %v", err)
			}
		})
	}
}

// TestWaitReconnectsWhenTheWatchEnds: a watch the server closes is opened
// again, and its events decide (polling is off in this test).
func TestWaitReconnectsWhenTheWatchEnds(t *testing.T) {
	c := newCluster(t, loadKS(t, "run1-ks-ready-rev1.json"), loadGit(t, "run1-git-ready-rev1.json"))
	var mu sync.Mutex
	ksWatches := 0
	c.dyn.PrependWatchReactor("kustomizations", func(k8stesting.Action) (bool, watch.Interface, error) {
		mu.Lock()
		defer mu.Unlock()
		ksWatches++
		if ksWatches == 1 {
			fw := watch.NewFake()
			fw.Stop() // the server ends the first watch at once
			return true, fw, nil
		}
		return false, nil, nil
	})
	watches := func() int {
		mu.Lock()
		defer mu.Unlock()
		return ksWatches
	}
	spec := fast(WaitSpec{Refs: []Ref{{"flux-system", "demo"}}, Revision: v110})
	spec.PollInterval, spec.ResyncInterval = time.Hour, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := start(ctx, c.client(), spec)
	until(t, "a second watch of the Kustomization", func() bool { return watches() >= 2 })
	ks := c.ks()
	ks.Status.LastAppliedRevision = "main@sha1:" + v110
	for {
		c.putKS(ks) // again until the new watch, registered right after its count, sees one
		select {
		case r := <-done:
			if r.err != nil || r.st[0].State != Deployed {
				t.Fatalf("Wait = %+v, %v; want deployed through the reopened watch", r.st, r.err)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}
