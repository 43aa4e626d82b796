package githubsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// get sends a GET with an optional If-None-Match and returns the status,
// headers and body.
func get(t *testing.T, s *Server, path, etag string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL()+path, nil)
	req.Header.Set("Authorization", "token tok")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

func heads(t *testing.T, s *Server) (main, feature string) {
	t.Helper()
	err := s.withRepo("acme/config", func(r *repoState) error {
		main, feature = r.git.resolve(context.Background(), "main"), r.git.resolve(context.Background(), "feature")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return main, feature
}

func TestCommitStatusesAsGitHubShowsThem(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	main, _ := heads(t, s)
	post := func(state, ctx, desc string) {
		t.Helper()
		code, got := do(t, s, "POST", "/repos/acme/config/statuses/"+main, "tok",
			map[string]any{"state": state, "context": ctx, "description": desc, "target_url": "https://cd.example/app"})
		if code != 201 || got["state"] != state || got["context"] != ctx {
			t.Fatalf("create %s %s: %d %v", ctx, state, code, got)
		}
	}
	// Argo CD's on-sync-succeeded then on-health-degraded on one context
	// (fixtures broken1.*), and two Flux Kustomizations.
	post("success", "continuous-delivery/dev", "Application dev sync succeeded")
	post("error", "continuous-delivery/dev", "Application dev degraded")
	post("success", "kustomization/demo/eb4e6944", "reconciliation succeeded")

	code, _, body := get(t, s, "/repos/acme/config/commits/main/status", "")
	var combined struct {
		State      string `json:"state"`
		SHA        string `json:"sha"`
		TotalCount int    `json:"total_count"`
		Statuses   []struct{ Context, State string }
	}
	if err := json.Unmarshal(body, &combined); code != 200 || err != nil {
		t.Fatalf("combined: %d %v %s", code, err, body)
	}
	wantCombined := []struct{ Context, State string }{{"kustomization/demo/eb4e6944", "success"}, {"continuous-delivery/dev", "error"}}
	if combined.State != "failure" || combined.SHA != main || combined.TotalCount != 2 {
		t.Errorf("combined state %q sha %q total %d, want failure %s 2", combined.State, combined.SHA, combined.TotalCount, main)
	}
	if diff := cmp.Diff(wantCombined, combined.Statuses); diff != "" {
		t.Errorf("combined statuses, latest per context, newest first (-want +got):\n%s", diff)
	}

	// Every status, newest first, two a page with GitHub's Link header.
	code, h, body := get(t, s, "/repos/acme/config/commits/"+main+"/statuses?per_page=2", "")
	var list []struct{ Context, State string }
	_ = json.Unmarshal(body, &list)
	if code != 200 || len(list) != 2 || list[0].Context != "kustomization/demo/eb4e6944" || list[1].State != "error" {
		t.Errorf("first page: %d %v", code, list)
	}
	if link := h.Get("Link"); !strings.Contains(link, `page=2&per_page=2>; rel="next"`) || !strings.Contains(link, `rel="last"`) {
		t.Errorf("Link %q, want next and last", link)
	}
	_, h, body = get(t, s, "/repos/acme/config/commits/"+main+"/statuses?per_page=2&page=2", "")
	_ = json.Unmarshal(body, &list)
	if len(list) != 1 || list[0].State != "success" || strings.Contains(h.Get("Link"), `rel="next"`) {
		t.Errorf("last page: %v, Link %q", list, h.Get("Link"))
	}

	// A conditional request for unchanged statuses is 304 and not counted.
	s.ResetRequests()
	_, h, _ = get(t, s, "/repos/acme/config/commits/main/status", "")
	code, _, body = get(t, s, "/repos/acme/config/commits/main/status", h.Get("ETag"))
	if code != http.StatusNotModified || len(body) != 0 {
		t.Errorf("conditional: %d %q, want 304 and no body", code, body)
	}
	if n := s.CountedRequests(); n != 1 {
		t.Errorf("counted %d requests, want 1 (the 304 is free):\n%s", n, s.RequestLines())
	}
	post("success", "continuous-delivery/dev", "Application dev deployed")
	if code, _, _ = get(t, s, "/repos/acme/config/commits/main/status", h.Get("ETag")); code != 200 {
		t.Errorf("after a new status: %d, want 200", code)
	}

	code, got := do(t, s, "POST", "/repos/acme/config/statuses/%3Cno%20value%3E", "tok", map[string]any{"state": "error", "context": "continuous-delivery/dev"})
	if code != 422 || got["message"] != "No commit found for SHA: <no value>" {
		t.Errorf("status on <no value>: %d %v, want 422", code, got)
	}
	if code, _ := do(t, s, "POST", "/repos/acme/config/statuses/"+main, "tok", map[string]any{"state": "done"}); code != 422 {
		t.Errorf("bad state: %d, want 422", code)
	}
}

func TestCheckRunsLatestPerName(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	main, _ := heads(t, s)
	for _, c := range []map[string]any{
		{"name": "argocd/dev", "head_sha": main, "conclusion": "failure"},
		{"name": "argocd/dev", "head_sha": main, "conclusion": "success", "details_url": "https://cd.example"},
		{"name": "lint", "head_sha": main, "status": "in_progress"},
	} {
		if code, got := do(t, s, "POST", "/repos/acme/config/check-runs", "tok", c); code != 201 {
			t.Fatalf("create %v: %d %v", c, code, got)
		}
	}
	var out struct {
		TotalCount int `json:"total_count"`
		CheckRuns  []struct {
			Name, Status string
			Conclusion   *string
		} `json:"check_runs"`
	}
	_, _, body := get(t, s, "/repos/acme/config/commits/main/check-runs?filter=latest", "")
	_ = json.Unmarshal(body, &out)
	if out.TotalCount != 2 || out.CheckRuns[1].Name != "argocd/dev" || *out.CheckRuns[1].Conclusion != "success" || out.CheckRuns[0].Status != "in_progress" {
		t.Errorf("latest: %s", body)
	}
	_, _, body = get(t, s, "/repos/acme/config/commits/main/check-runs?filter=all", "")
	_ = json.Unmarshal(body, &out)
	if out.TotalCount != 3 {
		t.Errorf("all: %s", body)
	}
}

func TestDeploymentsTurnInactiveWhenANewerOneSucceeds(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	main, feature := heads(t, s)
	deploy := func(ref, state string) float64 {
		t.Helper()
		// What Argo CD Notifications sends (fixtures bump1.on-deployed.github.*).
		code, d := do(t, s, "POST", "/repos/acme/config/deployments", "tok", map[string]any{
			"ref": ref, "auto_merge": false, "required_contexts": []string{}, "environment": "dev", "transient_environment": false})
		if code != 201 {
			t.Fatalf("create deployment: %d %v", code, d)
		}
		id := d["id"].(float64)
		if code, st := do(t, s, "POST", fmt.Sprintf("/repos/acme/config/deployments/%.0f/statuses", id), "tok",
			map[string]any{"state": state, "environment": "dev", "log_url": "https://cd.example/dev"}); code != 201 {
			t.Fatalf("create deployment status: %d %v", code, st)
		}
		return id
	}
	first := deploy(main, "success")
	deploy(feature, "success")
	states := func(id float64) []string {
		_, _, body := get(t, s, fmt.Sprintf("/repos/acme/config/deployments/%.0f/statuses", id), "")
		var list []struct{ State string }
		_ = json.Unmarshal(body, &list)
		var out []string
		for _, st := range list {
			out = append(out, st.State)
		}
		return out
	}
	if diff := cmp.Diff([]string{"inactive", "success"}, states(first)); diff != "" {
		t.Errorf("the first deployment's statuses, newest first (-want +got):\n%s", diff)
	}
	_, _, body := get(t, s, "/repos/acme/config/deployments?environment=dev&sha="+main, "")
	var list []struct{ SHA, Environment string }
	_ = json.Unmarshal(body, &list)
	if len(list) != 1 || list[0].SHA != main {
		t.Errorf("deployments of main: %s", body)
	}
	if code, _ := do(t, s, "POST", "/repos/acme/config/deployments", "tok", map[string]any{"ref": "nope"}); code != 422 {
		t.Errorf("deployment of an unknown ref: %d, want 422", code)
	}
}

func TestCompareAndCommitHistoryOverGraphQL(t *testing.T) {
	t.Parallel()
	s := startSim(t, RepoSettings{})
	main, feature := heads(t, s)
	code, got := do(t, s, "GET", "/repos/acme/config/compare/"+main+"...feature", "tok", nil)
	commits, _ := got["commits"].([]any)
	if code != 200 || got["status"] != "ahead" || got["ahead_by"] != 1.0 || len(commits) != 1 {
		t.Fatalf("compare: %d %v", code, got)
	}
	parents := commits[0].(map[string]any)["parents"].([]any)
	if commits[0].(map[string]any)["sha"] != feature || parents[0].(map[string]any)["sha"] != main {
		t.Errorf("compare commit: %v", commits[0])
	}
	if _, got = do(t, s, "GET", "/repos/acme/config/compare/feature..."+main, "tok", nil); got["status"] != "behind" {
		t.Errorf("reverse compare: %v", got["status"])
	}

	do(t, s, "POST", "/repos/acme/config/statuses/"+feature, "tok", map[string]any{"state": "success", "context": "continuous-delivery/dev", "description": "deployed"})
	do(t, s, "POST", "/repos/acme/config/check-runs", "tok", map[string]any{"name": "argocd/dev", "head_sha": feature, "conclusion": "success"})
	q := `query{repository(owner:"acme",name:"config"){object(expression:"feature"){... on Commit{oid history(first:10){nodes{oid parents(first:5){nodes{oid}} status{contexts{context state description targetUrl}} checkSuites(first:10){nodes{checkRuns(first:50,filterBy:{checkType:LATEST}){nodes{name status conclusion detailsUrl}}}}}}}}}}`
	code, got = do(t, s, "POST", "/graphql", "tok", map[string]any{"query": q})
	want := map[string]any{"data": map[string]any{"repository": map[string]any{"object": map[string]any{
		"oid": feature,
		"history": map[string]any{"nodes": []any{
			map[string]any{"oid": feature, "parents": map[string]any{"nodes": []any{map[string]any{"oid": main}}},
				"status":      map[string]any{"contexts": []any{map[string]any{"context": "continuous-delivery/dev", "state": "SUCCESS", "description": "deployed", "targetUrl": nil}}},
				"checkSuites": map[string]any{"nodes": []any{map[string]any{"checkRuns": map[string]any{"nodes": []any{map[string]any{"name": "argocd/dev", "status": "COMPLETED", "conclusion": "SUCCESS", "detailsUrl": nil}}}}}}},
			map[string]any{"oid": main, "parents": map[string]any{"nodes": []any{}}, "status": nil, "checkSuites": map[string]any{"nodes": []any{}}},
		}},
	}}}}
	if code != 200 {
		t.Fatalf("graphql: %d", code)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}
