package main

import (
	"strings"
	"testing"
)

// Finding 1: argocd-apps naming an application that does not deploy the
// edited overlay (edit order-service staging, wait on
// user-service-production) is bad input before anything lands: exit 2,
// naming the app, its repository and path, and the overlay; the branch
// does not move and no pull request is opened.
func TestRunRefusesAnAppThatDoesNotDeployTheEditedOverlay(t *testing.T) {
	t.Parallel()
	w := startWorld(t)
	before, err := w.Git.Head(w.Repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	const orderStaging = "apps/order-service/overlays/staging"
	in := worldInputs(w, "user-service-production")
	in["overlays"], in["images"] = orderStaging, "ghcr.io/acme/order-service:2.0.1"
	env, outFile, _ := runnerEnv(t, in)
	r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run")
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"user-service-production", w.RepoURL, "path apps/user-service/overlays/production", orderStaging} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, r.stderr)
		}
	}
	if after, _ := w.Git.Head(w.Repo, "main"); after != before {
		t.Errorf("main moved from %s to %s", before, after)
	}
	if pulls, _ := w.GitHub.Pulls(w.Repo); len(pulls) != 0 {
		t.Errorf("%d pull requests opened", len(pulls))
	}
	if out := readOutputs(t, outFile); len(out) != 0 {
		t.Errorf("outputs written on bad input: %v", out)
	}

	// The application that deploys the overlay passes the same check (a
	// dry run stops right after it).
	in["argocd-apps"], in["dry-run"] = "order-service-staging", "true"
	env, _, _ = runnerEnv(t, in)
	if r := runBinary(t, env["GITHUB_WORKSPACE"], env, "run"); r.code != 0 {
		t.Errorf("dry run with the right app: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
}
