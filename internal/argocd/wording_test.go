package argocd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/argocd"
)

// Finding 11 (Argo CD wording): an abbreviated revision that is ours counts
// as ours, and a multi-source application whose status lacks our source's
// revision is not reported as "at revision X, which does not contain X".
func TestRevisionWording(t *testing.T) {
	t.Parallel()
	ours := "3f90161" + strings.Repeat("a", 33)
	now := time.Now().UTC().Truncate(time.Second)
	healthy := argocd.AppStatusV{
		Sync:         argocd.SyncStatus{Status: argocd.SyncSynced},
		Health:       argocd.HealthStatus{Status: argocd.HealthHealthy},
		ReconciledAt: &now,
	}
	serve := func(t *testing.T, app argocd.Application) *argocd.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/stream/") {
				http.NotFound(w, r)
				return
			}
			_ = json.NewEncoder(w).Encode(app)
		}))
		t.Cleanup(srv.Close)
		c, err := argocd.New(srv.URL, argocd.WithToken("t"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	spec := argocd.WaitSpec{Apps: []argocd.AppRef{{Name: "web"}}, Revision: ours, RepoURL: repoURL, Refresh: "none", PollInterval: 20 * time.Millisecond}

	t.Run("abbreviated revision", func(t *testing.T) {
		t.Parallel()
		app := argocd.Application{Metadata: argocd.ObjectMeta{Name: "web"}, Spec: argocd.AppSpec{Source: &argocd.Source{RepoURL: repoURL, Path: "apps/web"}}, Status: healthy}
		app.Status.Sync.Revision = ours[:7]
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		sts, err := serve(t, app).Wait(ctx, spec)
		if err != nil || len(sts) != 1 || sts[0].State != argocd.Deployed {
			t.Errorf("Wait = %+v, %v; want deployed at %s", sts, err, ours[:7])
		}
	})
	t.Run("multi-source without our revision", func(t *testing.T) {
		t.Parallel()
		app := argocd.Application{Metadata: argocd.ObjectMeta{Name: "web"}, Spec: argocd.AppSpec{Sources: []argocd.Source{
			{RepoURL: "https://charts.example/web", Path: "chart"}, {RepoURL: repoURL, Path: "apps/web"}}}, Status: healthy}
		app.Status.Sync.Revision = ours
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := serve(t, app).Wait(ctx, spec)
		if err == nil {
			t.Fatal("Wait confirmed a multi-source app that reports no revision for our source")
		}
		if strings.Contains(err.Error(), "which does not contain") || !strings.Contains(err.Error(), "has not reported a revision for the source from "+repoURL) {
			t.Errorf("error %q", err)
		}
	})
}
