package githubsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testGitEnv is a hermetic git environment: no system or global config.
func testGitEnv() []string {
	return append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
}

// newRepo creates <root>/acme/config.git with a commit on main and a
// branch "feature" one commit ahead, and returns the root.
func newRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "acme", "config.git")
	git := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = testGitEnv()
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git("", "init", "--bare", "-q", "-b", "main")
	commit := func(parent, path, content, msg string) string {
		blob := git(content, "hash-object", "-w", "--stdin")
		idx := filepath.Join(t.TempDir(), "index")
		env := func(args ...string) string {
			cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
			cmd.Env = append(testGitEnv(), "GIT_INDEX_FILE="+idx)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
			return strings.TrimSpace(string(out))
		}
		if parent != "" {
			env("read-tree", parent)
		}
		env("update-index", "--add", "--cacheinfo", "100644,"+blob+","+path)
		tree := env("write-tree")
		args := []string{"commit-tree", tree, "-m", msg}
		if parent != "" {
			args = append(args, "-p", parent)
		}
		return env(args...)
	}
	base := commit("", "apps/web/kustomization.yaml", "images:\n- name: web\n  newTag: \"1\"\n", "initial")
	git("", "update-ref", "refs/heads/main", base)
	feat := commit(base, "apps/web/kustomization.yaml", "images:\n- name: web\n  newTag: \"2\"\n", "bump web to 2")
	git("", "update-ref", "refs/heads/feature", feat)
	return root
}

func startSim(t *testing.T, set RepoSettings) *Server {
	t.Helper()
	s, err := Start(WithReposRoot(newRepo(t)), WithToken("tok"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.AddRepo("acme", "config", set); err != nil {
		t.Fatal(err)
	}
	return s
}

func do(t *testing.T, s *Server, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL()+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestGraphQLRefusesFieldsGitHubLacks(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	tests := []struct {
		name  string
		query string
		want  map[string]any
	}{
		{
			name:  "unknown field",
			query: `query{repository(owner:"acme",name:"config"){autoMergeAllowed noSuchField}}`,
			want: map[string]any{"errors": []any{map[string]any{
				"message":    "Field 'noSuchField' doesn't exist on type 'Repository'",
				"locations":  []any{map[string]any{"line": 1.0, "column": 63.0}},
				"extensions": map[string]any{"code": "undefinedField", "typeName": "Repository", "fieldName": "noSuchField"},
			}}},
		},
		{
			name:  "only asked fields",
			query: `query{repository(owner:"acme",name:"config"){autoMergeAllowed pullRequest(number:1){number}}}`,
			want: map[string]any{
				"data": map[string]any{"repository": map[string]any{"autoMergeAllowed": false, "pullRequest": nil}},
				"errors": []any{map[string]any{
					"message": "Could not resolve to a PullRequest with the number of 1.", "type": "NOT_FOUND",
					"path": []any{"repository", "pullRequest"},
				}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, got := do(t, s, "POST", "/graphql", "tok", map[string]any{"query": tc.query})
			if code != 200 {
				t.Fatalf("status %d, want 200", code)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRESTErrorsAreGitHubs(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	code, got := do(t, s, "GET", "/repos/acme/config", "wrong", nil)
	if code != 401 || got["message"] != "Bad credentials" {
		t.Errorf("bad token: got %d %v, want 401 Bad credentials", code, got)
	}
	pr := map[string]any{"title": "t", "head": "feature", "base": "main"}
	if code, _ := do(t, s, "POST", "/repos/acme/config/pulls", "tok", pr); code != 201 {
		t.Fatalf("create: status %d, want 201", code)
	}
	code, got = do(t, s, "POST", "/repos/acme/config/pulls", "tok", pr)
	want := map[string]any{
		"message": "Validation Failed",
		"errors": []any{map[string]any{"resource": "PullRequest", "code": "custom",
			"message": "A pull request already exists for acme:feature."}},
		"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
		"status":            "422",
	}
	if code != 422 {
		t.Errorf("second create: status %d, want 422", code)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second create (-want +got):\n%s", diff)
	}
	counts := s.Requests()
	if counts["POST /repos/{owner}/{repo}/pulls"] != 2 || counts["GET /repos/{owner}/{repo}"] != 1 {
		t.Errorf("request counts:\n%s", s.RequestLines())
	}
}
