package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/google/go-cmp/cmp"
)

func TestEnsurePROpensThenUpdatesTheSamePR(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{})
	ctx := context.Background()
	spec := PRSpec{Owner: owner, Repo: repoName, Base: "main", Head: "gitops-promote/main/web",
		Title: "Promote ghcr.io/acme/web:1.1.0 to main", Body: "first", Labels: []string{"deploy", "production"}, Reviewers: []string{"alice"}}
	w.prBranch("1.1.0")
	first, err := w.c.EnsurePR(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	w.prBranch("1.2.0")
	w.sim.ResetRequests()
	spec.Title, spec.Body = "Promote ghcr.io/acme/web:1.2.0 to main", "second"
	spec.Labels = append(spec.Labels, "deploy") // a repeated label is sent once
	second, err := w.c.EnsurePR(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.sim.TotalRequests(); got != 2 {
		t.Errorf("second EnsurePR made %d requests, want 2 (list, update):\n%s", got, w.sim.RequestLines())
	}
	w.sim.ResetRequests()
	third, err := w.c.EnsurePR(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.sim.TotalRequests(); got != 1 {
		t.Errorf("unchanged EnsurePR made %d requests, want 1 (list):\n%s", got, w.sim.RequestLines())
	}
	type seen struct {
		Number           int
		Created, Updated bool
	}
	gotSeen := []seen{{first.Number, first.Created, first.Updated}, {second.Number, second.Created, second.Updated}, {third.Number, third.Created, third.Updated}}
	wantSeen := []seen{{1, true, false}, {1, false, true}, {1, false, false}}
	if diff := cmp.Diff(wantSeen, gotSeen); diff != "" {
		t.Errorf("EnsurePR results (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(first.URL, "/acme/config/pull/1") {
		t.Errorf("PR URL = %q, want the pull request page", first.URL)
	}
	want := []githubsim.PullState{{Number: 1, Title: spec.Title, Body: "second", Head: "gitops-promote/main/web", Base: "main",
		State: "OPEN", Labels: []string{"deploy", "production"}, Reviewers: []string{"alice"}}}
	if diff := cmp.Diff(want, w.pulls()); diff != "" {
		t.Errorf("pull requests on GitHub (-want +got):\n%s", diff)
	}
}

// roundTripFunc lets a test act between the client and the simulator.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestEnsurePRAdoptsThePROpenedMeanwhile(t *testing.T) {
	t.Parallel()
	var w *world
	raced := false
	race := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/pulls") && !raced {
			raced = true // another run opens the PR between our list and our create
			body, _ := json.Marshal(map[string]string{"title": "opened by another run", "head": "gitops-promote/main/web", "base": "main"})
			req, _ := http.NewRequest(http.MethodPost, w.sim.URL()+"/repos/acme/config/pulls", bytes.NewReader(body))
			req.Header.Set("Authorization", "token "+testToken)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	w = newWorld(t, githubsim.RepoSettings{}, WithHTTPClient(&http.Client{Transport: race}))
	w.prBranch("1.1.0")
	pr := w.ensurePR("1.1.0")
	if pr.Number != 1 || pr.Created || !pr.Updated {
		t.Errorf("EnsurePR = #%d created=%v updated=%v, want #1 adopted and updated", pr.Number, pr.Created, pr.Updated)
	}
	prs := w.pulls()
	if len(prs) != 1 || prs[0].Title != "Deploy ghcr.io/acme/web:1.1.0 to apps/web/overlays/production" {
		t.Errorf("pull requests = %+v, want the one PR with our title", prs)
	}
	if got := w.sim.Requests()["POST /repos/{owner}/{repo}/pulls"]; got != 2 {
		t.Errorf("creates = %d, want 2 (the other run's and our refused one)", got)
	}
}

func TestEnsurePRRefusesBadSpecs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{})
	tests := []struct {
		name string
		spec PRSpec
		want string
	}{
		{"missing title", PRSpec{Owner: owner, Repo: repoName, Base: "main", Head: "x"}, "pull request: missing title"},
		{"head is base", PRSpec{Owner: owner, Repo: repoName, Base: "main", Head: "main", Title: "t"}, `pull request: head branch "main" is the base branch`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.c.EnsurePR(context.Background(), tc.spec)
			var bad interface{ BadInput() bool }
			if err == nil || !errors.As(err, &bad) || err.Error() != tc.want {
				t.Errorf("EnsurePR error = %v, want bad input %q", err, tc.want)
			}
		})
	}
	if n := w.sim.TotalRequests(); n != 0 {
		t.Errorf("bad specs made %d requests, want 0", n)
	}
}

func TestBadTokenIsNamedWithoutTheToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{})
	bad, err := New(w.sim.URL(), "ghp_wrongWrongWrong", WithClock(w.clock))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.EnsurePR(context.Background(), PRSpec{Owner: owner, Repo: repoName, Base: "main", Head: "x", Title: "t"})
	var hinted interface{ Hint() string }
	if err == nil || !errors.As(err, &hinted) || !strings.Contains(err.Error(), "Bad credentials") {
		t.Fatalf("error = %v, want Bad credentials with a hint", err)
	}
	if strings.Contains(err.Error(), "ghp_wrongWrongWrong") || strings.Contains(hinted.Hint(), "ghp_") {
		t.Errorf("the token leaked into %q", err)
	}
	_, err = bad.Merge(context.Background(), &PR{Owner: owner, Repo: repoName, Number: 1, BaseRef: "main"}, strings.Repeat("a", 40), "squash", true)
	if err == nil || !errors.As(err, &hinted) || strings.Contains(err.Error(), "ghp_wrongWrongWrong") {
		t.Errorf("GraphQL error = %v, want a hinted error without the token", err)
	}
}
