//go:build realworld

package fluxtier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gitops-promote/gitops-promote/internal/gitrepo"
	"github.com/gitops-promote/gitops-promote/test/realworld/fluxworld"
)

const (
	overlay = "apps/demo/overlays/staging"
	image   = "registry.example/demo"
)

var (
	w      *fluxworld.World
	binary string
)

func overlayFile(tag string) []byte {
	return []byte(fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\nimages:\n- name: %s\n  newTag: %s\n", image, tag))
}

func seed() fstest.MapFS {
	return fstest.MapFS{
		"apps/demo/base/kustomization.yaml": {Data: []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n")},
		"apps/demo/base/deployment.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  replicas: 2
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      containers:
      - name: demo
        image: ` + image + `:v1.0.0
`)},
		overlay + "/kustomization.yaml": {Data: overlayFile("v1.0.0")},
	}
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "fluxtier-")
	if err != nil {
		log.Print(err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binary = filepath.Join(tmp, "gitops-promote")
	if out, err := exec.Command("go", "build", "-o", binary, "github.com/gitops-promote/gitops-promote/cmd/gitops-promote").CombinedOutput(); err != nil {
		log.Printf("building gitops-promote: %v\n%s", err, out)
		return 1
	}
	// GitHub (the sandbox simulator) for the statuses notification-controller writes: it
	// serves the git server's repository, so the tool's commits are its commits.
	if gh, err = startGitHub(); err != nil {
		log.Print(err)
		return 1
	}
	defer gh.Close()
	var opts []fluxworld.Option
	opts = append(opts, fluxworld.WithSeed(seed()), fluxworld.WithLogf(log.Printf), fluxworld.WithNotifications(gh.URL(), ghToken))
	if os.Getenv("GITOPS_PROMOTE_REALWORLD_KEEP") != "" {
		opts = append(opts, fluxworld.WithKeepDir())
	}
	if w, err = fluxworld.Start(ctx, opts...); err != nil {
		log.Printf("starting the Flux world: %v", err)
		return 1
	}
	defer w.Close()
	if statusContext, err = addStatusAlert(ctx); err != nil {
		log.Print(err)
		return 1
	}
	if err := w.CreateSource(ctx, "10m"); err != nil {
		log.Print(err)
		return 1
	}
	if err := w.CreateKustomization(ctx, "demo", "./"+overlay); err != nil {
		log.Print(err)
		return 1
	}
	if err := waitApplied(ctx, "demo", w.SeedHead); err != nil {
		log.Printf("the first apply: %v\n%s", err, w.Logs(30))
		return 1
	}
	code := m.Run()
	if code != 0 {
		log.Printf("component logs:\n%s", w.Logs(40))
	}
	return code
}

// ks reads the status fields of a Kustomization the scenarios look at.
type ksState struct {
	Applied, Attempted, Handled, Requested, Ready, Reason string
	Suspend                                               bool
}

func readKS(ctx context.Context, name string) (ksState, error) {
	u, err := w.Kustomization(ctx, name)
	if err != nil {
		return ksState{}, err
	}
	return stateOf(u), nil
}

func stateOf(u *unstructured.Unstructured) ksState {
	var s ksState
	s.Applied, _, _ = unstructured.NestedString(u.Object, "status", "lastAppliedRevision")
	s.Attempted, _, _ = unstructured.NestedString(u.Object, "status", "lastAttemptedRevision")
	s.Handled, _, _ = unstructured.NestedString(u.Object, "status", "lastHandledReconcileAt")
	s.Requested = u.GetAnnotations()["reconcile.fluxcd.io/requestedAt"]
	s.Suspend, _, _ = unstructured.NestedBool(u.Object, "spec", "suspend")
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Ready" {
			s.Ready, _ = m["status"].(string)
			s.Reason, _ = m["reason"].(string)
		}
	}
	return s
}

// waitApplied waits until the Kustomization is Ready at rev (the world's own check).
func waitApplied(ctx context.Context, name, rev string) error {
	var last ksState
	for end := time.Now().Add(2 * time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		s, err := readKS(ctx, name)
		if err == nil && s.Ready == "True" && s.Applied == "main@sha1:"+rev {
			return nil
		}
		last = s
	}
	return fmt.Errorf("Kustomization %s not Ready at %s within 2 minutes; last %+v", name, rev, last)
}

// proc is a running gitops-promote.
type proc struct {
	cmd      *exec.Cmd
	stdout   bytes.Buffer
	stderr   lockedBuffer
	done     chan struct{}
	code     int
	exitedAt time.Time // when the tool's process ended
}

type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes []stampedWrite
}

// stampedWrite is when the buffer had grown to end bytes.
type stampedWrite struct {
	end int
	at  time.Time
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.b.Write(p)
	l.writes = append(l.writes, stampedWrite{end: l.b.Len(), at: time.Now()})
	return n, err
}

// at is when the first occurrence of s was written in full (zero if it never was).
func (l *lockedBuffer) at(s string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := strings.Index(l.b.String(), s)
	if i < 0 {
		return time.Time{}
	}
	for _, wr := range l.writes {
		if wr.end >= i+len(s) {
			return wr.at
		}
	}
	return time.Time{}
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startTool(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Dir = t.TempDir()
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting gitops-promote: %v", err)
	}
	go func() {
		err := p.cmd.Wait()
		p.exitedAt = time.Now()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		case err != nil:
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the tool to end (bounded: the tool's own timeout is shorter).
func (p *proc) wait(t *testing.T) (code int, stdout, stderr string) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(5 * time.Minute):
		t.Fatalf("gitops-promote still running after 5 minutes; stderr:\n%s", p.stderr.String())
	}
	return p.code, p.stdout.String(), p.stderr.String()
}

func runTool(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return startTool(t, args...).wait(t)
}

func runArgs(tag string, extra ...string) []string {
	return append([]string{"run", "--mode", "push", "--repository-url", w.RepoURL, "--overlays", overlay,
		"--images", image + ":" + tag, "--flux-kustomizations", "demo", "--kubeconfig", w.Kubeconfig, "--timeout", "3m", "--json"}, extra...)
}

func head(t *testing.T) string {
	t.Helper()
	h, err := w.Git.Head(w.Repo, fluxworld.Branch)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func deploymentImage(t *testing.T) string {
	t.Helper()
	d, err := w.Kube.AppsV1().Deployments("demo").Get(context.Background(), "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// Scenarios run in this order on the one world; each leaves the Kustomization Ready.

func TestFlux1DeployedAtThePushedCommit(t *testing.T) {
	code, stdout, stderr := runTool(t, runArgs("v1.1.0")...)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var out struct {
		Revision string `json:"revision"`
		Deployed bool   `json:"deployed"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if !out.Deployed || out.Revision != head(t) {
		t.Errorf("deployed=%v revision=%s, want deployed at the head %s", out.Deployed, out.Revision, head(t))
	}
	s, _ := readKS(context.Background(), "demo")
	if s.Applied != "main@sha1:"+out.Revision || s.Ready != "True" || s.Handled != s.Requested || s.Requested == "" {
		t.Errorf("Kustomization %+v: want Ready at %s with the tool's reconcile request handled", s, out.Revision)
	}
	if got := deploymentImage(t); got != image+":v1.1.0" {
		t.Errorf("Deployment image %s, want v1.1.0", got)
	}
}

func TestFlux2BrokenImageFailsFastNamingTheDeployment(t *testing.T) {
	code, _, stderr := runTool(t, runArgs("v1.2.0-broken")...)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"Flux Kustomization flux-system/demo failed: Ready=False (HealthCheckFailed) at main@sha1:" + head(t)[:7], "Deployment/demo/demo"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "timed out") {
		t.Errorf("it waited for the timeout instead of failing at HealthCheckFailed:\n%s", stderr)
	}
}

func TestFlux3SuspendedKustomization(t *testing.T) {
	ctx := context.Background()
	if err := w.Patch(ctx, fluxworld.KustomizationResource, "demo", map[string]any{"spec": map[string]any{"suspend": true}}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runTool(t, runArgs("v1.3.0")...)
	if err := w.Patch(ctx, fluxworld.KustomizationResource, "demo", map[string]any{"spec": map[string]any{"suspend": false}}); err != nil {
		t.Fatal(err)
	}
	if code != 1 || !strings.Contains(stderr, "Kustomization flux-system/demo is suspended (spec.suspend: true)") {
		t.Fatalf("exit %d, want 1 naming the suspension; stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "timed out") {
		t.Errorf("it waited for the timeout:\n%s", stderr)
	}
}

func TestFlux4MissingKustomization(t *testing.T) {
	code, _, stderr := runTool(t, "wait", "--revision", head(t), "--repository-url", w.RepoURL,
		"--flux-kustomizations", "nope", "--kubeconfig", w.Kubeconfig, "--timeout", "1m")
	if code != 1 || !strings.Contains(stderr, "Flux Kustomization flux-system/nope does not exist") {
		t.Fatalf("exit %d, want 1 naming the missing Kustomization; stderr:\n%s", code, stderr)
	}
}

func TestFlux5LaterCommitOnTopOfOurs(t *testing.T) {
	ours, err := w.Git.CommitFiles(w.Repo, fluxworld.Branch, map[string][]byte{overlay + "/kustomization.yaml": overlayFile("v1.4.0")}, "demo: v1.4.0")
	if err != nil {
		t.Fatal(err)
	}
	later, err := w.Git.CommitFiles(w.Repo, fluxworld.Branch, map[string][]byte{"README.md": []byte("later\n")}, "a later commit")
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runTool(t, "wait", "--revision", ours, "--repository-url", w.RepoURL,
		"--flux-kustomizations", "demo", "--kubeconfig", w.Kubeconfig, "--timeout", "3m")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, later[:12]) || !strings.Contains(stderr, "deployed "+ours[:12]) {
		t.Errorf("stderr does not show the later commit %s applied and ours deployed:\n%s", later[:12], stderr)
	}
	if s, _ := readKS(context.Background(), "demo"); s.Applied != "main@sha1:"+later {
		t.Errorf("Kustomization applied %s, want the later commit %s", s.Applied, later)
	}
}

// TestFlux6RaceRightAfterAPush: without a reconcile request Flux does not look at git for
// its 10 minute interval, so right after the push the Kustomization is Ready=True at the
// previous commit; the tool must keep waiting until Flux applies ours.
func TestFlux6RaceRightAfterAPush(t *testing.T) {
	ctx := context.Background()
	before, _ := readKS(ctx, "demo")
	p := startTool(t, runArgs("v1.5.0", "--flux-reconcile=false")...)
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(p.stderr.String(), "waiting: Ready=True (ReconciliationSucceeded)") {
		if time.Now().After(deadline) {
			t.Fatalf("the tool never reported waiting at Ready=True; stderr:\n%s", p.stderr.String())
		}
		select {
		case <-p.done:
			t.Fatalf("the tool ended (exit %d) while the Kustomization was Ready=True at the old revision %s; stderr:\n%s", p.code, before.Applied, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s, _ := readKS(ctx, "demo")
	if s.Ready != "True" || s.Applied != before.Applied {
		t.Fatalf("the stage is not the race: Kustomization %+v, before %+v", s, before)
	}
	select {
	case <-p.done:
		t.Fatalf("the tool ended (exit %d) at Ready=True of the old revision; stderr:\n%s", p.code, p.stderr.String())
	default:
	}
	// Now Flux looks at git (as its interval would): the tool confirms our commit.
	token := time.Now().UTC().Format(time.RFC3339Nano)
	if err := w.Patch(ctx, fluxworld.GitRepositoryResource, fluxworld.Source, map[string]any{"metadata": map[string]any{"annotations": map[string]any{"reconcile.fluxcd.io/requestedAt": token}}}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := p.wait(t)
	var out struct {
		Deployed bool `json:"deployed"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &out) != nil || !out.Deployed {
		t.Fatalf("exit %d, stdout %s; stderr:\n%s", code, stdout, stderr)
	}
	if s, _ := readKS(ctx, "demo"); s.Applied != "main@sha1:"+head(t) {
		t.Errorf("Kustomization applied %s, want our commit %s", s.Applied, head(t))
	}
}

// TestFlux8LaterCommitReplacesOurImage: a commit on top of ours that sets another value of our
// image lands before Flux applies ours; Flux applies that one. Ours was never deployed as
// such: the tool says superseded, naming the later commit, and does not claim deployed.
func TestFlux8LaterCommitReplacesOurImage(t *testing.T) {
	// ConfirmSpec.Keeps needs the pipeline's Repo to read a later commit (promote.RevReader,
	// over gitrepo's FetchRev, from the GitHub-statuses branch); without it every later commit
	// that contains ours counts as keeping our values.
	if _, ok := any((*gitrepo.Remote)(nil)).(interface {
		FetchRev(context.Context, string, string) (*gitrepo.Snapshot, error)
	}); !ok {
		t.Skip("gitrepo has no FetchRev in this tree: ConfirmSpec.Keeps is never set, superseded cannot be told")
	}
	ctx := context.Background()
	p := startTool(t, runArgs("v1.7.0", "--flux-reconcile=false")...)
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(p.stderr.String(), "flux: flux-system/demo: waiting:") {
		if time.Now().After(deadline) {
			t.Fatalf("the tool never started waiting; stderr:\n%s", p.stderr.String())
		}
		select {
		case <-p.done:
			t.Fatalf("the tool ended (exit %d) before Flux looked at git; stderr:\n%s", p.code, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	later, err := w.Git.CommitFiles(w.Repo, fluxworld.Branch, map[string][]byte{overlay + "/kustomization.yaml": overlayFile("v1.8.0")}, "demo: v1.8.0 by someone else")
	if err != nil {
		t.Fatal(err)
	}
	token := time.Now().UTC().Format(time.RFC3339Nano)
	if err := w.Patch(ctx, fluxworld.GitRepositoryResource, fluxworld.Source, map[string]any{"metadata": map[string]any{"annotations": map[string]any{"reconcile.fluxcd.io/requestedAt": token}}}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := p.wait(t)
	var out struct {
		Deployed   bool `json:"deployed"`
		Superseded bool `json:"superseded"`
	}
	_ = json.Unmarshal([]byte(stdout), &out)
	// Flux may be seen applying the later commit (attempted) or having applied it.
	// Superseded is DESIGN.md's outcome, not a failure: exit 0, superseded=true.
	if code != 0 || !out.Superseded || out.Deployed || !strings.Contains(stderr, "superseded: Flux ") || !strings.Contains(stderr, "main@sha1:"+later[:7]+", a later commit that replaced our image values") {
		t.Fatalf("exit %d, deployed %v; want superseded by %s; stderr:\n%s", code, out.Deployed, later[:7], stderr)
	}
}
