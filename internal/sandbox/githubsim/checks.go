package githubsim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
)

// Commit statuses and check runs, as GitHub keeps them per commit SHA, and
// how required ones gate a pull request. Shapes follow the REST docs:
// https://docs.github.com/en/rest/commits/statuses and
// https://docs.github.com/en/rest/checks/runs (see BEHAVIOURS.md).

// CommitStatus is one commit status (POST /repos/{o}/{r}/statuses/{sha}).
type CommitStatus struct {
	Context     string // "default" when empty, as GitHub does
	State       string // error, failure, pending or success
	TargetURL   string
	Description string
	Creator     string // the login (or app bot) that set it; the simulator's login when empty
}

// CheckRun is one check run of a GitHub App on a commit.
type CheckRun struct {
	Name       string
	Status     string // queued, in_progress or completed (completed when Conclusion is set)
	Conclusion string // success, failure, neutral, cancelled, skipped, timed_out, action_required, stale, startup_failure
	DetailsURL string
	App        string // the app's slug ("github-actions" when empty)
}

// statusRec and runRec are the simulator's one record of a commit status
// and of a check run, kept per repository and SHA (repoState.statuses,
// repoState.runs): the REST endpoints, the required-check rollup and both
// GraphQL shapes (statusCheckRollup, Commit.status/checkSuites) read them.
type statusRec struct {
	CommitStatus
	id      int
	created time.Time
}

type runRec struct {
	CheckRun
	id                 int
	started, completed time.Time
	title, summary     string // output, as given to POST /check-runs
}

// passingConclusions are the check run conclusions a required check may
// end with for GitHub to merge.
var passingConclusions = []string{"success", "neutral", "skipped"}

// checkItem is a status or check run in the rollup: the newest status per
// context and the newest run per name.
type checkItem struct {
	status *statusRec
	run    *runRec
}

func (c checkItem) name() string {
	if c.status != nil {
		return c.status.Context
	}
	return c.run.Name
}

// verdict is "pass", "fail" or "pending".
func (c checkItem) verdict() string {
	if c.status != nil {
		switch c.status.State {
		case "success":
			return "pass"
		case "failure", "error":
			return "fail"
		}
		return "pending"
	}
	if c.run.Status != "completed" {
		return "pending"
	}
	if slices.Contains(passingConclusions, c.run.Conclusion) {
		return "pass"
	}
	return "fail"
}

// items returns the newest status per context and run per name (app) on sha.
func (r *repoState) items(sha string) []checkItem {
	var out []checkItem
	seen := map[string]bool{}
	sts := r.statuses[sha]
	for i := len(sts) - 1; i >= 0; i-- {
		if !seen["s:"+sts[i].Context] {
			seen["s:"+sts[i].Context] = true
			out = append(out, checkItem{status: sts[i]})
		}
	}
	runs := r.runs[sha]
	for i := len(runs) - 1; i >= 0; i-- {
		k := "r:" + runs[i].App + "/" + runs[i].Name
		if !seen[k] {
			seen[k] = true
			out = append(out, checkItem{run: runs[i]})
		}
	}
	return out
}

func (r *repoState) required(name string) bool { return slices.Contains(r.set.RequiredChecks, name) }

// requiredPass reports whether every required check passed on sha: for
// each required name, a status or check run of that name passed and none
// of that name failed.
func (r *repoState) requiredPass(sha string) bool {
	items := r.items(sha)
	for _, name := range r.set.RequiredChecks {
		ok := false
		for _, it := range items {
			if it.name() != name {
				continue
			}
			if it.verdict() != "pass" {
				return false
			}
			ok = true
		}
		if !ok {
			return false
		}
	}
	return true
}

// rollupOf is GitHub's rollup state over the items: FAILURE (or ERROR) when
// one failed, PENDING while one runs, SUCCESS otherwise; "" when none.
func rollupOf(items []checkItem) string {
	if len(items) == 0 {
		return ""
	}
	state := "SUCCESS"
	for _, it := range items {
		switch it.verdict() {
		case "fail":
			if it.status != nil && it.status.State == "error" {
				return "ERROR"
			}
			return "FAILURE"
		case "pending":
			state = "PENDING"
		}
	}
	return state
}

