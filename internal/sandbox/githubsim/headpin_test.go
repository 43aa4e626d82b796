package githubsim

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMutationsRefuseAStaleExpectedHeadOid: the merge mutations pinned to a
// head the pull request no longer has are refused in GitHub's words, and
// nothing merges, arms auto-merge or joins the queue.
func TestMutationsRefuseAStaleExpectedHeadOid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		set      RepoSettings
		mutation string
		input    string // the mutation's input type
		extra    map[string]any
		want     string
	}{
		{name: "merge", set: RepoSettings{}, mutation: "mergePullRequest", input: "MergePullRequestInput",
			extra: map[string]any{"mergeMethod": "SQUASH"}, want: "Head branch was modified. Review and try the merge again."},
		{name: "auto-merge", set: RepoSettings{AutoMergeAllowed: true, Protected: []string{"main"}, RequiredChecks: []string{"ci"}},
			mutation: "enablePullRequestAutoMerge", input: "EnablePullRequestAutoMergeInput",
			extra: map[string]any{"mergeMethod": "SQUASH"}, want: "Pull request Head branch was modified. Review and try the merge again."},
		{name: "merge queue", set: RepoSettings{MergeQueue: true, Protected: []string{"main"}}, mutation: "enqueuePullRequest", input: "EnqueuePullRequestInput",
			want: "Head branch was modified. Review and try the merge again."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t, tc.set)
			if code, _ := do(t, s, "POST", "/repos/acme/config/pulls", "tok", map[string]any{"title": "Bump web", "head": "feature", "base": "main"}); code != 201 {
				t.Fatalf("create: %d", code)
			}
			_, got := do(t, s, "POST", "/graphql", "tok", map[string]any{"query": `{ repository(owner: "acme", name: "config") { pullRequest(number: 1) { id } } }`})
			id := got["data"].(map[string]any)["repository"].(map[string]any)["pullRequest"].(map[string]any)["id"]
			dir := s.bareDir("acme", "config")
			main := gitOut(t, dir, "rev-parse", "main")
			input := map[string]any{"pullRequestId": id, "expectedHeadOid": strings.Repeat("b", 40)}
			for k, v := range tc.extra {
				input[k] = v
			}
			q := "mutation($input: " + tc.input + "!) { " + tc.mutation + "(input: $input) { clientMutationId } }"
			_, got = do(t, s, "POST", "/graphql", "tok", map[string]any{"query": q, "variables": map[string]any{"input": input}})
			want := map[string]any{
				"data":   map[string]any{tc.mutation: nil},
				"errors": []any{map[string]any{"type": "UNPROCESSABLE", "path": []any{tc.mutation}, "message": tc.want}},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			pulls, err := s.Pulls("acme/config")
			if err != nil {
				t.Fatal(err)
			}
			if p := pulls[0]; p.State != "OPEN" || p.AutoMerge != "" || p.InQueue || gitOut(t, dir, "rev-parse", "main") != main {
				t.Errorf("after the refusal: %+v, main moved %v; want nothing done", p, gitOut(t, dir, "rev-parse", "main") != main)
			}
		})
	}
}
