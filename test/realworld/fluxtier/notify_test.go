//go:build realworld

package fluxtier

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/gitops-promote/gitops-promote/test/realworld/fluxworld"
)

// ghToken is the token of the GitHub simulator: the tool's, and the one in the Provider's Secret.
const ghToken = "flux-status-token"

var (
	gh            *githubsim.Server
	statusContext string // the context notification-controller writes: kustomization/demo/<8 hex>
	statuses      = &statusLog{at: map[string]time.Time{}}
)

// statusLog records when the GitHub simulator took each commit status (its log line
// "github: status CONTEXT STATE on SHA7"), first time each.
type statusLog struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (l *statusLog) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if !strings.HasPrefix(line, "github: status ") {
		return
	}
	now := time.Now()
	l.mu.Lock()
	if _, ok := l.at[line]; !ok {
		l.at[line] = now
	}
	l.mu.Unlock()
	log.Print(line)
}

// written is when the status state of statusContext on rev was first written (zero if never).
func (l *statusLog) written(state, rev string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at[fmt.Sprintf("github: status %s %s on %s", statusContext, state, rev[:7])]
}

// startGitHub starts the GitHub simulator over the git server's repositories (w is set by the
// time AddRepo asks for the folder).
func startGitHub() (*githubsim.Server, error) {
	s, err := githubsim.Start(githubsim.WithToken(ghToken),
		githubsim.WithBareDir(func(owner, name string) string { return w.Git.BareDir(owner + "/" + name) }),
		githubsim.WithLogf(statuses.logf))
	if err != nil {
		return nil, fmt.Errorf("starting the GitHub simulator: %w", err)
	}
	return s, nil
}

// addStatusAlert puts the config repository on the simulator and sets up Flux's commit
// statuses for Kustomization demo.
func addStatusAlert(ctx context.Context) (string, error) {
	if err := gh.AddRepo(fluxworld.Owner, fluxworld.Name, githubsim.RepoSettings{DefaultBranch: fluxworld.Branch}); err != nil {
		return "", fmt.Errorf("adding %s to the GitHub simulator: %w", w.Repo, err)
	}
	return w.CreateStatusAlert(ctx, "demo")
}

// reconcileOnPush stands in for a Flux Receiver on GitHub's push webhook (the tool cannot
// reach the cluster to ask itself): once main moves past before, it annotates the
// GitRepository with a reconcile request, as the Receiver does.
func reconcileOnPush(t *testing.T, before string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for {
			if h, err := w.Git.Head(w.Repo, fluxworld.Branch); err == nil && h != before {
				token := time.Now().UTC().Format(time.RFC3339Nano)
				if err := w.Patch(ctx, fluxworld.GitRepositoryResource, fluxworld.Source, map[string]any{"metadata": map[string]any{"annotations": map[string]any{"reconcile.fluxcd.io/requestedAt": token}}}); err != nil && ctx.Err() == nil {
					t.Errorf("the stand-in Receiver could not request a reconcile: %v", err)
				}
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
}

// ghStatus is a commit status as GitHub's REST API lists it.
type ghStatus struct {
	State       string `json:"state"`
	Description string `json:"description"`
	Context     string `json:"context"`
}

// commitStatuses lists the statuses of rev as a person (or the API) sees them on GitHub.
func commitStatuses(t *testing.T, rev string) []ghStatus {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gh.URL()+"/repos/"+w.Repo+"/commits/"+rev+"/statuses", nil)
	req.Header.Set("Authorization", "Bearer "+ghToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("listing the statuses of %s: %v", rev, err)
	}
	defer resp.Body.Close()
	var out []ghStatus
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("listing the statuses of %s: %s %v", rev, resp.Status, err)
	}
	return out
}

// statusArgs run the tool confirming through GitHub statuses only: no flux-kustomizations,
// no kubeconfig (and none in its environment), so the cluster is out of its reach.
func statusArgs(tag string) []string {
	return []string{"run", "--mode", "push", "--repository-url", w.RepoURL, "--token", ghToken,
		"--github-api-url", gh.URL(), "--overlays", overlay, "--images", image + ":" + tag,
		"--status-contexts", "kustomization/demo/*", "--timeout", "3m", "--json"}
}

// TestFlux9GitHubStatuses: confirmation without a way into the cluster. The real
// notification-controller writes a commit status to GitHub (the simulator, as GitHub
// Enterprise at /api/v3) for each Kustomization event; the tool reads only those.
func TestFlux9GitHubStatuses(t *testing.T) {
	t.Run("deployed at our commit", func(t *testing.T) {
		before := head(t)
		reconcileOnPush(t, before)
		p := startTool(t, statusArgs("v1.9.0")...)
		code, stdout, stderr := p.wait(t)
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
		if !out.Deployed || out.Revision == before || out.Revision != head(t) {
			t.Fatalf("deployed=%v revision=%s, want deployed at the new head %s (before %s)", out.Deployed, out.Revision, head(t), before)
		}
		found := false
		for _, s := range commitStatuses(t, out.Revision) {
			found = found || (s.Context == statusContext && s.State == "success" && s.Description == "reconciliation succeeded")
		}
		if !found {
			t.Errorf("GitHub shows no %s success on %s: %+v", statusContext, out.Revision[:7], commitStatuses(t, out.Revision))
		}
		if s, _ := readKS(context.Background(), "demo"); s.Applied != "main@sha1:"+out.Revision || s.Ready != "True" {
			t.Errorf("Kustomization %+v, want Ready at %s", s, out.Revision)
		}
		if got := deploymentImage(t); got != image+":v1.9.0" {
			t.Errorf("Deployment image %s, want v1.9.0", got)
		}
		if strings.Contains(stderr, "flux:") {
			t.Errorf("the tool read the cluster, which it was not given:\n%s", stderr)
		}
		// The figure: status written (the simulator took notification-controller's POST) to
		// the tool's exit with deployed=true (its JSON is the last thing it writes).
		written := statuses.written("success", out.Revision)
		if written.IsZero() {
			t.Fatalf("the simulator took no %s success on %s", statusContext, out.Revision[:7])
		}
		t.Logf("status written -> tool exited deployed: %.2f s (push to exit %.2f s)", p.exitedAt.Sub(written).Seconds(), p.exitedAt.Sub(p.stderr.at("pushed ")).Seconds())
	})

	t.Run("broken image fails from the failure status", func(t *testing.T) {
		reconcileOnPush(t, head(t))
		code, stdout, stderr := runTool(t, statusArgs("v1.9.1-broken")...)
		if code != 1 {
			t.Fatalf("exit %d, want 1; stdout %s; stderr:\n%s", code, stdout, stderr)
		}
		ours := head(t)
		for _, want := range []string{statusContext, "failure", "health check failed", ours[:7]} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
		if strings.Contains(stderr, "timed out") {
			t.Errorf("it waited for the timeout instead of failing at the failure status:\n%s", stderr)
		}
		t.Logf("what the user sees:\n%s", stderr[strings.LastIndex(stderr, "==> Confirm"):])
		if statuses.written("failure", ours).IsZero() {
			t.Errorf("notification-controller wrote no failure status on %s", ours[:7])
		}
	})
}
