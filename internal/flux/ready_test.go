package flux

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The commits of the recorded run (fixtures of real kustomize-controller
// v1.9.6 and source-controller v1.9.3).
const (
	rev1    = "5594076e79761945cb49a4ad5ffa3f699a8fe3c2" // first apply
	v110    = "39759113c28218532e32329c97542d56cd361456" // image bump to v1.1.0
	broken  = "e8ede23cb0e4d46c66550ba0e7e0692fab2b2dea" // v1.2.0-broken
	v130    = "8c7aeab4495ec5884a4c30e68f1c4d596bc4e22c" // v1.3.0 on top
	token11 = "2026-12-06T21:44:21.407154490Z"           // the request handled in run1-ks-ready-v1.1.0
	token12 = "2026-12-06T21:44:31.535702855Z"           // the next request
)

func loadKS(t *testing.T, name string) *Kustomization {
	t.Helper()
	var ks Kustomization
	readJSON(t, name, &ks)
	return &ks
}

func loadGit(t *testing.T, name string) *GitRepository {
	t.Helper()
	var g GitRepository
	readJSON(t, name, &g)
	return &g
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
}

func TestReady(t *testing.T) {
	withReason := func(reason string) func(*Kustomization) {
		return func(ks *Kustomization) { ks.Condition("Ready").Reason = reason }
	}
	tests := []struct {
		name   string
		ks     string
		edit   func(*Kustomization)
		source func(*GitRepository) // nil: no source read
		token  string
		rels   map[string]Relation
		want   State
		reason []string // substrings of the reason
	}{
		{
			name: "race: Ready=True right after the push is still the old revision",
			ks:   "run1-ks-ready-rev1.json", rels: map[string]Relation{v110: Ours},
			want: Waiting, reason: []string{"Ready=True (ReconciliationSucceeded)", "applied main@sha1:5594076"},
		},
		{
			name: "race: Ready=True at our revision before our reconcile request is handled",
			ks:   "run1-ks-ready-v1.1.0.json", token: token12, rels: map[string]Relation{v110: Ours},
			want: Waiting, reason: []string{"our reconcile request not handled yet"},
		},
		{
			name: "deployed: Ready at ours with our request handled",
			ks:   "run1-ks-ready-v1.1.0.json", token: token11, rels: map[string]Relation{v110: Ours},
			want: Deployed, reason: []string{"Ready at main@sha1:3975911"},
		},
		{
			name: "deployed without a reconcile request",
			ks:   "run1-ks-ready-v1.1.0.json", rels: map[string]Relation{v110: Ours},
			want: Deployed,
		},
		{
			name: "deployed: a later request than ours was handled",
			ks:   "run1-ks-ready-v1.1.0.json", token: "2026-12-06T21:44:20Z", rels: map[string]Relation{v110: Ours},
			want: Deployed,
		},
		{
			name: "deployed: a later commit that contains ours and keeps our values",
			ks:   "run1-ks-ready-v1.3.0.json", rels: map[string]Relation{v130: Descendant},
			want: Deployed, reason: []string{"main@sha1:8c7aeab"},
		},
		{
			name: "superseded: a later commit replaced our image values",
			ks:   "run1-ks-ready-v1.3.0.json", rels: map[string]Relation{v130: Replaced},
			want: Superseded, reason: []string{"main@sha1:8c7aeab", "replaced our image values"},
		},
		{
			name: "superseded: Flux is applying a later commit that replaced ours",
			ks:   "run1-ks-broken.json", rels: map[string]Relation{broken: Replaced},
			want: Superseded, reason: []string{"is applying main@sha1:e8ede23"},
		},
		{
			name: "failed at once: HealthCheckFailed at ours names the Deployment",
			ks:   "run1-ks-broken.json", rels: map[string]Relation{broken: Ours},
			want: Failed, reason: []string{"Ready=False (HealthCheckFailed) at main@sha1:e8ede23", "Deployment/demo/demo status: 'Failed'"},
		},
		{
			name: "failed at once: HealthCheckFailed at a descendant of ours",
			ks:   "run1-ks-broken.json", rels: map[string]Relation{broken: Descendant},
			want: Failed, reason: []string{"HealthCheckFailed"},
		},
		{
			name: "a failure of an older revision is not ours: wait",
			ks:   "run1-ks-broken.json", rels: map[string]Relation{v130: Ours},
			want: Waiting, reason: []string{"Ready=False (HealthCheckFailed)", "attempted main@sha1:e8ede23"},
		},
		{name: "failed at once: ArtifactFailed", ks: "run1-ks-broken.json", edit: withReason("ArtifactFailed"), rels: map[string]Relation{broken: Ours}, want: Failed, reason: []string{"(ArtifactFailed)"}},
		{name: "failed at once: BuildFailed", ks: "run1-ks-broken.json", edit: withReason("BuildFailed"), rels: map[string]Relation{broken: Ours}, want: Failed, reason: []string{"(BuildFailed)"}},
		{name: "failed at once: ValidationFailed", ks: "run1-ks-broken.json", edit: withReason("ValidationFailed"), rels: map[string]Relation{broken: Ours}, want: Failed, reason: []string{"(ValidationFailed)"}},
		{name: "failed at once: apply (ReconciliationFailed)", ks: "run1-ks-broken.json", edit: withReason("ReconciliationFailed"), rels: map[string]Relation{broken: Ours}, want: Failed, reason: []string{"(ReconciliationFailed)"}},
		{name: "failed at once: PruneFailed", ks: "run1-ks-broken.json", edit: withReason("PruneFailed"), rels: map[string]Relation{broken: Ours}, want: Failed, reason: []string{"(PruneFailed)"}},
		{name: "DependencyNotReady passes by itself: wait", ks: "run1-ks-broken.json", edit: withReason("DependencyNotReady"), rels: map[string]Relation{broken: Ours}, want: Waiting, reason: []string{"DependencyNotReady"}},
		{
			name: "Ready=Unknown while progressing at ours: wait",
			ks:   "run1-ks-broken.json", rels: map[string]Relation{broken: Ours},
			edit: func(ks *Kustomization) {
				c := ks.Condition("Ready")
				c.Status, c.Reason, c.Message = "Unknown", "Progressing", "Reconciliation in progress"
			},
			want: Waiting, reason: []string{"Ready=Unknown (Progressing): Reconciliation in progress"},
		},
		{
			name: "no status yet: wait",
			ks:   "run1-ks-ready-rev1.json", rels: map[string]Relation{v110: Ours},
			edit: func(ks *Kustomization) {
				ks.Status.Conditions, ks.Status.LastAppliedRevision, ks.Status.LastAttemptedRevision = nil, "", ""
			},
			want: Waiting, reason: []string{"no Ready condition yet", "applied nothing, attempted nothing"},
		},
		{
			name: "suspended: exit at once, naming it",
			ks:   "run1-ks-ready-rev1.json", rels: map[string]Relation{v110: Ours},
			edit: func(ks *Kustomization) { ks.Spec.Suspend = true },
			want: Failed, reason: []string{"Kustomization flux-system/demo is suspended (spec.suspend: true)", "flux resume ks demo -n flux-system"},
		},
		{
			name: "suspended after it applied ours: deployed is deployed",
			ks:   "run1-ks-ready-v1.1.0.json", rels: map[string]Relation{v110: Ours},
			edit: func(ks *Kustomization) { ks.Spec.Suspend = true },
			want: Deployed,
		},
		{
			name: "source not ready: failed with its message",
			ks:   "run1-ks-ready-rev1.json", rels: map[string]Relation{v110: Ours},
			source: func(g *GitRepository) {
				c := g.Condition("Ready")
				c.Status, c.Reason, c.Message = "False", "GitOperationFailed", "failed to checkout and determine revision: unable to clone 'http://127.0.0.1:1/config.git': connection refused"
			},
			want: Failed, reason: []string{"the source GitRepository flux-system/config is not ready (GitOperationFailed): failed to checkout", "connection refused"},
		},
		{
			name: "source suspended before fetching ours",
			ks:   "run1-ks-ready-rev1.json", rels: map[string]Relation{v110: Ours},
			source: func(g *GitRepository) { g.Spec.Suspend = true },
			want:   Failed, reason: []string{"GitRepository flux-system/config is suspended", "flux resume source git config -n flux-system"},
		},
		{
			name: "source ready at the old revision: wait, saying so",
			ks:   "run1-ks-ready-rev1.json", rels: map[string]Relation{v110: Ours}, token: token12,
			source: func(g *GitRepository) {},
			want:   Waiting, reason: []string{"source at main@sha1:5594076", "our reconcile request not handled yet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Snapshot{Kustomization: loadKS(t, tt.ks), Token: tt.token, Relations: tt.rels}
			if tt.edit != nil {
				tt.edit(s.Kustomization)
			}
			if tt.source != nil {
				s.Source = loadGit(t, "run1-git-ready-rev1.json")
				tt.source(s.Source)
			}
			got := Ready(s)
			if got.State != tt.want {
				t.Fatalf("Ready() = %s (%s), want %s", got.State, got.Reason, tt.want)
			}
			for _, r := range tt.reason {
				if !strings.Contains(got.Reason, r) {
					t.Errorf("reason %q does not say %q", got.Reason, r)
				}
			}
		})
	}
}

func TestRevisionSHA(t *testing.T) {
	for in, want := range map[string]string{
		"main@sha1:" + v110:            v110,
		"main/" + v110:                 v110,
		v110:                           v110,
		"refs/heads/main@sha1:" + v110: v110,
		"latest@sha256:abc":            "",
		"":                             "",
		"main@sha1:123":                "",
	} {
		if got := RevisionSHA(in); got != want {
			t.Errorf("RevisionSHA(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRefs(t *testing.T) {
	got, err := ParseRefs([]string{"demo\n\nteam/web ", "apps"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Ref{{"flux-system", "demo"}, {"team", "web"}, {"flux-system", "apps"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ref %d = %v, want %v", i, got[i], want[i])
		}
	}
	_, err = ParseRefs([]string{"Demo\nflux-system/demo\ndemo"})
	if err == nil || !strings.Contains(err.Error(), `got "Demo"`) || !strings.Contains(err.Error(), `lists "flux-system/demo" twice`) {
		t.Errorf("ParseRefs of bad entries: %v", err)
	}
	if b, ok := err.(interface{ BadInput() bool }); !ok || !b.BadInput() {
		t.Errorf("ParseRefs error is not bad input: %T", err)
	}
}
