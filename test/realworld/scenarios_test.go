//go:build realworld

package realworld

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
	"github.com/gitops-promote/gitops-promote/test/realworld/observe"
	"github.com/gitops-promote/gitops-promote/test/realworld/world"
)

// The one world all scenarios share (starting one takes about half a minute), and the tool.
var (
	w       *world.World
	toolBin string
	seedDir string
	verbose = flag.Bool("realworld.v", false, "print the world's progress lines (every git request, every rollout)")
)

const userImage = "ghcr.io/acme/user-service"

// Each scenario has its own overlay (its own namespace) and application.
var apps = []world.App{
	{Name: "rw-push", Paths: []string{"apps/user-service/overlays/rw-push"}, AutoSync: true},
	{Name: "rw-broken", Paths: []string{"apps/user-service/overlays/rw-broken"}, AutoSync: true},
	{Name: "rw-manual", Paths: []string{"apps/user-service/overlays/rw-manual"}},
	{Name: "rw-two-a", Paths: []string{"apps/user-service/overlays/rw-two-a"}, AutoSync: true},
	{Name: "rw-two-b", Paths: []string{"apps/order-service/overlays/rw-two-b"}, AutoSync: true},
	{Name: "rw-multi", Paths: []string{"apps/user-service/overlays/rw-multi", "apps/order-service/overlays/rw-multi"}, AutoSync: true, DestNS: "rw-multi"},
	{Name: "rw-desc", Paths: []string{"apps/user-service/overlays/rw-desc"}, AutoSync: true},
	{Name: "rw-pr", Paths: []string{"apps/user-service/overlays/rw-pr"}, AutoSync: true},
	{Name: "rw-login", Paths: []string{"apps/user-service/overlays/rw-login"}, AutoSync: true},
	{Name: "rw-perf", Paths: []string{"apps/user-service/overlays/rw-perf"}, AutoSync: true},
	// The example's own staging overlay: the push of observe.PushScenario.
	{Name: "rw-observe", Paths: []string{observe.PushScenario.Overlay}, AutoSync: true, DestNS: "staging"},
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "rw-tool-")
	if err != nil {
		log.Print(err)
		return 1
	}
	defer os.RemoveAll(tmp)
	apps = append(apps, notifyApps...) // notifications_test.go
	toolBin = filepath.Join(tmp, "gitops-promote")
	build := exec.Command("go", "build", "-o", toolBin, "../../cmd/gitops-promote")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Printf("building gitops-promote: %v", err)
		return 1
	}
	seed, err := seedTree(tmp)
	seedDir = seed
	if err != nil {
		log.Print(err)
		return 1
	}
	logf := func(string, ...any) {}
	if *verbose { // every git request and rollout; on a failure the components' logs are printed anyway
		logf = func(format string, args ...any) { log.Printf("world: "+format, args...) }
	}
	start := time.Now()
	w, err = world.Start(ctx, world.WithSeed(os.DirFS(seed)), world.WithApps(apps...), world.WithLogf(logf), world.WithAddon(startNotifications),
		world.WithGitHub(githubsim.RepoSettings{DefaultBranch: world.Branch, AutoMergeAllowed: true, Protected: []string{world.Branch}}))
	if err != nil {
		log.Printf("starting the real world: %v", err)
		return 1
	}
	defer w.Close()
	for _, a := range apps {
		if !a.AutoSync { // its first sync is ours to ask for
			if err := syncWhenCompared(ctx, a.Name); err != nil {
				log.Printf("%v\n%s", err, w.Logs(15))
				return 1
			}
		}
	}
	if err := waitAllDeployed(ctx, w.SeedHead, 5*time.Minute); err != nil {
		log.Printf("%v\n%s", err, w.Logs(15))
		return 1
	}
	log.Printf("real world up and %d applications synced in %s", len(apps), time.Since(start).Round(100*time.Millisecond))
	code := m.Run()
	if code != 0 {
		log.Printf("logs of the world:\n%s", w.Logs(20))
	}
	return code
}

