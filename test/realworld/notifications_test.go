//go:build realworld

package realworld

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/gitops-promote/gitops-promote/test/realworld/world"
)

// Argo CD's own notifications controller (the same v3.2.11 build) reports to the GitHub
// simulator through its github service, as a GitHub App: the simulator verifies the App's
// JWT and issues the installation token the controller then posts statuses and deployments
// with. The tool confirms from those alone, given no argocd-* input at all.

// The GitHub App the controller authenticates as.
const (
	notifyAppID          = 12345
	notifyInstallationID = 67890
	notifyAppSlug        = "argocd-notifications"
)

// subscribed is the README's subscription: on-deployed, on-health-degraded, on-sync-failed
// (not on-sync-succeeded), to the github service.
var subscribed = map[string]string{
	"notifications.argoproj.io/subscribe.on-deployed.github":        "",
	"notifications.argoproj.io/subscribe.on-health-degraded.github": "",
	"notifications.argoproj.io/subscribe.on-sync-failed.github":     "",
}

// notifyApps are the applications of the notification scenarios (added to apps by TestMain).
var notifyApps = []world.App{
	{Name: "rw-notify", Paths: []string{"apps/user-service/overlays/rw-notify"}, AutoSync: true, Annotations: subscribed},
	{Name: "rw-notify-broken", Paths: []string{"apps/user-service/overlays/rw-notify-broken"}, AutoSync: true, Annotations: subscribed},
}

// The triggers are the README's: on-deployed fires only on a Healthy that Argo CD reached after
// our sync started. The catalog's (health changed within a minute before the sync finished, or
// before it started) let the controller post success for a broken image while the application's
// health was still the old Healthy (argoproj/argo-cd#9070, #22204): seen here twice, once with
// the "or before startedAt" clause and once without it, when the previous rollout had become
// Healthy less than a minute before.

// notificationsTemplate is the README's template for a state, with the keys of the recorded
// v3.2.11 config map (fixtures/argocd/real-v3.2.11/notifications); repoURLPath is left at
// the repository URL, which is owner/name here.
func notificationsTemplate(state, words string, deployment bool) string {
	t := `message: "Application {{.app.metadata.name}} ` + words + ` at {{.app.status.operationState.syncResult.revision}}."
github:
  repoURLPath: "{{.app.spec.source.repoURL}}"
  revisionPath: "{{.app.status.operationState.syncResult.revision}}"
  status:
    state: ` + state + `
    label: "continuous-delivery/{{.app.metadata.name}}"
    targetURL: "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}?operation=true"
`
	if deployment {
		t += `  deployment:
    state: success
    environment: "{{.app.metadata.name}}"
    environmentURL: "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}"
    logURL: "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}?operation=true"
    requiredContexts: []
    autoMerge: false
`
	}
	return t
}

// startNotifications is the addon: register the App in the simulator, configure and start
// the real controller.
func startNotifications(ctx context.Context, w *world.World) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("making the GitHub App's key: %w", err)
	}
	if err := w.GitHub.AddApp(githubsim.App{ID: notifyAppID, Slug: notifyAppSlug, InstallationID: notifyInstallationID, PublicKey: &key.PublicKey}); err != nil {
		return err
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	cm := map[string]string{
		"context": "argocdUrl: " + w.ArgoCDURL + "\n",
		"service.github": fmt.Sprintf("appID: %q\ninstallationID: %q\nprivateKey: $github-privateKey\nenterpriseBaseURL: %s/api/v3\n",
			fmt.Sprint(notifyAppID), fmt.Sprint(notifyInstallationID), w.GitHub.URL()),
		"template.app-deployed":        notificationsTemplate("success", "deployed", true),
		"template.app-health-degraded": notificationsTemplate("error", "degraded", false),
		"template.app-sync-failed":     notificationsTemplate("failure", "sync failed", false),
		"trigger.on-deployed": `- when: app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy' and !time.Parse(app.status.health.lastTransitionTime).Before(time.Parse(app.status.operationState.startedAt))
  oncePer: app.status.operationState?.syncResult?.revision
  send: [app-deployed]
`,
		"trigger.on-health-degraded": `- when: app.status.health.status == 'Degraded'
  oncePer: app.status.operationState?.syncResult?.revision
  send: [app-health-degraded]
`,
		"trigger.on-sync-failed": `- when: app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']
  oncePer: app.status.operationState?.syncResult?.revision
  send: [app-sync-failed]
`,
	}
	_, err = w.StartNotifications(ctx, cm, map[string]string{"github-privateKey": string(pemKey)})
	return err
}

