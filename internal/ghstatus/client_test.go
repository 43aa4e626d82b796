package ghstatus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// world is a config repository served by the git server and the GitHub
// simulator, with our commit on main.
type world struct {
	git  *gitserver.Server
	sim  *githubsim.Server
	ours string
	logs *logLines
}

type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func startWorld(t *testing.T) *world {
	t.Helper()
	g, err := gitserver.Start(gitserver.WithToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	if _, err := g.CreateRepo("acme", "config"); err != nil {
		t.Fatal(err)
	}
	w := &world{git: g, logs: &logLines{}}
	w.commit(t, "1.0.0", "seed")
	w.ours = w.commit(t, "1.1.0", "Deploy web 1.1.0")
	sim, err := githubsim.Start(githubsim.WithToken("tok"), githubsim.WithBareDir(func(o, n string) string { return g.BareDir(o + "/" + n) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if err := sim.AddRepo("acme", "config", githubsim.RepoSettings{DefaultBranch: "main"}); err != nil {
		t.Fatal(err)
	}
	w.sim = sim
	return w
}

func (w *world) commit(t *testing.T, tag, msg string) string {
	t.Helper()
	sha, err := w.git.CommitFiles("acme/config", "main", map[string][]byte{
		"apps/web/overlays/dev/kustomization.yaml": []byte("images:\n- name: web\n  newTag: \"" + tag + "\"\n"),
	}, msg)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

// post writes to the simulator as the puller would.
func (w *world) post(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", w.sim.URL()+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "token tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

func (w *world) status(t *testing.T, sha, state, ctx, desc string) {
	t.Helper()
	w.post(t, "/repos/acme/config/statuses/"+sha, map[string]any{"state": state, "context": ctx, "description": desc,
		"target_url": "https://argocd.example/applications/dev?operation=true"})
}

func (w *world) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(w.sim.URL(), "tok", "acme", "config", WithLogf(w.logs.logf), WithPollInterval(10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *world) wait(t *testing.T, spec Spec, timeout time.Duration) (Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if spec.Revision == "" {
		spec.Revision = w.ours
	}
	return w.client(t).Wait(ctx, spec)
}

var devContext = Want{Contexts: []string{"continuous-delivery/dev"}}

func TestWaitConfirmsFromAStatusOnOurCommit(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	// Argo CD Notifications' on-deployed (fixture bump1.on-deployed.github.status.json).
	w.status(t, w.ours, "success", "continuous-delivery/dev", "Application dev deployed at "+w.ours+".")
	w.sim.ResetRequests()
	res, err := w.wait(t, Spec{Want: devContext}, time.Minute)
	if err != nil || res.Outcome != Deployed || res.Targets[0].Commit != w.ours {
		t.Fatalf("got %+v, %v; want deployed at our commit", res, err)
	}
	if n := w.sim.CountedRequests(); n > 4 {
		t.Errorf("%d counted requests, want at most 4 (default branch, compare, status, check runs):\n%s", n, w.sim.RequestLines())
	}
}

func TestWaitReadsEveryPageOfStatuses(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	w.status(t, w.ours, "success", "continuous-delivery/dev", "Application dev deployed")
	for i := range 120 { // newer contexts push ours to the second page of 100
		w.status(t, w.ours, "success", fmt.Sprintf("ci/job-%03d", i), "ok")
	}
	res, err := w.wait(t, Spec{Want: devContext, Branch: "main"}, time.Minute)
	if err != nil || res.Outcome != Deployed {
		t.Fatalf("got %+v, %v; want deployed from the second page", res, err)
	}
	if n := w.sim.Requests()["GET /repos/{owner}/{repo}/commits/{ref}/status"]; n != 2 {
		t.Errorf("combined status read %d times, want 2 pages:\n%s", n, w.sim.RequestLines())
	}
}

func TestWaitOnLaterCommits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		keeps   bool
		state   string
		outcome Outcome
		says    string
	}{
		{name: "success on a later commit that keeps our images", keeps: true, state: "success", outcome: Deployed},
		{name: "failure on a later commit names it", keeps: true, state: "failure", outcome: Failed, says: "applied together with %s, which failed: status \"continuous-delivery/dev\" is failure: Application dev sync failed"},
		{name: "a later commit that replaced our image", keeps: false, state: "success", outcome: Superseded, says: "%s, a later commit, changed our image values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := startWorld(t)
			later := w.commit(t, "1.2.0", "Deploy web 1.2.0")
			desc := map[string]string{"success": "Application dev deployed", "failure": "Application dev sync failed"}[tc.state]
			w.status(t, later, tc.state, "continuous-delivery/dev", desc)
			var asked []string
			keeps := func(_ context.Context, rev string) (bool, error) { asked = append(asked, rev); return tc.keeps, nil }
			res, err := w.wait(t, Spec{Want: devContext, Branch: "main", Keeps: keeps}, time.Minute)
			if res.Outcome != tc.outcome || res.Targets[0].Commit != later {
				t.Fatalf("got %+v, %v; want %s at %s", res, err, tc.outcome, later[:7])
			}
			if tc.says != "" {
				var we *WaitError
				if !errors.As(err, &we) || !strings.Contains(err.Error(), fmt.Sprintf(tc.says, later[:7])) {
					t.Errorf("error %v, want it to say %q", err, fmt.Sprintf(tc.says, later[:7]))
				}
			}
			if len(asked) != 1 || asked[0] != later {
				t.Errorf("Keeps asked for %v, want once for %s", asked, later[:7])
			}
			if n := w.sim.Requests()["POST /graphql query repository"]; n != 1 {
				t.Errorf("%d GraphQL queries, want 1:\n%s", n, w.sim.RequestLines())
			}
		})
	}
}

func TestWaitFailsAtOnceOnOurCommit(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	// Argo CD's on-health-degraded (fixture broken1.on-health-degraded.github.status.json).
	w.status(t, w.ours, "error", "continuous-delivery/dev", "Application dev degraded at "+w.ours+".")
	_, err := w.wait(t, Spec{Want: devContext, Branch: "main"}, time.Minute)
	want := `status "continuous-delivery/dev" is error on ` + w.ours[:7] + `: Application dev degraded at ` + w.ours + `. (https://argocd.example/applications/dev?operation=true)`
	var we *WaitError
	if !errors.As(err, &we) || we.Outcome != Failed || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestWaitTimesOutNamingWhatItSaw(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	// Flux posts kustomization/<name>/<uid>; the person asked for the bare name.
	w.status(t, w.ours, "success", "kustomization/demo/eb4e6944", "reconciliation succeeded")
	_, err := w.wait(t, Spec{Want: Want{Contexts: []string{"kustomization/demo"}}, Branch: "main"}, 300*time.Millisecond)
	var we *WaitError
	if !errors.As(err, &we) || we.Outcome != Waiting || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a timeout", err)
	}
	for _, s := range []string{"kustomization/demo: never appeared", `GitHub shows status "kustomization/demo/eb4e6944"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q, want it to say %q", err, s)
		}
	}
	if !strings.Contains(we.Hint(), "kustomization/<name>/*") {
		t.Errorf("hint %q, want the Flux context form", we.Hint())
	}
}

func TestWaitWarnsAboutSyncSucceeded(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	// Fixture broken1.on-sync-succeeded.github.status.json: success for an image that never got healthy.
	w.status(t, w.ours, "success", "continuous-delivery/dev", "Application dev sync succeeded at "+w.ours+".")
	if _, err := w.wait(t, Spec{Want: devContext, Branch: "main"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.logs.String(), "warning: status \"continuous-delivery/dev\" on "+w.ours[:7]+" says") ||
		!strings.Contains(w.logs.String(), "on-sync-succeeded posts success even for an image that never becomes healthy") {
		t.Errorf("log:\n%s\nwant the on-sync-succeeded warning", w.logs)
	}
}

func TestWaitForADeployment(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	// What Argo CD Notifications' github.deployment sends (fixtures bump1.on-deployed.github.deployments-*).
	d := w.post(t, "/repos/acme/config/deployments", map[string]any{"ref": w.ours, "auto_merge": false, "required_contexts": []string{}, "environment": "dev"})
	w.post(t, fmt.Sprintf("/repos/acme/config/deployments/%.0f/statuses", d["id"]), map[string]any{"state": "success", "environment": "dev", "log_url": "https://argocd.example/applications/dev"})
	later := w.commit(t, "1.2.0", "Deploy web 1.2.0")
	d = w.post(t, "/repos/acme/config/deployments", map[string]any{"ref": later, "auto_merge": false, "required_contexts": []string{}, "environment": "dev"})
	w.post(t, fmt.Sprintf("/repos/acme/config/deployments/%.0f/statuses", d["id"]), map[string]any{"state": "success", "environment": "dev"})
	// Ours is inactive now (auto_inactive); it was deployed.
	res, err := w.wait(t, Spec{Want: Want{Environment: "dev"}, Branch: "main"}, time.Minute)
	if err != nil || res.Outcome != Deployed || res.Targets[0].Commit != w.ours {
		t.Fatalf("got %+v, %v; want deployed at our commit", res, err)
	}
}

// Steady state: while nothing changes every read is a 304, which GitHub
// does not count.
func TestWaitPollsWithETags(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	w.status(t, w.ours, "pending", "continuous-delivery/dev", "syncing")
	w.sim.ResetRequests()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := w.client(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(ctx, Spec{Want: devContext, Revision: w.ours, Branch: "main"})
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for w.sim.TotalRequests()-w.sim.CountedRequests() < 9 && time.Now().Before(deadline) { // three rounds of three 304s
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("Wait ended without an error after the cancel")
	}
	if n := w.sim.CountedRequests(); n != 3 {
		t.Errorf("%d counted requests over %d, want 3 (compare, status, check runs, once each):\n%s", n, w.sim.TotalRequests(), w.sim.RequestLines())
	}
	// The last 304 may reach the simulator while the cancel cuts the client's
	// read of it: the client then never saw that answer.
	sent, counted := c.Requests()
	if counted != 3 || sent < 11 {
		t.Errorf("client counted %d of %d answered, want 3 of at least 11", counted, sent)
	}
}

func TestCheckRefusesBeforeAnythingLands(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	ok := w.client(t)
	if err := ok.Check(context.Background(), Want{Contexts: []string{"cd/*"}, Environment: "dev"}, "main"); err != nil {
		t.Errorf("a readable repository: %v", err)
	}
	c, err := New(w.sim.URL(), "tok", "acme", "nope")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check(context.Background(), devContext, "main")
	var ae *AccessError
	var hint interface{ Hint() string }
	if !errors.As(err, &ae) || !ae.BadInput() || !errors.As(err, &hint) || !strings.Contains(hint.Hint(), "statuses: read") {
		t.Fatalf("error %v, want an AccessError whose hint names statuses: read", err)
	}
}

// A later commit's CI status decides nothing, so that commit is not read.
func TestWaitReadsOnlyLaterCommitsThatDecide(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	later := w.commit(t, "1.1.0-docs", "docs")
	w.status(t, later, "success", "ci/build", "built")
	w.status(t, w.ours, "success", "continuous-delivery/dev", "Application dev deployed")
	var asked []string
	keeps := func(_ context.Context, rev string) (bool, error) { asked = append(asked, rev); return true, nil }
	if _, err := w.wait(t, Spec{Want: devContext, Branch: "main", Keeps: keeps}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 0 {
		t.Errorf("Keeps asked for %v, want no read: only a CI status is on the later commit", asked)
	}
}