// seedTree is the example config repository plus one overlay per scenario.
func seedTree(tmp string) (string, error) {
	dir := filepath.Join(tmp, "seed")
	if err := os.CopyFS(dir, gitopspromote.Example()); err != nil {
		return "", fmt.Errorf("copying the example: %w", err)
	}
	for _, a := range apps {
		for _, p := range a.Paths {
			ns := a.DestNS
			if ns == "" {
				ns = path.Base(p)
			}
			svc := strings.Split(p, "/")[1]
			k := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: %s\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/%s\n    newTag: \"1.4.0\"\n", ns, svc)
			if _, err := os.Stat(filepath.Join(dir, p, "kustomization.yaml")); err == nil {
				continue // an overlay of the example
			}
			if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(filepath.Join(dir, p, "kustomization.yaml"), []byte(k), 0o644); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

// syncWhenCompared asks for the first sync of an application without auto-sync once Argo CD
// has compared it (a sync before that is refused).
func syncWhenCompared(ctx context.Context, name string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		app, err := w.GetApp(ctx, name, "")
		if err == nil {
			if observe.FromApp(app).Revision == "" {
				err = errors.New("not compared yet")
			} else if err = w.SyncApp(ctx, name); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("first sync of %s: %w", name, err)
		}
		time.Sleep(time.Second)
	}
}

// waitAllDeployed waits until every application is Synced and Healthy (the first syncs).
func waitAllDeployed(ctx context.Context, rev string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, a := range apps {
		for {
			app, err := w.GetApp(ctx, a.Name, "")
			if err == nil && observe.FromApp(app).Sync == "Synced" && observe.FromApp(app).Health == "Healthy" {
				break
			}
			if time.Now().After(deadline) {
				ev := observe.FromApp(app)
				return fmt.Errorf("application %s not Synced+Healthy within %s after start: %+v (last read: %w)", a.Name, timeout, ev, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return nil
}

// tool is one run of the gitops-promote binary.
type tool struct {
	code           int
	stdout, stderr string
	took           time.Duration
	out            map[string]any // --json
	end            time.Time
}

func runTool(t *testing.T, args ...string) tool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, toolBin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := tool{stdout: so.String(), stderr: se.String(), took: time.Since(start), end: time.Now()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running gitops-promote %v: %v", args, err)
	}
	if strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		_ = json.Unmarshal([]byte(r.stdout), &r.out)
	}
	for _, secret := range []string{w.GitToken, w.ArgoCDToken, w.AdminPassword} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("a secret shows in the tool's output")
		}
	}
	t.Logf("gitops-promote %s\nexit %d after %s\nstdout:\n%s\nstderr:\n%s", redactArgs(args), r.code, r.took.Round(10*time.Millisecond), r.stdout, r.stderr)
	return r
}

func redactArgs(args []string) string {
	out := append([]string(nil), args...)
	for i := range out {
		if i > 0 && (out[i-1] == "--token" || out[i-1] == "--argocd-token" || out[i-1] == "--argocd-password") {
			out[i] = "***"
		}
	}
	return strings.Join(out, " ")
}

// pushArgs is a push-mode run for one application's overlay.
func pushArgs(app, image string, extra ...string) []string {
	overlay := ""
	for _, a := range apps {
		if a.Name == app {
			overlay = a.Paths[0]
		}
	}
	args := []string{"run", "--repository-url", w.RepoURL, "--token", w.GitToken, "--mode", "push",
		"--overlays", overlay, "--images", image,
		"--argocd-server", w.ArgoCDURL, "--argocd-token", w.ArgoCDToken, "--argocd-apps", app,
		"--timeout", "4m", "--json"}
	return append(args, extra...)
}

// timeline follows an application's stream from now on, keeping every event with its time.
type timeline struct {
	mu     sync.Mutex
	events []stamped
	cancel context.CancelFunc
	done   chan struct{}
}

type stamped struct {
	at time.Time
	ev observe.Event
}

func follow(t *testing.T, app string) *timeline {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tl := &timeline{cancel: cancel, done: make(chan struct{})}
	first := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(tl.done)
		_ = observe.Watch(ctx, w.ArgoCDURL, w.ArgoCDToken, app, func(ev observe.Event) bool {
			tl.mu.Lock()
			tl.events = append(tl.events, stamped{time.Now(), ev})
			tl.mu.Unlock()
			once.Do(func() { close(first) })
			return false
		})
	}()
	select { // the stream's first event is the current state (ADDED)
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatalf("the stream of %s sent nothing in 30s", app)
	}
	t.Cleanup(tl.stop)
	return tl
}

