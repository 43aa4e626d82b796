package ghstatus

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	ours   = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	later  = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	latest = "3333333ccccccccccccccccccccccccccccccccc"
)

func status(name string, st State, desc string) Signal {
	return Signal{Kind: KindStatus, Name: name, State: st, Description: desc, URL: "https://cd.example/applications/dev?operation=true"}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	argo := Want{Contexts: []string{"continuous-delivery/dev"}}
	tests := []struct {
		name        string
		want        Want
		view        View
		outcome     Outcome
		commit      string // the commit that decided the first target
		reason      string // substring of the verdict's reason
		warnings    int
		timeoutSays string // substring of Timeout, when waiting
	}{
		{
			name:    "success on our commit",
			want:    argo,
			view:    View{Ours: Commit{SHA: ours, Signals: []Signal{status("continuous-delivery/dev", Success, "Application dev deployed at 1111111.")}}},
			outcome: Deployed, commit: ours,
		},
		{
			name: "success on a later commit that contains ours and keeps our images",
			want: argo,
			view: View{Ours: Commit{SHA: ours}, Later: []Commit{
				{SHA: latest},
				{SHA: later, Keeps: KeepYes, Signals: []Signal{status("continuous-delivery/dev", Success, "deployed")}},
			}},
			outcome: Deployed, commit: later,
		},
		{
			name: "a later commit that reverted our image is superseded",
			want: argo,
			view: View{Ours: Commit{SHA: ours}, Later: []Commit{
				{SHA: later, Keeps: KeepNo, Signals: []Signal{status("continuous-delivery/dev", Success, "deployed")}},
			}},
			outcome: Superseded, commit: later, reason: "2222222, a later commit, changed our image values",
		},
		{
			name: "failure on ours fails at once with the description and link",
			want: argo,
			view: View{Ours: Commit{SHA: ours, Signals: []Signal{status("continuous-delivery/dev", Error, "Application dev degraded at 1111111.")}},
				Later: []Commit{{SHA: later, Keeps: KeepYes, Signals: []Signal{status("continuous-delivery/dev", Success, "deployed")}}}},
			outcome: Failed, commit: ours,
			reason: `status "continuous-delivery/dev" is error on 1111111: Application dev degraded at 1111111. (https://cd.example/applications/dev?operation=true)`,
		},
		{
			name: "failure on a later commit names it",
			want: argo,
			view: View{Ours: Commit{SHA: ours}, Later: []Commit{
				{SHA: later, Keeps: KeepYes, Signals: []Signal{status("continuous-delivery/dev", Failure, "Application dev sync failed")}},
			}},
			outcome: Failed, commit: later, reason: "applied together with 2222222, which failed: status \"continuous-delivery/dev\" is failure: Application dev sync failed",
		},
		{
			name: "the newest later commit decides: a fix after a failure deploys",
			want: argo,
			view: View{Ours: Commit{SHA: ours}, Later: []Commit{
				{SHA: latest, Keeps: KeepYes, Signals: []Signal{status("continuous-delivery/dev", Success, "deployed")}},
				{SHA: later, Keeps: KeepYes, Signals: []Signal{status("continuous-delivery/dev", Failure, "sync failed")}},
			}},
			outcome: Deployed, commit: latest,
		},
		{
			name:        "missing failure status: nothing posted, it waits and the timeout names the cause",
			want:        argo,
			view:        View{Ours: Commit{SHA: ours, Signals: []Signal{status("ci/build", Success, "built")}}},
			outcome:     Waiting,
			timeoutSays: `continuous-delivery/dev: never appeared (GitHub shows status "ci/build")`,
		},
		{
			name:        "pending waits",
			want:        argo,
			view:        View{Ours: Commit{SHA: ours, Signals: []Signal{status("continuous-delivery/dev", Pending, "syncing")}}},
			outcome:     Waiting,
			timeoutSays: `continuous-delivery/dev: status "continuous-delivery/dev" is pending on 1111111`,
		},
		{
			name: "Flux's suffixed context matches a glob",
			want: Want{Contexts: []string{"kustomization/demo/*"}},
			view: View{Ours: Commit{SHA: ours, Signals: []Signal{
				status("kustomization/demo-canary/eb4e6944", Failure, "health check failed"),
				status("kustomization/demo/eb4e6944", Success, "reconciliation succeeded"),
			}}},
			outcome: Deployed, commit: ours,
		},
		{
			name: "Flux's health check failed on ours",
			want: Want{Contexts: []string{"kustomization/demo/*"}},
			view: View{Ours: Commit{SHA: ours, Signals: []Signal{
				{Kind: KindStatus, Name: "kustomization/demo/eb4e6944", State: Failure, Description: "health check failed"},
			}}},
			outcome: Failed, commit: ours, reason: "health check failed",
		},
		{
			name:    "two clusters are two contexts: one done is not enough",
			want:    Want{Contexts: []string{"continuous-delivery/dev-eu", "continuous-delivery/dev-us"}},
			view:    View{Ours: Commit{SHA: ours, Signals: []Signal{status("continuous-delivery/dev-eu", Success, "deployed")}}},
			outcome: Waiting, commit: ours,
			timeoutSays: "continuous-delivery/dev-us: never appeared",
		},
		{
			name: "two clusters are two contexts: both done, on different commits",
			want: Want{Contexts: []string{"continuous-delivery/dev-eu", "continuous-delivery/dev-us"}},
			view: View{Ours: Commit{SHA: ours, Signals: []Signal{status("continuous-delivery/dev-eu", Success, "deployed")}},
				Later: []Commit{{SHA: later, Signals: []Signal{status("continuous-delivery/dev-us", Success, "deployed")}}}},
			outcome: Deployed, commit: ours,
		},
		{
			name:    "a check run counts like a status",
			want:    Want{Contexts: []string{"argocd/dev"}},
			view:    View{Ours: Commit{SHA: ours, Signals: []Signal{{Kind: KindCheck, Name: "argocd/dev", State: Success}}}},
			outcome: Deployed, commit: ours,
		},
		{
			name:    "a deployment that turned inactive after success was deployed",
			want:    Want{Environment: "dev"},
			view:    View{Ours: Commit{SHA: ours, Signals: []Signal{{Kind: KindDeployment, Name: "dev", State: Inactive, Succeeded: true}}}},
			outcome: Deployed, commit: ours,
		},
		{
			name: "a deployment turned inactive before success: the later one decides",
			want: Want{Environment: "dev"},
			view: View{Ours: Commit{SHA: ours, Signals: []Signal{{Kind: KindDeployment, Name: "dev", State: Inactive}}},
				Later: []Commit{{SHA: later, Keeps: KeepYes, Signals: []Signal{{Kind: KindDeployment, Name: "dev", State: Success}}}}},
			outcome: Deployed, commit: later,
		},
		{
			name:        "a deployment turned inactive before success and nothing later waits",
			want:        Want{Environment: "dev"},
			view:        View{Ours: Commit{SHA: ours, Signals: []Signal{{Kind: KindDeployment, Name: "dev", State: Inactive}}}},
			outcome:     Waiting,
			timeoutSays: `deployment dev: deployment "dev" is inactive on 1111111`,
		},
		{
			name:    "a deployment in another environment does not count",
			want:    Want{Environment: "prod"},
			view:    View{Ours: Commit{SHA: ours, Signals: []Signal{{Kind: KindDeployment, Name: "dev", State: Success}}}},
			outcome: Waiting,
		},
		{
			name: "statuses and deployment together: all must confirm",
			want: Want{Contexts: []string{"continuous-delivery/dev"}, Environment: "dev"},
			view: View{Ours: Commit{SHA: ours, Signals: []Signal{status("continuous-delivery/dev", Success, "deployed"),
				{Kind: KindDeployment, Name: "dev", State: Failure, Description: "rollout failed"}}}},
			outcome: Failed, commit: ours, reason: "rollout failed",
		},
		{
			name:    "on-sync-succeeded words are confirmed but warned about",
			want:    argo,
			view:    View{Ours: Commit{SHA: ours, Signals: []Signal{status("continuous-delivery/dev", Success, "Application dev sync succeeded at 1111111.")}}},
			outcome: Deployed, commit: ours, warnings: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Decide(tc.want, tc.view)
			if got.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s; verdict %+v", got.Outcome, tc.outcome, got)
			}
			if tc.commit != "" && got.Targets[0].Commit != tc.commit {
				t.Errorf("decided by %q, want %q; verdict %+v", got.Targets[0].Commit, tc.commit, got)
			}
			if !strings.Contains(got.Reason, tc.reason) || (tc.reason == "") != (got.Reason == "") {
				t.Errorf("reason %q, want it to contain %q", got.Reason, tc.reason)
			}
			if len(got.Warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", got.Warnings, tc.warnings)
			}
			if tc.timeoutSays != "" {
				if msg := Timeout(tc.want, tc.view, got); !strings.Contains(msg, tc.timeoutSays) {
					t.Errorf("timeout says %q, want it to contain %q", msg, tc.timeoutSays)
				}
			}
		})
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		match   []string
		miss    []string
	}{
		{"kustomization/apps/*", []string{"kustomization/apps/eb4e6944"}, []string{"kustomization/apps", "kustomization/apps-x/eb4e6944"}},
		{"continuous-delivery/*", []string{"continuous-delivery/dev", "continuous-delivery/a/b"}, []string{"ci/dev"}},
		{"a.b", []string{"a.b"}, []string{"axb"}},
	}
	for _, tc := range tests {
		re := Glob(tc.pattern)
		var gotMatch, gotMiss []string
		for _, s := range tc.match {
			if !re.MatchString(s) {
				gotMatch = append(gotMatch, s)
			}
		}
		for _, s := range tc.miss {
			if re.MatchString(s) {
				gotMiss = append(gotMiss, s)
			}
		}
		if diff := cmp.Diff([]string(nil), append(gotMatch, gotMiss...)); diff != "" {
			t.Errorf("%q matched wrongly (-want +got):\n%s", tc.pattern, diff)
		}
	}
}
