package main

import (
	"strings"
	"testing"
)

// The trap `argocd app wait` falls into: Argo CD shows the previous commit Synced and Healthy
// because it has not looked at Git yet. Without a refresh, `wait` must not call that
// deployed; it times out naming what Argo CD shows. With the refresh, it confirms our commit.
func TestWaitRefusesAStaleRevisionThenConfirmsAfterRefresh(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	ours, err := w.Git.CommitFiles(w.Repo, "main", map[string][]byte{
		userStaging + "/kustomization.yaml": []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: staging\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/user-service\n    newTag: \"1.9.0\"\n"),
	}, "Deploy user-service 1.9.0 to staging")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GITHUB_TOKEN": w.Token, "ARGOCD_AUTH_TOKEN": w.ArgoCDToken}
	args := []string{"wait", "--argocd-server", w.ArgoCD.URL(), "--argocd-apps", "user-service-staging",
		"--repository-url", w.RepoURL, "--revision", ours, "--json"}

	r := runBinary(t, t.TempDir(), env, append(args, "--argocd-refresh", "none", "--timeout", "3s")...)
	if r.code != 1 {
		t.Fatalf("stale: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := decodeJSON(t, r.stdout); got["deployed"] != false {
		t.Errorf("stale: outputs %v, want deployed=false", got)
	}
	if !strings.Contains(r.stderr, w.SeedHead[:7]) {
		t.Errorf("stale: the error does not show the revision Argo CD is at (%s):\n%s", w.SeedHead[:7], r.stderr)
	}

	r = runBinary(t, t.TempDir(), env, append(args, "--timeout", "1m")...)
	if r.code != 0 {
		t.Fatalf("after refresh: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	if got := decodeJSON(t, r.stdout); got["deployed"] != true || got["revision"] != ours {
		t.Errorf("after refresh: outputs %v, want deployed=true for %s", got, ours)
	}
}