func (tl *timeline) stop() {
	tl.cancel()
	<-tl.done
}

// deployedAt is the first moment Argo CD showed Synced and Healthy at rev, no operation.
func (tl *timeline) deployedAt(rev string) (time.Time, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, s := range tl.events {
		if s.ev.DeployedAt(rev) {
			return s.at, true
		}
	}
	return time.Time{}, false
}

// at is the last state Argo CD showed at or before t.
func (tl *timeline) at(t time.Time) observe.Event {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var ev observe.Event
	for _, s := range tl.events {
		if s.at.After(t) {
			break
		}
		ev = s.ev
	}
	return ev
}

// appWait is the real `argocd app wait --sync --health`, started right after the push.
type appWait struct {
	pushAt   time.Time // when the new head was seen
	head     string
	returned time.Time
	code     int
	output   string
}

// argocdWaitAfterPush watches main; the moment its head moves off prev it starts
// `argocd app wait APP --sync --health`. The result arrives on the channel.
func argocdWaitAfterPush(t *testing.T, app, prev string) <-chan appWait {
	t.Helper()
	ch := make(chan appWait, 1)
	cfg := filepath.Join(t.TempDir(), "argocd-config")
	go func() {
		deadline := time.Now().Add(4 * time.Minute)
		var r appWait
		for time.Now().Before(deadline) {
			head, err := w.Git.Head(w.Repo, world.Branch)
			if err == nil && head != prev {
				r.pushAt, r.head = time.Now(), head
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if r.head == "" {
			ch <- r
			return
		}
		cmd := exec.Command(filepath.Join(w.BinDir, "argocd"), "app", "wait", app, "--sync", "--health", "--timeout", "240",
			"--server", w.ArgoCDAddr, "--plaintext", "--auth-token", w.ArgoCDToken, "--config", cfg)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(cfg)}
		out, err := cmd.CombinedOutput()
		r.returned, r.output = time.Now(), string(out)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
		} else if err != nil {
			r.code = -1
			r.output += err.Error()
		}
		ch <- r
	}()
	return ch
}

func head(t *testing.T) string {
	t.Helper()
	h, err := w.Git.Head(w.Repo, world.Branch)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// deployedRun asserts what a user sees of a successful run: exit 0, deployed at the revision
// it names, and that Argo CD's own API shows Synced and Healthy at that revision.
func deployedRun(t *testing.T, r tool, apps ...string) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (deployed)", r.code)
	}
	if r.out["deployed"] != true {
		t.Fatalf("output deployed = %v, want true", r.out["deployed"])
	}
	rev, _ := r.out["revision"].(string)
	if len(rev) != 40 {
		t.Fatalf("output revision = %q, want a commit", rev)
	}
	for _, a := range apps {
		app, err := w.GetApp(context.Background(), a, "")
		if err != nil {
			t.Fatalf("reading %s from Argo CD: %v", a, err)
		}
		ev := observe.FromApp(app)
		if ev.Sync != "Synced" || ev.Health != "Healthy" {
			t.Errorf("%s right after the tool said deployed: Argo CD shows %s/%s, want Synced/Healthy", a, ev.Sync, ev.Health)
		}
		if ev.Revision != rev && !contains(t, ev.Revision, rev) {
			t.Errorf("%s right after the tool said deployed: Argo CD is at %s, not at %s or a descendant", a, ev.Revision, rev)
		}
	}
	return rev
}

func contains(t *testing.T, rev, ancestor string) bool {
	t.Helper()
	_, err := w.Git.Git(context.Background(), w.Repo, "merge-base", "--is-ancestor", ancestor, rev)
	return err == nil
}

