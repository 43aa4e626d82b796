package ghstatus

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/shurcooL/githubv4"
)

// Permissions the reads need, named as a workflow's permissions block does.
const (
	permStatuses    = "statuses: read"
	permChecks      = "checks: read"
	permDeployments = "deployments: read"
	permContents    = "contents: read"
)

// reader gathers one View; it keeps what does not change between reads.
type reader struct {
	c     *Client
	spec  Spec
	keeps map[string]Keep // answers of spec.Keeps by commit
}

// view reads what GitHub shows now on our commit and the later commits of
// the branch that contain it. Unchanged answers cost a 304 each; the later
// commits' statuses and check runs cost one GraphQL query.
func (r *reader) view(ctx context.Context) (View, string, error) {
	ours := r.spec.Revision
	v := View{Ours: Commit{SHA: ours}}
	later, head, err := r.later(ctx)
	if err != nil {
		return v, "", err
	}
	if len(r.spec.Contexts) > 0 {
		if v.Ours.Signals, err = r.commitSignals(ctx, ours); err != nil {
			return v, head, err
		}
	}
	byCommit := map[string][]Signal{}
	if len(r.spec.Contexts) > 0 && len(later) > 0 {
		if byCommit, err = r.laterSignals(ctx, head, len(later)); err != nil {
			return v, head, err
		}
	}
	if r.spec.Environment != "" {
		deps, err := r.deployments(ctx, append([]string{ours}, later...))
		if err != nil {
			return v, head, err
		}
		v.Ours.Signals = append(v.Ours.Signals, deps[ours]...)
		for sha, s := range deps {
			if sha != ours {
				byCommit[sha] = append(byCommit[sha], s...)
			}
		}
	}
	for _, sha := range later {
		c := Commit{SHA: sha, Signals: byCommit[sha]}
		if decides(r.spec.Want, c.Signals) {
			if c.Keeps, err = r.keep(ctx, sha); err != nil {
				return v, head, err
			}
		}
		v.Later = append(v.Later, c)
	}
	return v, head, nil
}

// decides reports whether a signal among signals is wanted and final, so
// that the commit's Keeps matters (a CI status on it does not).
func decides(want Want, signals []Signal) bool {
	for i, s := range signals {
		if final(&signals[i]) == "" {
			continue
		}
		if s.Kind == KindDeployment && s.Name == want.Environment {
			return true
		}
		for _, p := range want.Contexts {
			if matcher(p)(s) {
				return true
			}
		}
	}
	return false
}

// keep asks spec.Keeps once per commit.
func (r *reader) keep(ctx context.Context, sha string) (Keep, error) {
	if r.spec.Keeps == nil {
		return KeepUnknown, nil
	}
	if k, ok := r.keeps[sha]; ok {
		return k, nil
	}
	ok, err := r.spec.Keeps(ctx, sha)
	if err != nil {
		return KeepUnknown, err
	}
	k := KeepNo
	if ok {
		k = KeepYes
	}
	r.keeps[sha] = k
	return k, nil
}

// later compares our commit with the branch: the commits of the branch
// that contain ours, newest first, and the branch head. Ancestry comes from
// the parents GitHub lists.
func (r *reader) later(ctx context.Context) ([]string, string, error) {
	ours := r.spec.Revision
	cmp, _, err := r.c.rest.Repositories.CompareCommits(ctx, r.c.owner, r.c.repo, ours, r.spec.Branch, &gh.ListOptions{PerPage: 250})
	if notFound(err) {
		return nil, "", nil // GitHub does not know our commit (yet), or the branch
	}
	if err != nil {
		return nil, "", apiError("comparing "+short(ours)+" with "+r.spec.Branch, permContents, err)
	}
	switch cmp.GetStatus() {
	case "identical":
		return nil, ours, nil
	case "ahead":
	default: // behind or diverged: the branch no longer holds our commit
		return nil, "", nil
	}
	parents := map[string][]string{}
	var order []string
	for _, c := range cmp.Commits {
		order = append(order, c.GetSHA())
		for _, p := range c.Parents {
			parents[c.GetSHA()] = append(parents[c.GetSHA()], p.GetSHA())
		}
	}
	head := ""
	if len(order) > 0 {
		head = order[len(order)-1]
	}
	return containing(ours, order, parents), head, nil
}

// containing returns the commits of order (oldest first) whose history
// contains ours, newest first. A parent outside order is ours or one of
// its ancestors, as compare lists every commit the head has and ours lacks.
func containing(ours string, order []string, parents map[string][]string) []string {
	memo := map[string]bool{}
	var contains func(string) bool
	contains = func(sha string) bool {
		if sha == ours {
			return true
		}
		if v, ok := memo[sha]; ok {
			return v
		}
		memo[sha] = false
		for _, p := range parents[sha] {
			if contains(p) {
				memo[sha] = true
				break
			}
		}
		return memo[sha]
	}
	var out []string
	for i := len(order) - 1; i >= 0; i-- {
		if contains(order[i]) {
			out = append(out, order[i])
		}
	}
	return out
}

func notFound(err error) bool {
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil &&
		(er.Response.StatusCode == http.StatusNotFound || er.Response.StatusCode == http.StatusUnprocessableEntity)
}

