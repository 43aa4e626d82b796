package githubsim

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = testGitEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestRESTMergeFollowsProtection(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{Protected: []string{"main"}, RequiredChecks: []string{"ci"}, Ruleset: true})
	if code, _ := do(t, s, "POST", "/repos/acme/config/pulls", "tok", map[string]any{"title": "Bump web", "head": "feature", "base": "main"}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	code, got := do(t, s, "PUT", "/repos/acme/config/pulls/1/merge", "tok", map[string]any{"merge_method": "squash"})
	want := map[string]any{"message": "Repository rule violations found\n\nRequired status check \"ci\" is expected.\n\n",
		"documentation_url": "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request", "status": "405"}
	if code != 405 {
		t.Errorf("merge while blocked: status %d, want 405", code)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merge while blocked (-want +got):\n%s", diff)
	}
	if err := s.SetChecksPassing("acme/config", true); err != nil {
		t.Fatal(err)
	}
	code, got = do(t, s, "PUT", "/repos/acme/config/pulls/1/merge", "tok", map[string]any{"merge_method": "squash"})
	if code != 200 || got["merged"] != true {
		t.Fatalf("merge: %d %v", code, got)
	}
	dir := s.bareDir("acme", "config")
	main := gitOut(t, dir, "rev-parse", "main")
	if got["sha"] != main {
		t.Errorf("merge sha %v, main is %s", got["sha"], main)
	}
	if msg := gitOut(t, dir, "log", "-1", "--format=%s%n%b%n%cn", "main"); msg != "Bump web (#1)\n* bump web to 2\n\nGitHub" {
		t.Errorf("squash commit message/committer:\n%s", msg)
	}
	code, _ = do(t, s, "PATCH", "/repos/acme/config/git/refs/heads/main", "tok", map[string]any{"sha": main, "force": true})
	if code != 422 {
		t.Errorf("ref update of a protected branch: %d, want 422", code)
	}
}

func TestRebaseMergeReplaysEachCommit(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	dir := s.bareDir("acme", "config")
	// A second commit on the feature branch, and main moves on meanwhile.
	feat := gitOut(t, dir, "rev-parse", "feature")
	idx := filepath.Join(t.TempDir(), "index")
	blob := strings.TrimSpace(runIn(t, dir, nil, "notes\n", "hash-object", "-w", "--stdin"))
	env := []string{"GIT_INDEX_FILE=" + idx}
	runIn(t, dir, env, "", "read-tree", feat)
	runIn(t, dir, env, "", "update-index", "--add", "--cacheinfo", "100644,"+blob+",NOTES")
	tree := strings.TrimSpace(runIn(t, dir, env, "", "write-tree"))
	second := strings.TrimSpace(runIn(t, dir, nil, "", "commit-tree", tree, "-p", feat, "-m", "add notes"))
	gitOut(t, dir, "update-ref", "refs/heads/feature", second)
	base := gitOut(t, dir, "rev-parse", "main")
	runIn(t, dir, env, "", "read-tree", base)
	runIn(t, dir, env, "", "update-index", "--add", "--cacheinfo", "100644,"+blob+",OTHER")
	tree = strings.TrimSpace(runIn(t, dir, env, "", "write-tree"))
	moved := strings.TrimSpace(runIn(t, dir, nil, "", "commit-tree", tree, "-p", base, "-m", "unrelated"))
	gitOut(t, dir, "update-ref", "refs/heads/main", moved)

	if code, _ := do(t, s, "POST", "/repos/acme/config/pulls", "tok", map[string]any{"title": "t", "head": "feature", "base": "main"}); code != 201 {
		t.Fatalf("create: %d", code)
	}
	code, got := do(t, s, "PUT", "/repos/acme/config/pulls/1/merge", "tok", map[string]any{"merge_method": "rebase"})
	if code != 200 {
		t.Fatalf("rebase merge: %d %v", code, got)
	}
	log := gitOut(t, dir, "log", "--format=%s|%an|%cn", "main")
	want := "add notes|t|GitHub\nbump web to 2|t|GitHub\nunrelated|t|t\ninitial|t|t"
	if log != want {
		t.Errorf("main after a rebase merge:\n%s\nwant\n%s", log, want)
	}
	if files := gitOut(t, dir, "ls-tree", "-r", "--name-only", "main"); files != "NOTES\nOTHER\napps/web/kustomization.yaml" {
		t.Errorf("files on main: %q", files)
	}
}

func runIn(t *testing.T, dir string, env []string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(testGitEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestCreateCommitOnBranchStaleDataShape(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	q := `mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }`
	stale := strings.Repeat("a", 40)
	vars := map[string]any{"input": map[string]any{
		"branch":          map[string]any{"repositoryNameWithOwner": "acme/config", "branchName": "feature"},
		"expectedHeadOid": stale, "message": map[string]any{"headline": "x"},
		"fileChanges": map[string]any{"additions": []any{map[string]any{"path": "a.txt", "contents": "aGk="}}},
	}}
	_, got := do(t, s, "POST", "/graphql", "tok", map[string]any{"query": q, "variables": vars})
	want := map[string]any{
		"data": map[string]any{"createCommitOnBranch": nil},
		"errors": []any{map[string]any{"type": "STALE_DATA", "path": []any{"createCommitOnBranch"},
			"message": `Expected branch to point to "` + stale + `" but it did not. Pull and try again.`}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("STALE_DATA answer (-want +got):\n%s", diff)
	}
	if n := s.Requests()["POST /graphql mutation createCommitOnBranch"]; n != 1 {
		t.Errorf("counted %d createCommitOnBranch requests, want 1:\n%s", n, s.RequestLines())
	}
}

func TestInjectedFaults(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	s.InjectFaults(Fault{Status: 403, RetryAfter: 5}, Fault{Status: 429})
	req, _ := http.NewRequest("GET", s.URL()+"/repos/acme/config", nil)
	req.Header.Set("Authorization", "token tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Retry-After") != "5" || !strings.HasPrefix(body["message"].(string), "You have exceeded a secondary rate limit.") {
		t.Errorf("first: %d Retry-After %q %v", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if code, _ := do(t, s, "GET", "/repos/acme/config", "tok", nil); code != 429 {
		t.Errorf("second: %d, want 429", code)
	}
	if code, body := do(t, s, "GET", "/repos/acme/config", "tok", nil); code != 200 || body["full_name"] != "acme/config" {
		t.Errorf("third: %d %v, want the repository", code, body)
	}
	if n := s.Requests()["GET /repos/{owner}/{repo}"]; n != 3 {
		t.Errorf("counted %d, want 3", n)
	}
}