// TestPushModeDeploysThePushedCommit is the main promise: exit 0 and deployed at exactly the
// pushed commit, when Argo CD's own API shows Synced and Healthy there. The real
// `argocd app wait --sync --health` started right after the push is recorded beside it.
func TestPushModeDeploysThePushedCommit(t *testing.T) {
	prev := head(t)
	tl := follow(t, "rw-push")
	waited := argocdWaitAfterPush(t, "rw-push", prev)
	r := runTool(t, pushArgs("rw-push", userImage+":1.5.0")...)
	rev := deployedRun(t, r, "rw-push")
	if got := head(t); rev != got {
		t.Errorf("revision %s, but main is at %s", rev, got)
	}
	if r.out["landed-by"] != "push" || r.out["changed"] != true {
		t.Errorf("outputs landed-by %v changed %v, want push, true", r.out["landed-by"], r.out["changed"])
	}
	at, ok := tl.deployedAt(rev)
	if !ok {
		t.Fatalf("the stream never showed Synced+Healthy at %s, yet the tool said deployed", rev[:12])
	}
	// Both follow the same stream: the tool may see the event a moment before this test does.
	t.Logf("Argo CD Synced+Healthy at our commit; the tool exited %s after this test saw it", r.end.Sub(at).Round(100*time.Microsecond))
	aw := <-waited
	if aw.head != rev {
		t.Fatalf("the push watcher saw %q, want %s", aw.head, rev)
	}
	seen := tl.at(aw.returned)
	verdict := "after our commit was applied"
	if !seen.DeployedAt(rev) {
		verdict = fmt.Sprintf("BEFORE our commit was applied (Argo CD then: %s/%s at %.12s)", seen.Sync, seen.Health, seen.Revision)
	}
	t.Logf("argocd app wait --sync --health, started within 10 ms of the push, returned exit %d after %s, %s; Argo CD showed our commit Synced+Healthy %s after the push",
		aw.code, aw.returned.Sub(aw.pushAt).Round(10*time.Millisecond), verdict, at.Sub(aw.pushAt).Round(10*time.Millisecond))
}

// TestBrokenImageFailsFast: a rollout that exceeds its progress deadline makes Argo CD say
// Degraded; the tool exits 1 well before its timeout, naming the Deployment and the message.
func TestBrokenImageFailsFast(t *testing.T) {
	r := runTool(t, pushArgs("rw-broken", userImage+":1.5.0-broken")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if r.took > 2*time.Minute {
		t.Errorf("took %s with a 4m timeout: want a fast failure", r.took)
	}
	for _, s := range []string{"Degraded", "user-service", "exceeded its progress deadline"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q", s)
		}
	}
	if r.out["deployed"] == true {
		t.Errorf("output deployed = true for a Degraded application")
	}
}

// TestMissingApplicationFailsWithinSeconds: exit 1 quickly, naming the application.
func TestMissingApplicationFailsWithinSeconds(t *testing.T) {
	r := runTool(t, "wait", "--argocd-server", w.ArgoCDURL, "--argocd-token", w.ArgoCDToken,
		"--argocd-apps", "rw-no-such-app", "--revision", head(t), "--repository-url", w.RepoURL, "--token", w.GitToken,
		"--branch", world.Branch, "--timeout", "4m")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if r.took > 30*time.Second {
		t.Errorf("took %s: want a failure within seconds", r.took)
	}
	if !strings.Contains(r.stderr, `"rw-no-such-app"`) || !strings.Contains(r.stderr, "missing or not readable") {
		t.Errorf("stderr does not say the application is missing:\n%s", r.stderr)
	}
}

// TestBadCredentials: a wrong password and a bad token get one clear error each, no secret.
func TestBadCredentials(t *testing.T) {
	rev := head(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong password", []string{"--argocd-username", "admin", "--argocd-password", "not-the-password"}, `Argo CD refused the login of user "admin"`},
		{"bad token", []string{"--argocd-token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl"}, "Argo CD refused the token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"wait", "--argocd-server", w.ArgoCDURL, "--argocd-apps", "rw-push",
				"--revision", rev, "--repository-url", w.RepoURL, "--token", w.GitToken, "--branch", world.Branch, "--timeout", "2m"}, tc.args...)
			r := runTool(t, args...)
			if r.code == 0 {
				t.Fatalf("exit 0 with %s", tc.name)
			}
			if r.took > 30*time.Second {
				t.Errorf("took %s: want a failure within seconds", r.took)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q", tc.want)
			}
			if strings.Contains(r.stderr, "not-the-password") {
				t.Errorf("the password shows in stderr")
			}
		})
	}
}