// SetStatus sets a commit status on sha, as a CI system would through the
// REST API; it may let auto-merge or the merge queue go on.
func (s *Server) SetStatus(repo, sha string, st CommitStatus) error {
	return s.withRepo(repo, func(r *repoState) error {
		if _, err := s.addStatus(r, sha, st); err != nil {
			return err
		}
		s.settle(context.Background(), r, true)
		return nil
	})
}

// SetCheckRun creates a check run on sha, or updates the app's run of that
// name; it may let auto-merge or the merge queue go on.
func (s *Server) SetCheckRun(repo, sha string, cr CheckRun) error {
	return s.withRepo(repo, func(r *repoState) error {
		s.addRun(r, sha, cr, true)
		s.settle(context.Background(), r, true)
		return nil
	})
}

// PullHead returns a pull request's head commit.
func (s *Server) PullHead(repo string, number int) (string, error) {
	var head string
	err := s.withPull(repo, number, func(r *repoState, p *pull) error {
		head = r.headSHA(context.Background(), p)
		return nil
	})
	return head, err
}

// CommitAs pushes a commit by a person (login) with the files given on top
// of branch, as `git push` from their clone would. Auto-merge stays on: a
// push by someone with write access does not turn it off.
func (s *Server) CommitAs(repo, branch, login, msg string, files map[string]string) (string, error) {
	var sha string
	err := s.withRepo(repo, func(r *repoState) error {
		ctx := context.Background()
		ref := "refs/heads/" + branch
		head := r.git.resolve(ctx, ref)
		if head == "" {
			return fmt.Errorf("branch %q does not exist", branch)
		}
		var changes []fileChange
		for _, p := range slices.Sorted(maps.Keys(files)) {
			changes = append(changes, fileChange{path: p, content: []byte(files[p])})
		}
		tree, err := r.git.applyChanges(ctx, head, changes)
		if err != nil {
			return err
		}
		id := gitIdentity{authorName: login, authorEmail: login + "@example.com", when: s.now()}
		if sha, err = r.git.commitTree(ctx, id, tree, msg+"\n", head); err != nil {
			return err
		}
		return r.git.updateRef(ctx, ref, sha, head)
	})
	return sha, err
}

func (s *Server) addStatus(r *repoState, sha string, st CommitStatus) (*statusRec, error) {
	if !slices.Contains([]string{"error", "failure", "pending", "success"}, st.State) {
		return nil, fmt.Errorf("state %q is not included in the list (error, failure, pending, success)", st.State)
	}
	if st.Context == "" {
		st.Context = "default"
	}
	if st.Creator == "" {
		st.Creator = s.login
	}
	if r.statuses == nil {
		r.statuses = map[string][]*statusRec{}
	}
	s.nextID++
	rec := &statusRec{CommitStatus: st, id: s.nextID, created: s.now()}
	r.statuses[sha] = append(r.statuses[sha], rec)
	return rec, nil
}

// addRun records a check run on sha. With update, the app's run of that
// name is changed in place, as the app would with PATCH
// /check-runs/{id}; otherwise a new run is added, as POST /check-runs (a
// re-run) does.
func (s *Server) addRun(r *repoState, sha string, cr CheckRun, update bool) *runRec {
	if cr.App == "" {
		cr.App = "github-actions"
	}
	if cr.Conclusion != "" {
		cr.Status = "completed"
	}
	if cr.Status == "" {
		cr.Status = "queued"
	}
	if r.runs == nil {
		r.runs = map[string][]*runRec{}
	}
	now := s.now()
	if update {
		for _, rr := range r.runs[sha] {
			if rr.Name == cr.Name && rr.App == cr.App {
				rr.CheckRun = cr
				if cr.Status == "completed" {
					rr.completed = now
				}
				return rr
			}
		}
	}
	s.nextID++
	rec := &runRec{CheckRun: cr, id: s.nextID, started: now}
	if cr.Status == "completed" {
		rec.completed = now
	}
	r.runs[sha] = append(r.runs[sha], rec)
	return rec
}

// latestStatuses is the newest status of each context on sha, newest first.
func (r *repoState) latestStatuses(sha string) []*statusRec {
	var out []*statusRec
	for _, it := range r.items(sha) {
		if it.status != nil {
			out = append(out, it.status)
		}
	}
	return out
}

