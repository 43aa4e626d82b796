package promote

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

const prodUser = "apps/user-service/overlays/production/kustomization.yaml"

var fastRetry = Retry{Attempts: 10, Initial: time.Millisecond, Max: 2 * time.Millisecond, MaxElapsed: 5 * time.Second}

func testConfig(mods ...func(*config.Config)) *config.Config {
	c := config.Default()
	c.Images = []string{"ghcr.io/acme/user-service:1.4.2"}
	c.Overlays = []string{"apps/user-service/overlays/production"}
	c.Branch = "main"
	c.RepositoryURL = "https://github.example/acme/config.git"
	for _, m := range mods {
		m(c)
	}
	return c
}

type logs struct{ lines []string }

func (l *logs) logf(format string, args ...any) {
	l.lines = append(l.lines, fmtLine(format, args...))
}

func fmtLine(format string, args ...any) string {
	return strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " "))
}

func TestRunPushLandsOneCommit(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	old := r.branches["main"]
	p := New(r, WithRetry(fastRetry))
	res, err := p.Run(context.Background(), testConfig())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := &Result{
		Changed: true, LandedBy: LandedByPush, Branch: "main", Base: old, Attempts: 1,
		Changes: []kustomize.Change{{File: prodUser, Image: "ghcr.io/acme/user-service", Old: "ghcr.io/acme/user-service:1.4.0", New: "ghcr.io/acme/user-service:1.4.2"}},
	}
	want.CommitSHA, want.Revision = r.branches["main"], r.branches["main"]
	if diff := cmp.Diff(want, res, cmpopts.IgnoreFields(Result{}, "Files", "Timings", "Warnings", "Rendered")); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
	if got := r.file("main", prodUser); !strings.Contains(got, `newTag: "1.4.2" # promoted from staging`) {
		t.Errorf("pushed file:\n%s\nwant the tag set with its comment kept", got)
	}
	c := r.commits[r.branches["main"]]
	if c.parent != old || !strings.HasPrefix(c.msg, "Deploy ghcr.io/acme/user-service:1.4.2 to apps/user-service/overlays/production\n") {
		t.Errorf("commit parent %s message %q", c.parent, c.msg)
	}
	if diff := cmp.Diff(Author{Name: "github-actions[bot]", Email: "41898282+github-actions[bot]@users.noreply.github.com"}, c.author); diff != "" {
		t.Errorf("author (-want +got):\n%s", diff)
	}

	// A second run finds nothing to change: no commit.
	head := r.branches["main"]
	res, err = p.Run(context.Background(), testConfig())
	if err != nil || res.Changed || r.branches["main"] != head {
		t.Errorf("second run: changed=%v err=%v head moved=%v; want a no-op", res.Changed, err, r.branches["main"] != head)
	}
}

func TestRunRaceReappliesTheEdit(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	old := r.branches["main"]
	// Two other pipelines land before our first two pushes: one bumps the
	// same file's other content (replicas), one another overlay.
	r.beforePush = func(r *fakeRemote, n int) {
		switch n {
		case 1:
			r.commitOn("main", func(f map[string][]byte) {
				f[prodUser] = []byte(strings.Replace(string(f[prodUser]), "count: 3", "count: 5", 1))
			})
		case 2:
			r.commitOn("main", func(f map[string][]byte) { f["README.md"] = []byte("other\n") })
		}
	}
	var l logs
	p := New(r, WithRetry(fastRetry), WithLogf(l.logf))
	res, err := p.Run(context.Background(), testConfig())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Attempts != 3 {
		t.Errorf("Attempts = %d, want 3", res.Attempts)
	}
	got := r.file("main", prodUser)
	if !strings.Contains(got, "count: 5") || !strings.Contains(got, `newTag: "1.4.2"`) {
		t.Errorf("file on main keeps both changes? got:\n%s", got)
	}
	if ok, _ := r.Contains(context.Background(), "main", r.branches["main"], old); !ok {
		t.Error("the old head is not an ancestor: history was rewritten")
	}
	var retries int
	for _, line := range l.lines {
		if strings.Contains(line, "re-applying the edit") {
			retries++
		}
	}
	if retries != 2 {
		t.Errorf("logged %d retries, want 2; log:\n%s", retries, strings.Join(l.lines, "\n"))
	}
}