// TestManualSync: an application without auto-sync. Without argocd-sync the tool says at once
// that nothing will sync it; with it, the real API accepts our sync and the run ends deployed.
func TestManualSync(t *testing.T) {
	t.Run("without argocd-sync", func(t *testing.T) {
		r := runTool(t, pushArgs("rw-manual", userImage+":1.5.0", "--timeout", "90s")...)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1", r.code)
		}
		if r.took > 45*time.Second {
			t.Errorf("took %s with a 90s timeout: the tool waited silently instead of saying nothing will sync", r.took)
		}
		if !strings.Contains(r.stderr, "auto-sync") {
			t.Errorf("stderr does not say auto-sync is off:\n%s", r.stderr)
		}
	})
	t.Run("with argocd-sync", func(t *testing.T) {
		r := runTool(t, pushArgs("rw-manual", userImage+":1.5.1", "--argocd-sync")...)
		deployedRun(t, r, "rw-manual")
		app, err := w.GetApp(context.Background(), "rw-manual", "")
		if err != nil {
			t.Fatal(err)
		}
		if by, _ := observe.FromApp(app).Raw["status"].(map[string]any)["operationState"].(map[string]any)["operation"].(map[string]any)["initiatedBy"].(map[string]any); by["automated"] == true {
			t.Errorf("the last sync was automated; want the one the tool requested")
		}
	})
}

// TestTwoApplicationsAtOnce: one run, two overlays, two applications, both deployed.
func TestTwoApplicationsAtOnce(t *testing.T) {
	r := runTool(t, "run", "--repository-url", w.RepoURL, "--token", w.GitToken, "--mode", "push",
		"--overlays", "apps/user-service/overlays/rw-two-a", "--overlays", "apps/order-service/overlays/rw-two-b",
		"--images", userImage+":1.5.0", "--images", "ghcr.io/acme/order-service:2.1.0",
		"--argocd-server", w.ArgoCDURL, "--argocd-token", w.ArgoCDToken,
		"--argocd-apps", "rw-two-a", "--argocd-apps", "rw-two-b", "--timeout", "4m", "--json")
	deployedRun(t, r, "rw-two-a", "rw-two-b")
}

// TestMultiSourceApplication: our repository is one source of two; the revision compared is
// that source's.
func TestMultiSourceApplication(t *testing.T) {
	r := runTool(t, pushArgs("rw-multi", userImage+":1.5.0")...)
	deployedRun(t, r, "rw-multi")
}

// TestDescendantFromAnotherPipeline: a later commit lands on top of ours before Argo CD syncs;
// Argo CD applies that one, which contains ours: deployed.
func TestDescendantFromAnotherPipeline(t *testing.T) {
	prev := head(t)
	later := make(chan string, 1)
	go func() {
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			if h, err := w.Git.Head(w.Repo, world.Branch); err == nil && h != prev {
				sha, err := w.Git.CommitFiles(w.Repo, world.Branch, map[string][]byte{"NOTES.md": []byte("another pipeline\n")}, "another pipeline")
				if err != nil {
					t.Errorf("the other pipeline's commit: %v", err)
				}
				later <- sha
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		later <- ""
	}()
	r := runTool(t, pushArgs("rw-desc", userImage+":1.5.0")...)
	ours := deployedRun(t, r, "rw-desc")
	other := <-later
	if other == "" {
		t.Fatal("the other pipeline never saw our push")
	}
	app, err := w.GetApp(context.Background(), "rw-desc", "")
	if err != nil {
		t.Fatal(err)
	}
	at := observe.FromApp(app).Revision
	if at != other {
		t.Logf("Argo CD applied %s (ours %s, the later %s): the later commit was not picked up first this time", at, ours, other)
	} else {
		t.Logf("Argo CD applied the later commit %s on top of ours %s; the tool said deployed", other[:12], ours[:12])
	}
}

// TestPullRequestPath: main is protected; GitHub is the sandbox simulator, Argo CD is real.
// The tool opens a pull request, GitHub merges it, and the merge commit is deployed.
func TestPullRequestPath(t *testing.T) {
	if err := w.Git.Protect(w.Repo, world.Branch, gitserver.Classic); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := w.Git.Protect(w.Repo, world.Branch, gitserver.Unprotected); err != nil {
			t.Fatal(err)
		}
	}()
	r := runTool(t, "run", "--repository-url", w.RepoURL, "--token", w.GitToken, "--github-api-url", w.GitHub.URL(),
		"--mode", "auto", "--overlays", "apps/user-service/overlays/rw-pr", "--images", userImage+":1.5.0",
		"--merge-method", "squash", "--auto-merge",
		"--argocd-server", w.ArgoCDURL, "--argocd-token", w.ArgoCDToken, "--argocd-apps", "rw-pr", "--timeout", "4m", "--json")
	rev := deployedRun(t, r, "rw-pr")
	if r.out["landed-by"] != "pull-request" || r.out["merged"] != true {
		t.Errorf("landed-by %v merged %v, want pull-request, true", r.out["landed-by"], r.out["merged"])
	}
	if got := head(t); got != rev {
		t.Errorf("revision %s is not main's head %s (the merge commit)", rev, got)
	}
}

