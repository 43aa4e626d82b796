package promote

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

// The validation's builds give the rendered change: in the Result (and its
// JSON) and in the pull request's spec, with our commit.
func TestRunCarriesTheRenderedChange(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	r.protected["main"] = true
	gh := &fakeGitHub{r: r}
	res, err := New(r, WithRetry(fastRetry), WithGitHub(gh)).Run(context.Background(), testConfig(func(c *config.Config) { c.Mode = config.ModeAuto }))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Rendered) != 1 {
		t.Fatalf("rendered change: %+v, want the one Deployment", res.Rendered)
	}
	d := res.Rendered[0]
	if d.Overlay != "apps/user-service/overlays/production" || d.Object != "apps/Deployment production/user-service" || d.Change != kustomize.ObjectImages {
		t.Errorf("rendered object: %s %s %s", d.Overlay, d.Object, d.Change)
	}
	if !strings.Contains(d.Diff, "-        image: ghcr.io/acme/user-service:1.4.0\n") && !strings.Contains(d.Diff, "-      - image: ghcr.io/acme/user-service:1.4.0\n") {
		t.Errorf("diff lacks the old image line:\n%s", d.Diff)
	}
	if !strings.Contains(d.Diff, "ghcr.io/acme/user-service:1.4.2\n") {
		t.Errorf("diff lacks the new image:\n%s", d.Diff)
	}
	if len(gh.specs) != 1 || len(gh.specs[0].Rendered) != 1 || gh.specs[0].HeadSHA != res.CommitSHA || res.CommitSHA == "" {
		t.Errorf("PR spec: rendered %d, commit %q (ours %q)", len(gh.specs[0].Rendered), gh.specs[0].HeadSHA, res.CommitSHA)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Rendered []map[string]string `json:"rendered_diff"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Rendered) != 1 || out.Rendered[0]["overlay"] != d.Overlay || out.Rendered[0]["object"] != d.Object ||
		!strings.Contains(out.Rendered[0]["before"], "1.4.0") || !strings.Contains(out.Rendered[0]["after"], "1.4.2") {
		t.Errorf("rendered_diff in JSON: %s", b)
	}
}

// Without validation no build is made: no rendered change, an empty list in JSON.
func TestRunWithoutValidationRendersNothing(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	res, err := New(r, WithRetry(fastRetry)).Run(context.Background(), testConfig(func(c *config.Config) { c.ValidateOverlays, c.DryRun = false, true }))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Rendered != nil {
		t.Errorf("rendered: %+v", res.Rendered)
	}
	b, _ := json.Marshal(res)
	if !strings.Contains(string(b), `"rendered_diff":[]`) {
		t.Errorf("JSON: %s", b)
	}
}

// A retry that finds our images already set reports no rendered change.
func TestRunRaceWithOurImagesRendersNothing(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	r.beforePush = func(r *fakeRemote, n int) {
		if n == 1 {
			r.commitOn("main", func(f map[string][]byte) {
				f[prodUser] = []byte(strings.Replace(string(f[prodUser]), `"1.4.0"`, `"1.4.2"`, 1))
			})
		}
	}
	res, err := New(r, WithRetry(fastRetry)).Run(context.Background(), testConfig())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Changed || len(res.Rendered) != 0 {
		t.Errorf("changed=%v rendered=%d objects; want nothing after the race", res.Changed, len(res.Rendered))
	}
}