// combinedState is GitHub's combined status over the latest statuses:
// failure if one is error or failure, else pending if one is pending or
// there is none, else success.
func combinedState(latest []*statusRec) string {
	state := "success"
	if len(latest) == 0 {
		state = "pending"
	}
	for _, c := range latest {
		switch c.State {
		case "error", "failure":
			return "failure"
		case "pending":
			state = "pending"
		}
	}
	return state
}

// GraphQL: StatusCheckRollup.contexts, the union of CheckRun and StatusContext.

type rollupContextConn struct{ nodes []*rollupContextResolver }

func (c *rollupContextConn) Nodes() *[]*rollupContextResolver { return &c.nodes }
func (c *rollupContextConn) TotalCount() int32                { return int32(len(c.nodes)) }

type rollupContextResolver struct {
	s  *Server
	r  *repoState
	pr *pull
	it checkItem
}

func (c *rollupContextResolver) ToCheckRun() (*checkRunResolver, bool) {
	if c.it.run == nil {
		return nil, false
	}
	return &checkRunResolver{run: c.it.run, req: requirement{s: c.s, r: c.r, pr: c.pr}}, true
}

func (c *rollupContextResolver) ToStatusContext() (*statusContextResolver, bool) {
	if c.it.status == nil {
		return nil, false
	}
	return &statusContextResolver{st: c.it.status, req: requirement{s: c.s, r: c.r, pr: c.pr}}, true
}

// isRequiredArgs are the arguments of RequirableByPullRequest.isRequired.
type isRequiredArgs struct {
	PullRequestId     *graphql.ID
	PullRequestNumber *int32
}

// requirement answers isRequired: whether the pull request named by the
// arguments (else the one the commit was read through) requires a check of
// that name on its base branch.
type requirement struct {
	s  *Server
	r  *repoState
	pr *pull
}

func (q requirement) of(name string, args isRequiredArgs) bool {
	p := q.pr
	switch {
	case args.PullRequestNumber != nil:
		p = q.r.pull(int(*args.PullRequestNumber))
	case args.PullRequestId != nil && q.s != nil:
		if r, pr, err := q.s.pullByNodeID(*args.PullRequestId); err == nil && r == q.r {
			p = pr
		} else {
			p = nil
		}
	}
	return p != nil && q.r.protected(p.base) && q.r.required(name)
}

// checkRunResolver is the GraphQL CheckRun, read from a rollup or a check suite.
type checkRunResolver struct {
	run *runRec
	req requirement
}

func (r *checkRunResolver) ID() graphql.ID   { return graphql.ID(fmt.Sprintf("CR_sim%d", r.run.id)) }
func (r *checkRunResolver) Name() string     { return r.run.Name }
func (r *checkRunResolver) Status() string   { return strings.ToUpper(r.run.Status) }
func (r *checkRunResolver) DetailsURL() *uri { return optURI(r.run.DetailsURL) }
func (r *checkRunResolver) Conclusion() *string {
	if r.run.Conclusion == "" {
		return nil
	}
	s := strings.ToUpper(r.run.Conclusion)
	return &s
}
func (r *checkRunResolver) IsRequired(args isRequiredArgs) bool { return r.req.of(r.run.Name, args) }

// statusContextResolver is the GraphQL StatusContext, read from a rollup or
// a commit's Status.
type statusContextResolver struct {
	st  *statusRec
	req requirement
}

func (r *statusContextResolver) ID() graphql.ID {
	return graphql.ID(fmt.Sprintf("SC_sim%d", r.st.id))
}
func (r *statusContextResolver) Context() string      { return r.st.Context }
func (r *statusContextResolver) CreatedAt() dateTime  { return dateTime{r.st.created} }
func (r *statusContextResolver) State() string        { return strings.ToUpper(r.st.State) }
func (r *statusContextResolver) Description() *string { return optString(r.st.Description) }
func (r *statusContextResolver) TargetURL() *uri      { return optURI(r.st.TargetURL) }
func (r *statusContextResolver) IsRequired(args isRequiredArgs) bool {
	return r.req.of(r.st.Context, args)
}

func optURI(s string) *uri {
	if s == "" {
		return nil
	}
	u := uri(s)
	return &u
}