// TestLoginWithUsernameAndPassword: a session from admin's password works as the token does.
func TestLoginWithUsernameAndPassword(t *testing.T) {
	args := pushArgs("rw-login", userImage+":1.5.0")
	for i := range args {
		if args[i] == "--argocd-token" {
			args = append(args[:i:i], append([]string{"--argocd-username", "admin", "--argocd-password", w.AdminPassword}, args[i+2:]...)...)
			break
		}
	}
	deployedRun(t, runTool(t, args...), "rw-login")
}

// TestPerformance measures push to deployed five times beside Argo CD's own moment of Synced +
// Healthy at our commit, and how often the real `argocd app wait` returned before that.
func TestPerformance(t *testing.T) {
	var overhead, total, wall []time.Duration
	early := 0
	const runs = 5
	for i := range runs {
		prev := head(t)
		tl := follow(t, "rw-perf")
		waited := argocdWaitAfterPush(t, "rw-perf", prev)
		r := runTool(t, pushArgs("rw-perf", fmt.Sprintf("%s:1.6.%d", userImage, i))...)
		rev := deployedRun(t, r, "rw-perf")
		at, ok := tl.deployedAt(rev)
		if !ok {
			t.Fatalf("run %d: the stream never showed Synced+Healthy at %s", i, rev[:12])
		}
		aw := <-waited
		if !tl.at(aw.returned).DeployedAt(rev) {
			early++
		}
		overhead = append(overhead, r.end.Sub(at))
		wall = append(wall, r.took)
		total = append(total, at.Sub(aw.pushAt))
		tl.stop()
	}
	med := func(ds []time.Duration) time.Duration {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[len(s)/2]
	}
	line := fmt.Sprintf("push to Argo CD Synced+Healthy at our commit: median %s (%v); gitops-promote exit after that moment: median %s (%v); whole gitops-promote run: median %s (%v); argocd app wait returned before our commit was applied: %d of %d",
		med(total).Round(10*time.Millisecond), rounded(total, 10*time.Millisecond), med(overhead).Round(100*time.Microsecond), rounded(overhead, 100*time.Microsecond),
		med(wall).Round(10*time.Millisecond), rounded(wall, 10*time.Millisecond), early, runs)
	t.Log(line)
	if f := os.Getenv("GITOPS_PROMOTE_REALWORLD_FIGURES"); f != "" {
		_ = os.WriteFile(f, []byte(line+"\n"+memoryLine()+"\n"), 0o644)
	}
	t.Log(memoryLine())
}

func rounded(ds []time.Duration, to time.Duration) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Round(to).String()
	}
	return out
}

// memoryLine is the resident memory of each process of the world (VmRSS).
func memoryLine() string {
	var parts []string
	var sum int
	for _, p := range w.Procs() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				var kb int
				_, _ = fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:")), "%d", &kb)
				sum += kb
				parts = append(parts, fmt.Sprintf("%s %d MB", p.Name, kb/1024))
			}
		}
	}
	return fmt.Sprintf("resident memory: %s; total %d MB", strings.Join(parts, ", "), sum/1024)
}
