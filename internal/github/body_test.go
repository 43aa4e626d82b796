package github

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPRBody(t *testing.T) {
	t.Parallel()
	changes := []Change{
		{File: "apps/web/overlays/production/kustomization.yaml", Image: "web", Old: "ghcr.io/acme/web:1.0.0", New: "ghcr.io/acme/web:1.1.0"},
		{File: "apps/api/overlays/production/kustomization.yaml", Image: "api", New: "ghcr.io/acme/api:2.0.0"},
		{File: "apps/a|b/kustomization.yaml", Image: "odd`name", Old: "x:1", New: "x:2"},
	}
	run := RunLink{ServerURL: "https://github.com/", Repository: "acme/app", RunID: "4242"}
	wantBody := "Promotes container images on `production`.\n\n" +
		"| Overlay | Image | Old -> New |\n|---|---|---|\n" +
		"| `apps/api/overlays/production` | `api` | (not set) -> `ghcr.io/acme/api:2.0.0` |\n" +
		"| `apps/a\\|b` | `odd'name` | `x:1` -> `x:2` |\n" +
		"| `apps/web/overlays/production` | `web` | `ghcr.io/acme/web:1.0.0` -> `ghcr.io/acme/web:1.1.0` |\n" +
		"\nWorkflow run: https://github.com/acme/app/actions/runs/4242\n" +
		"\n<!-- gitops-promote -->\n"
	if diff := cmp.Diff(wantBody, PRBody("production", changes, run)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	reversed := []Change{changes[2], changes[1], changes[0]}
	if PRBody("production", reversed, run) != PRBody("production", changes, run) {
		t.Errorf("the body depends on the order of the changes")
	}
	if got := PRBody("main", nil, RunLink{ServerURL: "https://github.com"}); got != "Promotes container images on `main`.\n\n| Overlay | Image | Old -> New |\n|---|---|---|\n\n<!-- gitops-promote -->\n" {
		t.Errorf("body without a full run link = %q", got)
	}
}

func TestMarkBody(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Deploy it.", "Deploy it.\n\n<!-- gitops-promote -->\n"},
		{"Deploy it.\n\n<!-- gitops-promote -->\n", "Deploy it.\n\n<!-- gitops-promote -->\n"},
	}
	for _, tc := range tests {
		if got := MarkBody(tc.in); got != tc.want {
			t.Errorf("MarkBody(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPRBodyStaysUnderGitHubsLimit(t *testing.T) {
	t.Parallel()
	var many []Change
	for i := range 2000 {
		many = append(many, Change{File: fmt.Sprintf("apps/app%04d/overlays/production/kustomization.yaml", i), Image: "web", Old: "ghcr.io/acme/web:1.0.0", New: "ghcr.io/acme/web:1.1.0"})
	}
	body := PRBody("production", many, RunLink{})
	if len(body) > 65536 {
		t.Errorf("body has %d bytes, GitHub takes at most 65536", len(body))
	}
	if !strings.Contains(body, " more changes |\n") || !strings.HasSuffix(body, Marker+"\n") {
		t.Errorf("a cut body must say how many rows it left out and keep the marker; it ends %q", body[len(body)-200:])
	}
}