func TestRunRaceWithOurImagesIsANoOp(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	var theirs string
	r.beforePush = func(r *fakeRemote, n int) {
		if n == 1 {
			theirs = r.commitOn("main", func(f map[string][]byte) {
				f[prodUser] = []byte(strings.Replace(string(f[prodUser]), `"1.4.0"`, `"1.4.2"`, 1))
			})
		}
	}
	res, err := New(r, WithRetry(fastRetry)).Run(context.Background(), testConfig())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Changed || res.CommitSHA != "" || r.branches["main"] != theirs || r.pushes != 1 {
		t.Errorf("changed=%v commit=%q head is theirs=%v pushes=%d; want a no-op after the race", res.Changed, res.CommitSHA, r.branches["main"] == theirs, r.pushes)
	}
}

func TestRunRaceGivesUpWithinBounds(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	r.beforePush = func(r *fakeRemote, n int) {
		r.commitOn("main", func(f map[string][]byte) { f["x"] = []byte{byte(n)} })
	}
	_, err := New(r, WithRetry(Retry{Attempts: 4, Initial: time.Millisecond, Max: time.Millisecond, MaxElapsed: 5 * time.Second})).Run(context.Background(), testConfig())
	var h interface{ Hint() string }
	if !errors.Is(err, ErrNonFastForward) || !errors.As(err, &h) || r.pushes != 4 {
		t.Fatalf("err = %v, pushes = %d; want a non-fast-forward error with a hint after 4 pushes", err, r.pushes)
	}
}