// commitSignals reads the combined status (the latest status of each
// context) and the latest check run of each name on one commit, every page.
func (r *reader) commitSignals(ctx context.Context, sha string) ([]Signal, error) {
	var out []Signal
	for page := 1; page != 0; {
		st, resp, err := r.c.rest.Repositories.GetCombinedStatus(ctx, r.c.owner, r.c.repo, sha, &gh.ListOptions{PerPage: 100, Page: page})
		if notFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, apiError("reading the statuses of "+short(sha), permStatuses, err)
		}
		for _, s := range st.Statuses {
			out = append(out, Signal{Kind: KindStatus, Name: s.GetContext(), State: State(s.GetState()),
				Description: s.GetDescription(), URL: s.GetTargetURL()})
		}
		page = resp.NextPage
	}
	filter := "latest"
	for page := 1; page != 0; {
		runs, resp, err := r.c.rest.Checks.ListCheckRunsForRef(ctx, r.c.owner, r.c.repo, sha,
			&gh.ListCheckRunsOptions{Filter: &filter, ListOptions: gh.ListOptions{PerPage: 100, Page: page}})
		if notFound(err) {
			return out, nil
		}
		if err != nil {
			return nil, apiError("reading the check runs of "+short(sha), permChecks, err)
		}
		for _, c := range runs.CheckRuns {
			out = append(out, Signal{Kind: KindCheck, Name: c.GetName(), State: checkState(c.GetStatus(), c.GetConclusion()),
				Description: c.GetOutput().GetTitle(), URL: c.GetDetailsURL()})
		}
		page = resp.NextPage
	}
	return out, nil
}

// checkState reads a check run: a conclusion of success is success; one
// that says the run went wrong is failure; anything else (running, neutral,
// skipped, stale) decides nothing.
func checkState(status, conclusion string) State {
	if !strings.EqualFold(status, "completed") {
		return Pending
	}
	switch strings.ToLower(conclusion) {
	case "success":
		return Success
	case "failure", "timed_out", "cancelled", "action_required", "startup_failure":
		return Failure
	}
	return Pending
}

// historyQuery reads the statuses and latest check runs of the commits of
// the branch head's history, newest first: the later commits in one query.
type historyQuery struct {
	Repository struct {
		Object *struct {
			Commit struct {
				History struct {
					Nodes []struct {
						Oid    string
						Status *struct {
							Contexts []struct {
								Context     string
								State       string
								Description *string
								TargetURL   *string
							}
						}
						CheckSuites struct {
							Nodes []struct {
								CheckRuns struct {
									Nodes []struct {
										Name       string
										Status     string
										Conclusion *string
										DetailsURL *string
									}
								} `graphql:"checkRuns(first: 50, filterBy: {checkType: LATEST})"`
							}
						} `graphql:"checkSuites(first: 20)"`
					}
				} `graphql:"history(first: $n)"`
			} `graphql:"... on Commit"`
		} `graphql:"object(expression: $head)"`
	} `graphql:"repository(owner: $owner, name: $name)"`
}

// laterSignals reads the later commits' statuses and check runs with one
// GraphQL query of head's history; n later commits are expected.
func (r *reader) laterSignals(ctx context.Context, head string, n int) (map[string][]Signal, error) {
	var q historyQuery
	vars := map[string]any{
		"owner": githubv4.String(r.c.owner), "name": githubv4.String(r.c.repo),
		"head": githubv4.String(head), "n": githubv4.Int(min(n+10, 100)),
	}
	if err := r.c.gql.Query(idempotentCtx(ctx), &q, vars); err != nil {
		return nil, apiError("reading the statuses of the commits after "+short(r.spec.Revision), permStatuses+" and "+permChecks, err)
	}
	out := map[string][]Signal{}
	if q.Repository.Object == nil {
		return out, nil
	}
	for _, c := range q.Repository.Object.Commit.History.Nodes {
		if c.Status != nil {
			for _, s := range c.Status.Contexts {
				out[c.Oid] = append(out[c.Oid], Signal{Kind: KindStatus, Name: s.Context, State: State(strings.ToLower(s.State)),
					Description: deref(s.Description), URL: deref(s.TargetURL)})
			}
		}
		for _, suite := range c.CheckSuites.Nodes {
			for _, run := range suite.CheckRuns.Nodes {
				out[c.Oid] = append(out[c.Oid], Signal{Kind: KindCheck, Name: run.Name,
					State: checkState(run.Status, deref(run.Conclusion)), URL: deref(run.DetailsURL)})
			}
		}
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// deployments reads the deployments of the environment (newest first, one
// page of 100) and the statuses of those of our commit and the later ones.
func (r *reader) deployments(ctx context.Context, shas []string) (map[string][]Signal, error) {
	env := r.spec.Environment
	deps, _, err := r.c.rest.Repositories.ListDeployments(ctx, r.c.owner, r.c.repo,
		&gh.DeploymentsListOptions{Environment: env, ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil {
		return nil, apiError("listing the deployments to "+env, permDeployments, err)
	}
	out := map[string][]Signal{}
	for _, d := range deps {
		sha := d.GetSHA()
		if !slices.Contains(shas, sha) || len(out[sha]) > 0 {
			continue // not ours nor later, or an older deployment of a commit already read
		}
		sts, _, err := r.c.rest.Repositories.ListDeploymentStatuses(ctx, r.c.owner, r.c.repo, d.GetID(), &gh.ListOptions{PerPage: 100})
		if err != nil {
			return nil, apiError("reading the statuses of deployment "+env+" of "+short(sha), permDeployments, err)
		}
		s := Signal{Kind: KindDeployment, Name: env, State: Pending}
		for i, st := range sts { // newest first
			if i == 0 {
				s.State, s.Description, s.URL = deploymentState(st.GetState()), st.GetDescription(), st.GetLogURL()
			}
			if st.GetState() == "success" {
				s.Succeeded = true
			}
		}
		out[sha] = append(out[sha], s)
	}
	return out, nil
}

func deploymentState(s string) State {
	switch s {
	case "success":
		return Success
	case "failure":
		return Failure
	case "error":
		return Error
	case "inactive":
		return Inactive
	}
	return Pending // pending, queued, in_progress
}