// notifyArgs is a push-mode run that confirms through GitHub alone: status-contexts and
// deployment-environment, and no argocd-* input (Argo CD's API is not reachable to it).
func notifyArgs(app, image string) []string {
	return []string{"run", "--repository-url", w.RepoURL, "--token", w.GitToken, "--github-api-url", w.GitHub.URL(),
		"--mode", "push", "--overlays", "apps/user-service/overlays/" + app, "--images", image,
		"--status-contexts", "continuous-delivery/" + app, "--deployment-environment", app,
		"--timeout", "4m", "--json"}
}

// refreshOnPush stands in for Argo CD's git poll (every 3 minutes by default, so slow on a
// loaded machine that a run would mostly wait for it): the moment main moves off prev it asks
// Argo CD, through the Kubernetes API, to refresh app, as its poll or a push webhook would.
// The tool itself has no way to Argo CD.
func refreshOnPush(t *testing.T, app, prev string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if h, err := w.Git.Head(w.Repo, world.Branch); err == nil && h != prev {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if ctx.Err() != nil {
			return
		}
		gvr := schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
		patch := []byte(`{"metadata":{"annotations":{"argocd.argoproj.io/refresh":"normal"}}}`)
		if _, err := w.Dynamic.Resource(gvr).Namespace(world.Namespace).Patch(ctx, app, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Errorf("asking Argo CD to refresh %s: %v", app, err)
		}
	}()
}

// writtenBy is the first status of the context on sha, written by the App's bot.
func writtenBy(t *testing.T, sha, context string) (githubsim.WrittenStatus, bool) {
	t.Helper()
	sts, err := w.GitHub.StatusesOf(w.Repo, sha)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Context == context {
			if s.Creator != notifyAppSlug+"[bot]" {
				t.Errorf("status %s on %.12s set by %q, want the App's bot", context, sha, s.Creator)
			}
			return s, true
		}
	}
	return githubsim.WrittenStatus{}, false
}

// TestConfirmsFromArgoCDNotificationsAlone: the real notifications controller posts
// on-deployed (a commit status and a deployment) for our commit; the tool, with no way to
// Argo CD, says deployed at exactly that commit. The time from the status being written
// to the tool's exit is logged (docs/benchmarks.md).
func TestConfirmsFromArgoCDNotificationsAlone(t *testing.T) {
	refreshOnPush(t, "rw-notify", head(t))
	r := runTool(t, notifyArgs("rw-notify", userImage+":1.7.0")...)
	rev := deployedRun(t, r, "rw-notify") // exit 0, deployed, and Argo CD's own API agrees
	if rev != head(t) {
		t.Fatalf("output revision %s, want main's head %s (our commit)", rev, head(t))
	}
	st, ok := writtenBy(t, rev, "continuous-delivery/rw-notify")
	if !ok {
		t.Fatalf("the tool said deployed, but no continuous-delivery/rw-notify status is on %s", rev)
	}
	if st.State != "success" || st.Description != "Application rw-notify deployed at "+rev+"." {
		t.Errorf("the controller's status: %s %q", st.State, st.Description)
	}
	// The tool exits right after it says deployed.
	t.Logf("on-deployed status written -> the tool exited deployed: %s", r.end.Sub(st.Created).Round(10*time.Millisecond))
}

// TestBrokenImageFailsFromArgoCDNotifications: the rollout of a broken image never becomes
// healthy; on-health-degraded posts error on our commit and the tool fails with it.
func TestBrokenImageFailsFromArgoCDNotifications(t *testing.T) {
	refreshOnPush(t, "rw-notify-broken", head(t))
	r := runTool(t, notifyArgs("rw-notify-broken", userImage+":1.7.0-broken")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if r.out["deployed"] == true {
		t.Errorf("output deployed = true for a degraded rollout")
	}
	rev := head(t)
	st, ok := writtenBy(t, rev, "continuous-delivery/rw-notify-broken")
	if !ok || st.State != "error" {
		t.Fatalf("want on-health-degraded's error status first on %s, got %+v (found %v)", rev, st, ok)
	}
	for _, s := range []string{"continuous-delivery/rw-notify-broken", "Application rw-notify-broken degraded at " + rev[:7]} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q", s)
		}
	}
}