func TestRunProtectedBranch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mode     config.Mode
		github   bool
		wantHint string
		wantErr  bool
	}{
		{name: "push mode gives the hint", mode: config.ModePush, github: true, wantErr: true, wantHint: "main is protected: use mode: pull-request (or auto) to land through a pull request"},
		{name: "auto without the API explains", mode: config.ModeAuto, wantErr: true, wantHint: "mode auto lands a protected branch through a pull request, which needs the GitHub API and a token: give token (and github-api-url where the repository is not on github.com), or change the protection"},
		{name: "auto goes to a pull request", mode: config.ModeAuto, github: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFakeRemote(t, "main")
			r.protected["main"] = true
			old := r.branches["main"]
			opts := []Option{WithRetry(fastRetry)}
			gh := &fakeGitHub{r: r}
			if tc.github {
				opts = append(opts, WithGitHub(gh))
			}
			res, err := New(r, opts...).Run(context.Background(), testConfig(func(c *config.Config) { c.Mode = tc.mode }))
			if tc.wantErr {
				var h interface{ Hint() string }
				if !errors.As(err, &h) || h.Hint() != tc.wantHint {
					t.Fatalf("err = %v; want hint %q", err, tc.wantHint)
				}
				if !errors.Is(err, ErrProtected) || r.branches["main"] != old {
					t.Errorf("err is protected = %v, main moved = %v", errors.Is(err, ErrProtected), r.branches["main"] != old)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			prBranch := PRBranch("main", []string{"apps/user-service/overlays/production"})
			want := &Result{
				Changed: true, LandedBy: LandedByPullRequest, PullRequestNumber: 7,
				PullRequestURL: "https://github.example/acme/config/pull/7", Merged: true,
				CommitSHA: r.branches[prBranch], Revision: r.branches["main"], Branch: "main", PRBranch: prBranch, Base: old, Attempts: 1,
			}
			if diff := cmp.Diff(want, res, cmpopts.IgnoreFields(Result{}, "Files", "Timings", "Warnings", "Changes", "Rendered")); diff != "" {
				t.Errorf("Result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"squash"}, gh.merges); diff != "" {
				t.Errorf("merge requests (-want +got):\n%s", diff)
			}
			wantChange := kustomize.Change{File: "apps/user-service/overlays/production/kustomization.yaml", Image: "ghcr.io/acme/user-service", Old: "ghcr.io/acme/user-service:1.4.0", New: "ghcr.io/acme/user-service:1.4.2"}
			// Body "" asks the adapter for the generated body (table, run link, marker).
			if len(gh.specs) != 1 || gh.specs[0].Title != "Deploy ghcr.io/acme/user-service:1.4.2 to apps/user-service/overlays/production" || gh.specs[0].Body != "" || len(gh.specs[0].Changes) != 1 || gh.specs[0].Changes[0] != wantChange {
				t.Errorf("PR specs: %+v", gh.specs)
			}
		})
	}
}

func TestRunAPICommitRetriesStaleData(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	gh := &fakeGitHub{r: r}
	calls := 0
	racy := &racyGitHub{fakeGitHub: gh, before: func() {
		calls++
		if calls == 1 { // another pipeline lands between our read and our commit
			r.mu.Lock()
			r.commitOn("main", func(f map[string][]byte) { f["y"] = []byte("y") })
			r.mu.Unlock()
		}
	}}
	cfg := testConfig(func(c *config.Config) { c.Mode, c.CommitMethod = config.ModePush, config.CommitAPI })
	res, err := New(r, WithRetry(fastRetry), WithGitHub(racy)).Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	c := r.commits[r.branches["main"]]
	if res.Attempts != 2 || res.Revision != r.branches["main"] || string(c.files["y"]) != "y" || !strings.Contains(string(c.files[prodUser]), `"1.4.2"`) {
		t.Errorf("attempts=%d, revision is head=%v; want 2 attempts and our commit on top of theirs", res.Attempts, res.Revision == r.branches["main"])
	}
}

func TestRunPullRequestAPICommitStartsFromTheBase(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	base := r.branches["main"]
	gh := &fakeGitHub{r: r}
	var specs []CommitSpec
	spy := &racyGitHub{fakeGitHub: gh, before: func() {}, spy: &specs}
	cfg := testConfig(func(c *config.Config) {
		c.Mode, c.CommitMethod, c.AutoMerge, c.WaitForMerge, c.PRBranch = config.ModePullRequest, config.CommitAPI, false, false, "deploy/prod"
	})
	res, err := New(r, WithRetry(fastRetry), WithGitHub(spy)).Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(specs) != 1 || specs[0].Branch != "deploy/prod" || specs[0].BaseOid != base || specs[0].ExpectedHead != base {
		t.Errorf("API commits: %+v; want one on deploy/prod from the base head %s", specs, base)
	}
	if res.Merged || res.Revision != "" || res.PullRequestNumber != 7 || len(gh.merges) != 0 || r.branches["main"] != base {
		t.Errorf("merged=%v revision=%q pr=%d merges=%v; want an open PR, nothing merged", res.Merged, res.Revision, res.PullRequestNumber, gh.merges)
	}
}

type racyGitHub struct {
	*fakeGitHub
	before func()
	spy    *[]CommitSpec
}

func (g *racyGitHub) CommitOnBranch(ctx context.Context, spec CommitSpec) (string, error) {
	g.before()
	if g.spy != nil {
		*g.spy = append(*g.spy, spec)
	}
	return g.fakeGitHub.CommitOnBranch(ctx, spec)
}

func TestRunConfirmsInArgoCD(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	argo := &fakeArgo{}
	var phases []string
	obs := observerFunc(func(ph Phase, start bool) {
		if start {
			phases = append(phases, string(ph))
		}
	})
	cfg := testConfig(func(c *config.Config) {
		c.ArgoCDApps, c.ArgoCDRefresh, c.ArgoCDSync = []string{"argocd/user-service-production"}, config.RefreshHard, true
	})
	res, err := New(r, WithRetry(fastRetry), WithArgoCD(argo), WithObserver(obs)).Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Deployed || len(res.Apps) != 1 || res.Apps[0].Health != "Healthy" {
		t.Errorf("deployed=%v apps=%+v", res.Deployed, res.Apps)
	}
	if diff := cmp.Diff([]string{"fetch", "edit", "validate", "land", "confirm"}, phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	s := argo.specs[0]
	if s.Revision != r.branches["main"] || s.Refresh != "hard" || !s.Sync || s.RepoURL != cfg.RepositoryURL {
		t.Errorf("wait spec: %+v", s)
	}
}

type observerFunc func(ph Phase, start bool)

func (f observerFunc) PhaseStart(ph Phase)                         { f(ph, true) }
func (f observerFunc) PhaseEnd(ph Phase, _ time.Duration, _ error) { f(ph, false) }

func TestRunDryRunLandsNothing(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	head := r.branches["main"]
	res, err := New(r).Run(context.Background(), testConfig(func(c *config.Config) { c.DryRun = true }))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Changed || len(res.Files) != 1 || r.branches["main"] != head || r.pushes != 0 {
		t.Errorf("changed=%v files=%d pushes=%d; want the change shown and nothing pushed", res.Changed, len(res.Files), r.pushes)
	}
}

func TestRequestRefusesBadImages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		images []string
		from   string
		want   string
	}{
		{name: "empty tag", images: []string{"app:"}, want: "images: image \"app:\""},
		{name: "twice", images: []string{"app:1", "app:2"}, want: `images: "app:1" and "app:2" both set image "app"; give each image once`},
		{name: "tag with promote-from", images: []string{"app:1"}, from: "o", want: `images: image "app:1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFakeRemote(t, "main")
			_, err := New(r).Run(context.Background(), testConfig(func(c *config.Config) { c.Images, c.PromoteFrom = tc.images, tc.from }))
			var bad interface{ BadInput() bool }
			if !errors.As(err, &bad) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a bad input starting %q", err, tc.want)
			}
			if r.fetches != 0 {
				t.Error("fetched before refusing the images")
			}
		})
	}
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	res := &Result{Changed: true, LandedBy: "pull-request", PullRequestNumber: 12, Changes: []kustomize.Change{{File: "a/kustomization.yaml", Image: "x", Old: "x:1", New: "x:2"}}}
	want := []Output{
		{"changed", "true"}, {"landed-by", "pull-request"}, {"commit-sha", ""}, {"pull-request-number", "12"},
		{"pull-request-url", ""}, {"merged", "false"}, {"revision", ""}, {"deployed", "false"},
		{"changes", `[{"file":"a/kustomization.yaml","image":"x","old":"x:1","new":"x:2"}]`},
		{"superseded", "false"},
	}
	if diff := cmp.Diff(want, res.Outputs()); diff != "" {
		t.Errorf("Outputs (-want +got):\n%s", diff)
	}
	overlays := []string{"apps/b/overlays/production", "apps/a/overlays/production"}
	if got, want := PRBranch("main", overlays), "gitops-promote/main/5425504e"; got != want {
		t.Errorf("PRBranch = %q, want %q (sha256 of the sorted overlays)", got, want)
	}
}

func TestRunPullRequestMergedAtOnceSkipsTheWait(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	gh := &fakeGitHub{r: r, mergeNow: true}
	argo := &fakeArgo{}
	cfg := testConfig(func(c *config.Config) {
		c.Mode, c.MergeMethod, c.ArgoCDApps = config.ModePullRequest, config.MergeRebase, []string{"app"}
	})
	res, err := New(r, WithRetry(fastRetry), WithGitHub(gh), WithArgoCD(argo)).Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Merged || res.Revision != r.branches["main"] || gh.waits != 0 || !res.Deployed {
		t.Errorf("merged=%v revision is main=%v waits=%d deployed=%v; want merged at once, no wait, deployed", res.Merged, res.Revision == r.branches["main"], gh.waits, res.Deployed)
	}
	if diff := cmp.Diff([]string{"rebase"}, gh.merges); diff != "" {
		t.Errorf("merge methods (-want +got):\n%s", diff)
	}
	for _, tm := range res.Timings {
		if tm.Phase == PhaseMerge {
			t.Error("a merge phase ran for a pull request merged at once")
		}
	}
}

// TestRunPullRequestNeverConfirmsAnotherRunsChange: two runs share the pull
// request of a target. When a later run rebuilt the branch, this run must
// not report its merge as ours (a), and whatever merged, the branch must
// hold our images before Argo CD is asked (b).
func TestRunPullRequestNeverConfirmsAnotherRunsChange(t *testing.T) {
	t.Parallel()
	prBranch := PRBranch("main", []string{"apps/user-service/overlays/production"})
	laterRun := func(branch string) func(r *fakeRemote) {
		return func(r *fakeRemote) {
			base := r.branches["main"]
			files := maps.Clone(r.commits[base].files)
			files[prodUser] = []byte(strings.NewReplacer("1.4.0", "1.4.3", "1.4.2", "1.4.3").Replace(string(files[prodUser])))
			r.branches[branch] = r.store(&fakeCommit{parent: base, files: files, msg: "Deploy 1.4.3"})
		}
	}
	tests := []struct {
		name       string
		gh         fakeGitHub
		wantErr    string
		superseded string // the replacement, when the run ends superseded (no error)
		wantMerged bool
		deployed   bool
	}{
		{
			// An unmarked head is followed and judged by what merged: a later value is superseded.
			name:       "a later head replaced our value: superseded",
			gh:         fakeGitHub{beforeWait: laterRun(prBranch)},
			superseded: "ghcr.io/acme/user-service in apps/user-service/overlays/production is ghcr.io/acme/user-service:1.4.3, set by commit HEAD (pull request #7), replacing our ghcr.io/acme/user-service:1.4.2; nothing of ours to deploy",
			wantMerged: true,
		},
		{
			name:       "GitHub merged the later run's head",
			gh:         fakeGitHub{beforeWait: laterRun(prBranch), unpinned: true},
			superseded: "ghcr.io/acme/user-service in apps/user-service/overlays/production is ghcr.io/acme/user-service:1.4.3, set by commit HEAD (pull request #7), replacing our ghcr.io/acme/user-service:1.4.2; nothing of ours to deploy",
			wantMerged: true,
		},
		{
			name:       "a later change on main replaced ours after the merge",
			gh:         fakeGitHub{afterMerge: laterRun("main")},
			superseded: "ghcr.io/acme/user-service in apps/user-service/overlays/production is ghcr.io/acme/user-service:1.4.3, set by commit HEAD (pull request #7), replacing our ghcr.io/acme/user-service:1.4.2; nothing of ours to deploy",
			wantMerged: true,
		},
		{
			name: "our change went missing after the merge",
			gh: fakeGitHub{afterMerge: func(r *fakeRemote) {
				base := r.branches["main"]
				files := maps.Clone(r.commits[base].files)
				files[prodUser] = []byte(strings.ReplaceAll(string(files[prodUser]), "1.4.2", "1.4.0"))
				r.branches["main"] = r.store(&fakeCommit{parent: base, files: files, msg: "Revert"})
			}},
			wantErr:    "pull request #7 merged as MERGE, but a later change replaced our images on main at HEAD (after the merge): " + prodUser + ": ghcr.io/acme/user-service is ghcr.io/acme/user-service:1.4.0, not our ghcr.io/acme/user-service:1.4.2; not confirming someone else's commit",
			wantMerged: true,
		},
		{
			name: "a commit added on top of ours keeps the wait",
			gh: fakeGitHub{beforeWait: func(r *fakeRemote) {
				ours := r.branches[prBranch]
				files := maps.Clone(r.commits[ours].files)
				files["README.md"] = []byte("updated from main\n")
				r.branches[prBranch] = r.store(&fakeCommit{parent: ours, files: files, msg: "Merge branch 'main' into " + prBranch})
			}},
			wantMerged: true, deployed: true,
		},
		{
			name: "an unrelated change on main after the merge",
			gh: fakeGitHub{afterMerge: func(r *fakeRemote) {
				base := r.branches["main"]
				files := maps.Clone(r.commits[base].files)
				files["README.md"] = []byte("other\n")
				r.branches["main"] = r.store(&fakeCommit{parent: base, files: files, msg: "docs"})
			}},
			wantMerged: true, deployed: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFakeRemote(t, "main")
			gh := tc.gh
			gh.r = r
			argo := &fakeArgo{}
			cfg := testConfig(func(c *config.Config) { c.Mode, c.ArgoCDApps = config.ModePullRequest, []string{"app"} })
			res, err := New(r, WithRetry(fastRetry), WithGitHub(&gh), WithArgoCD(argo)).Run(context.Background(), cfg)
			if tc.superseded != "" {
				if err != nil || !res.Superseded || res.Deployed || res.Revision != "" || len(argo.specs) != 0 || len(res.Replacements) != 1 {
					t.Fatalf("Run = superseded %v deployed %v revision %q replacements %v, %v; want superseded, no error, nothing confirmed", res.Superseded, res.Deployed, res.Revision, res.Replacements, err)
				}
				got := res.Replacements[0].String(res.PullRequestNumber)
				got = strings.ReplaceAll(got, short(r.branches["main"]), "HEAD")
				got = strings.ReplaceAll(got, short(res.Replacements[0].Commit), "MERGE")
				if got != tc.superseded {
					t.Errorf("replacement:\n%s\nwant:\n%s", got, tc.superseded)
				}
				return
			}
			if tc.wantErr == "" {
				if err != nil || !res.Deployed || len(argo.specs) != 1 {
					t.Fatalf("Run = deployed %v, %v; want deployed", res.Deployed, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Run succeeded (deployed=%v); want %q", res.Deployed, tc.wantErr)
			}
			got := err.Error()
			if res.Revision != "" {
				got = strings.ReplaceAll(got, short(res.Revision), "MERGE")
			}
			got = strings.ReplaceAll(got, short(r.branches["main"]), "HEAD")
			if got != tc.wantErr {
				t.Errorf("error:\n%s\nwant:\n%s", got, tc.wantErr)
			}
			if res.Deployed || len(argo.specs) != 0 || res.Merged != tc.wantMerged {
				t.Errorf("deployed=%v merged=%v Argo CD asked %d times; want deployed=false merged=%v, Argo CD not asked", res.Deployed, res.Merged, len(argo.specs), tc.wantMerged)
			}
			var h interface{ Hint() string }
			if tc.wantMerged && (!errors.As(err, &h) || h.Hint() == "") {
				t.Errorf("the replaced error has no hint")
			}
			if exit := errors.As(err, new(interface{ BadInput() bool })); exit {
				t.Errorf("a lost race is not bad input")
			}
		})
	}
}

// TestRunAutoReusesTheRefusedCommit: in auto mode the pull request branch
// gets our change on the base the protected branch refused, marked as ours.
func TestRunAutoReusesTheRefusedCommit(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	r.protected["main"] = true
	before := len(r.commits)
	gh := &fakeGitHub{r: r}
	res, err := New(r, WithRetry(fastRetry), WithGitHub(gh)).Run(context.Background(), testConfig(func(c *config.Config) { c.Mode = config.ModeAuto }))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The refused commit, ours again with the pull request branch's marker, and the merge.
	if got := len(r.commits) - before; got != 3 {
		t.Errorf("%d commits were made, want 3 (the refused one, ours marked for the pull request, the merge)", got)
	}
	if c := r.commits[res.CommitSHA]; c == nil || c.parent != res.Base || !strings.Contains(c.msg, TrailerKey+": "+res.PRBranch) {
		t.Errorf("the pull request's commit %s is not ours on the base with our marker", res.CommitSHA)
	}
}
