package promote

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/config"
)

// fakeConfirmer confirms, fails, or blocks until its context ends.
type fakeConfirmer struct {
	name      string
	fail      error // returned at once
	block     bool  // wait for ctx
	preflight error
	specs     []ConfirmSpec
	checked   []PreflightSpec
}

func (f *fakeConfirmer) Name() string { return f.name }

func (f *fakeConfirmer) Confirm(ctx context.Context, s ConfirmSpec) ([]AppStatus, error) {
	f.specs = append(f.specs, s)
	st := []AppStatus{{App: f.name + "-target", Result: "deployed", Revision: s.Revision}}
	switch {
	case f.fail != nil:
		st[0].Result = "failed"
		return st, f.fail
	case f.block:
		<-ctx.Done()
		st[0].Result = "waiting"
		return st, ctx.Err()
	}
	return st, nil
}

func (f *fakeConfirmer) Preflight(_ context.Context, s PreflightSpec) error {
	f.checked = append(f.checked, s)
	return f.preflight
}

type badInput struct{ msg string }

func (e badInput) Error() string  { return e.msg }
func (e badInput) BadInput() bool { return true }

func TestRunConfirmsWithEveryConfirmer(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	gh, flux := &fakeConfirmer{name: "GitHub"}, &fakeConfirmer{name: "Flux"}
	res, err := New(r, WithRetry(fastRetry), WithConfirmer(gh), WithConfirmer(flux)).Run(context.Background(), testConfig())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Deployed {
		t.Errorf("deployed = false, want true")
	}
	var got []string
	for _, a := range res.Apps {
		got = append(got, a.Puller+" "+a.App+" "+a.Result)
	}
	if diff := cmp.Diff([]string{"GitHub GitHub-target deployed", "Flux Flux-target deployed"}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	s := gh.specs[0]
	if s.Revision != r.branches["main"] || s.Branch != "main" || len(s.Changes) != 1 || s.Contains == nil {
		t.Errorf("confirm spec: %+v", s)
	}
	if len(gh.checked) != 1 || len(gh.checked[0].Files) != 1 || gh.checked[0].Files[0] != prodUser {
		t.Errorf("preflight specs: %+v", gh.checked)
	}
}

func TestRunOneFailedConfirmerEndsTheOthers(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	failed := &fakeConfirmer{name: "Flux", fail: errors.New("Kustomization flux-system/apps: health check failed")}
	waiting := &fakeConfirmer{name: "GitHub", block: true}
	res, err := New(r, WithRetry(fastRetry), WithConfirmer(waiting), WithConfirmer(failed)).Run(context.Background(), testConfig())
	if err == nil {
		t.Fatal("Run: no error, want the Flux failure")
	}
	want := "confirming " + short(r.branches["main"]) + " in Flux: Kustomization flux-system/apps: health check failed"
	if err.Error() != want {
		t.Errorf("error:\n got %q\nwant %q (the waiting confirmer's cancellation left out)", err, want)
	}
	if res.Deployed || res.Revision == "" {
		t.Errorf("deployed=%v revision=%q, want false and our commit", res.Deployed, res.Revision)
	}
}

func TestRunPreflightRefusalLandsNothing(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	before := r.branches["main"]
	c := &fakeConfirmer{name: "Argo CD", preflight: badInput{"application argocd/web deploys apps/web/overlays/prod, not the edited overlay"}}
	res, err := New(r, WithRetry(fastRetry), WithConfirmer(c)).Run(context.Background(), testConfig())
	var bi interface{ BadInput() bool }
	if !errors.As(err, &bi) || !bi.BadInput() {
		t.Fatalf("Run error = %v, want bad input (exit 2)", err)
	}
	if !strings.Contains(err.Error(), "checking Argo CD before landing: application argocd/web") {
		t.Errorf("error %q does not name the check", err)
	}
	if r.branches["main"] != before || res.CommitSHA != "" || len(c.specs) != 0 {
		t.Errorf("something landed or was confirmed: head %s -> %s, commit %q", before, r.branches["main"], res.CommitSHA)
	}
}

func TestWaitVerbUsesConfirmers(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	c := &fakeConfirmer{name: "GitHub"}
	cfg := testConfig(func(c *config.Config) { c.Revision = r.branches["main"] })
	res, err := New(r, WithConfirmer(c)).Wait(context.Background(), cfg)
	if err != nil || !res.Deployed {
		t.Fatalf("Wait: deployed=%v err=%v", res.Deployed, err)
	}
	if c.specs[0].Keeps != nil {
		t.Error("the wait verb knows no image values, Keeps must be nil")
	}
}

// supersededErr is what a confirmer returns when a later commit replaced
// our image values before the puller applied ours.
type supersededErr struct{}

func (supersededErr) Error() string    { return "abc1234, a later commit, changed our image values" }
func (supersededErr) Superseded() bool { return true }

func TestRunSupersededByALaterCommitIsNotAFailure(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	flux := &fakeConfirmer{name: "Flux", fail: supersededErr{}}
	waiting := &fakeConfirmer{name: "GitHub", block: true}
	res, err := New(r, WithRetry(fastRetry), WithConfirmer(waiting), WithConfirmer(flux)).Run(context.Background(), testConfig())
	if err != nil {
		t.Fatalf("Run: %v, want no error (superseded exits 0)", err)
	}
	if !res.Superseded || res.Deployed || res.Revision != r.branches["main"] {
		t.Errorf("superseded=%v deployed=%v revision=%q, want superseded, not deployed, our commit", res.Superseded, res.Deployed, res.Revision)
	}
	if diff := cmp.Diff([]string{"abc1234, a later commit, changed our image values"}, res.SupersededBy); diff != "" {
		t.Errorf("SupersededBy (-want +got):\n%s", diff)
	}
	out := map[string]string{}
	for _, o := range res.Outputs() {
		out[o.Name] = o.Value
	}
	if out["superseded"] != "true" || out["deployed"] != "false" {
		t.Errorf("outputs %v, want superseded=true deployed=false", out)
	}
}
