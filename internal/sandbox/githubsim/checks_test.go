package githubsim

import (
	"net/http"
	"testing"
)

// Required checks gate the merge per commit: statuses from several apps
// and check runs, GitHub's combined state, a failed required check keeps
// the pull request BLOCKED, passing ones let auto-merge merge it, and with
// delete-branch-on-merge the head branch is deleted then.
func TestRequiredChecksAndDeleteBranchOnMerge(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{AutoMergeAllowed: true, Protected: []string{"main"}, RequiredChecks: []string{"ci", "scan"}, DeleteBranchOnMerge: true})
	if code, got := do(t, s, "POST", "/repos/acme/config/pulls", "tok", map[string]any{"title": "t", "head": "feature", "base": "main"}); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, got)
	}
	head, err := s.PullHead("acme/config", 1)
	if err != nil {
		t.Fatal(err)
	}
	code, st := do(t, s, "POST", "/repos/acme/config/statuses/"+head, "tok", map[string]any{"state": "success", "context": "scan", "target_url": "https://scan.example/1"})
	if code != http.StatusCreated || st["context"] != "scan" || st["target_url"] != "https://scan.example/1" {
		t.Fatalf("create status: %d %v", code, st)
	}
	if code, _ := do(t, s, "POST", "/repos/acme/config/statuses/"+head, "tok", map[string]any{"state": "green"}); code != http.StatusUnprocessableEntity {
		t.Errorf("a status state GitHub does not know: %d, want 422", code)
	}
	must(t, s.SetStatus("acme/config", head, CommitStatus{Context: "lint", State: "failure", Creator: "lint-bot"}))
	must(t, s.SetCheckRun("acme/config", head, CheckRun{Name: "ci", Conclusion: "failure", DetailsURL: "https://ci.example/1"}))
	_, combined := do(t, s, "GET", "/repos/acme/config/commits/"+head+"/status", "tok", nil)
	if combined["state"] != "failure" || combined["total_count"] != float64(2) {
		t.Errorf("combined status %v; want failure over 2 statuses", combined)
	}
	_, runs := do(t, s, "GET", "/repos/acme/config/commits/feature/check-runs", "tok", nil)
	if runs["total_count"] != float64(1) {
		t.Errorf("check runs %v; want one", runs)
	}
	_, pr := do(t, s, "GET", "/repos/acme/config/pulls/1", "tok", nil)
	if pr["mergeable_state"] != "blocked" {
		t.Errorf("mergeable_state %v with a failed required check, want blocked", pr["mergeable_state"])
	}
	_, repo := do(t, s, "GET", "/repos/acme/config", "tok", nil)
	if repo["delete_branch_on_merge"] != true {
		t.Errorf("delete_branch_on_merge %v", repo["delete_branch_on_merge"])
	}
	must(t, s.withPull("acme/config", 1, func(r *repoState, p *pull) error { p.auto = &autoMerge{method: "MERGE"}; return nil }))
	// The check is re-run and passes: auto-merge merges, the branch goes.
	must(t, s.SetCheckRun("acme/config", head, CheckRun{Name: "ci", Conclusion: "success"}))
	pulls, _ := s.Pulls("acme/config")
	if pulls[0].State != "MERGED" {
		t.Fatalf("pull %+v; want merged once the required checks passed", pulls[0])
	}
	if code, _ := do(t, s, "GET", "/repos/acme/config/git/ref/heads/feature", "tok", nil); code != http.StatusNotFound {
		t.Errorf("the head branch is still there after the merge (%d)", code)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
