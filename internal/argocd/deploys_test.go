package argocd_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/argocd"
)

func TestCheckDeploys(t *testing.T) {
	t.Parallel()
	const ours = "https://git.example/acme/config.git"
	apps := map[string]argocd.AppSpec{
		"direct":   {Source: &argocd.Source{RepoURL: "git@git.example:acme/config", Path: "apps/web/overlays/prod/"}},
		"parent":   {Source: &argocd.Source{RepoURL: ours, Path: "clusters/prod"}},
		"multi":    {Sources: []argocd.Source{{RepoURL: "https://charts.example/x", Path: "apps/web/overlays/prod"}, {RepoURL: ours, Path: "apps/web/overlays/prod"}}},
		"wrong":    {Source: &argocd.Source{RepoURL: ours, Path: "apps/api/overlays/prod"}},
		"elsewhen": {Source: &argocd.Source{RepoURL: "https://git.example/acme/other.git", Path: "apps/web/overlays/prod"}},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/api/v1/applications/")
		spec, ok := apps[name]
		if !ok {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"permission denied","code":7,"message":"permission denied"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(argocd.Application{Metadata: argocd.ObjectMeta{Name: name}, Spec: spec})
	}))
	t.Cleanup(srv.Close)
	c, err := argocd.New(srv.URL, argocd.WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	const file = "apps/web/overlays/prod/kustomization.yaml"
	reads := func(dir string) ([]string, error) {
		if dir == "clusters/prod" {
			return []string{"clusters/prod/kustomization.yaml", file}, nil
		}
		return []string{dir + "/kustomization.yaml"}, nil
	}
	for name, wantOK := range map[string]bool{"direct": true, "parent": true, "multi": true, "wrong": false, "elsewhen": false} {
		got, err := c.CheckDeploys(context.Background(), argocd.DeploysSpec{
			Apps: []argocd.AppRef{{Name: name}}, RepoURL: ours, Files: []string{file}, Reads: reads,
		})
		if wantOK {
			if err != nil || len(got[argocd.AppRef{Name: name}]) != 1 {
				t.Errorf("%s: CheckDeploys = %v, %v; want it to render %s", name, got, err, file)
			}
			continue
		}
		var nd *argocd.NotDeployedError
		if !errors.As(err, &nd) || !nd.BadInput() {
			t.Errorf("%s: CheckDeploys = %v; want a *NotDeployedError", name, err)
			continue
		}
		for _, want := range []string{name, "apps/web/overlays/prod", "path apps/"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not name %q", name, err, want)
			}
		}
	}
}

// A brief outage of Argo CD before landing is ridden out.
func TestCheckDeploysRidesOutA503(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	w.sim.Fail503(1500 * time.Millisecond)
	got, err := w.client(t).CheckDeploys(withTimeout(t, time.Minute), argocd.DeploysSpec{
		Apps: []argocd.AppRef{{Name: "web-prod"}}, RepoURL: repoURL, Files: []string{kustom},
	})
	if err != nil || len(got[argocd.AppRef{Name: "web-prod"}]) != 1 {
		t.Errorf("CheckDeploys = %v, %v\nlog:\n%s", got, err, w.logs.all())
	}
}
