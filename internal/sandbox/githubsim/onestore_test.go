package githubsim

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A status and a check run are one record however they are made: what a
// puller posts over REST shows in the pull request's statusCheckRollup
// (with isRequired) and gates the merge, and what the SetStatus and
// SetCheckRun controls set shows (newest first) in the REST lists and in Commit.status and
// checkSuites, one suite per app.
func TestStatusesAndCheckRunsAreOneStore(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{AutoMergeAllowed: true, Protected: []string{"main"}, RequiredChecks: []string{"ci"}})
	if code, got := do(t, s, "POST", "/repos/acme/config/pulls", "tok", map[string]any{"title": "t", "head": "feature", "base": "main"}); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, got)
	}
	head, err := s.PullHead("acme/config", 1)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.SetStatus("acme/config", head, CommitStatus{Context: "lint", State: "pending", Creator: "lint-bot"}))
	must(t, s.SetCheckRun("acme/config", head, CheckRun{Name: "docs", Conclusion: "success", App: "docs-app"}))
	if code, got := do(t, s, "POST", "/repos/acme/config/check-runs", "tok", map[string]any{"name": "ci", "head_sha": head, "status": "in_progress"}); code != http.StatusCreated {
		t.Fatalf("create check run: %d %v", code, got)
	}

	_, combined := do(t, s, "GET", "/repos/acme/config/commits/"+head+"/status", "tok", nil)
	if combined["state"] != "pending" || combined["total_count"] != float64(1) {
		t.Errorf("combined status %v; want pending over the one status SetStatus set", combined)
	}
	_, runs := do(t, s, "GET", "/repos/acme/config/commits/"+head+"/check-runs", "tok", nil)
	if runs["total_count"] != float64(2) {
		t.Errorf("check runs %v; want the control's and the posted one", runs)
	}

	q := `query($n:Int!){repository(owner:"acme",name:"config"){pullRequest(number:$n){mergeStateStatus commits(last:1){nodes{commit{statusCheckRollup{state contexts(first:10){nodes{__typename ... on CheckRun{name status isRequired(pullRequestNumber:$n)} ... on StatusContext{context state isRequired(pullRequestNumber:$n)}}}}}}}}}}`
	_, got := do(t, s, "POST", "/graphql", "tok", map[string]any{"query": q, "variables": map[string]any{"n": 1}})
	want := map[string]any{"data": map[string]any{"repository": map[string]any{"pullRequest": map[string]any{
		"mergeStateStatus": "BLOCKED",
		"commits": map[string]any{"nodes": []any{map[string]any{"commit": map[string]any{"statusCheckRollup": map[string]any{
			"state": "PENDING",
			"contexts": map[string]any{"nodes": []any{
				map[string]any{"__typename": "StatusContext", "context": "lint", "state": "PENDING", "isRequired": false},
				map[string]any{"__typename": "CheckRun", "name": "ci", "status": "IN_PROGRESS", "isRequired": true},
				map[string]any{"__typename": "CheckRun", "name": "docs", "status": "COMPLETED", "isRequired": false},
			}},
		}}}}},
	}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rollup (-want +got):\n%s", diff)
	}

	q = `query($sha:GitObjectID!){repository(owner:"acme",name:"config"){object(oid:$sha){... on Commit{status{state contexts{context}} checkSuites(first:10){totalCount nodes{checkRuns(first:10,filterBy:{checkType:LATEST}){nodes{name}}}}}}}}`
	_, got = do(t, s, "POST", "/graphql", "tok", map[string]any{"query": q, "variables": map[string]any{"sha": head}})
	want = map[string]any{"data": map[string]any{"repository": map[string]any{"object": map[string]any{
		"status": map[string]any{"state": "PENDING", "contexts": []any{map[string]any{"context": "lint"}}},
		"checkSuites": map[string]any{"totalCount": float64(2), "nodes": []any{
			map[string]any{"checkRuns": map[string]any{"nodes": []any{map[string]any{"name": "docs"}}}},
			map[string]any{"checkRuns": map[string]any{"nodes": []any{map[string]any{"name": "ci"}}}},
		}},
	}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Commit.status and checkSuites (-want +got):\n%s", diff)
	}

	// The required check, posted over REST, passes: auto-merge merges.
	must(t, s.withPull("acme/config", 1, func(r *repoState, p *pull) error { p.auto = &autoMerge{method: "MERGE"}; return nil }))
	if code, got := do(t, s, "POST", "/repos/acme/config/check-runs", "tok", map[string]any{"name": "ci", "head_sha": head, "conclusion": "success"}); code != http.StatusCreated {
		t.Fatalf("create check run: %d %v", code, got)
	}
	pulls, _ := s.Pulls("acme/config")
	if pulls[0].State != "MERGED" {
		t.Errorf("pull %+v; want merged once the required check posted over REST passed", pulls[0])
	}
}
