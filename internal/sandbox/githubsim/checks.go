package githubsim

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
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

type statusRec struct {
	CommitStatus
	id      int
	created time.Time
}

type runRec struct {
	CheckRun
	id                 int
	started, completed time.Time
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
		s.addRun(r, sha, cr)
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
		return nil, fmt.Errorf("state %q is not one of error, failure, pending, success", st.State)
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

func (s *Server) addRun(r *repoState, sha string, cr CheckRun) *runRec {
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
	for _, rr := range r.runs[sha] {
		if rr.Name == cr.Name && rr.App == cr.App {
			rr.CheckRun = cr
			if cr.Status == "completed" {
				rr.completed = now
			}
			return rr
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

func (s *Server) statusJSON(r *repoState, sha string, st *statusRec) map[string]any {
	return map[string]any{
		"url": s.srv.URL + "/repos/" + r.fullName() + "/statuses/" + sha, "avatar_url": nil,
		"id": st.id, "node_id": fmt.Sprintf("SC_sim%d", st.id), "state": st.State,
		"description": optNull(st.Description), "target_url": optNull(st.TargetURL), "context": st.Context,
		"created_at": ts(st.created), "updated_at": ts(st.created),
		"creator": map[string]any{"login": st.Creator, "type": "User"},
	}
}

func (s *Server) runJSON(r *repoState, sha string, rr *runRec) map[string]any {
	var conclusion any
	if rr.Conclusion != "" {
		conclusion = rr.Conclusion
	}
	return map[string]any{
		"id": rr.id, "node_id": fmt.Sprintf("CR_sim%d", rr.id), "head_sha": sha, "external_id": "",
		"url":         s.srv.URL + "/repos/" + r.fullName() + "/check-runs/" + strconv.Itoa(rr.id),
		"html_url":    s.htmlBase() + "/" + r.fullName() + "/runs/" + strconv.Itoa(rr.id),
		"details_url": optNull(rr.DetailsURL), "status": rr.Status, "conclusion": conclusion,
		"started_at": ts(rr.started), "completed_at": ts(rr.completed), "name": rr.Name,
		"output":        map[string]any{"title": nil, "summary": nil, "text": nil, "annotations_count": 0},
		"app":           map[string]any{"slug": rr.App, "name": rr.App},
		"pull_requests": []any{},
	}
}

func optNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// createStatus answers POST /repos/{o}/{r}/statuses/{sha}.
func (s *Server) createStatus(w http.ResponseWriter, req *http.Request) {
	const doc = docsBase + "/commits/statuses#create-a-commit-status"
	r, ok := s.repoFor(w, req, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !decode(w, req, &in) {
		return
	}
	sha := r.git.resolve(req.Context(), req.PathValue("sha"))
	if sha == "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "No commit found for SHA: " + req.PathValue("sha"), DocumentationURL: doc, Status: "422"})
		return
	}
	rec, err := s.addStatus(r, sha, CommitStatus{Context: in.Context, State: in.State, TargetURL: in.TargetURL, Description: in.Description})
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Validation Failed", Errors: []fieldError{{Resource: "Status", Field: "state", Code: "custom", Message: err.Error()}}, DocumentationURL: doc, Status: "422"})
		return
	}
	s.settle(req.Context(), r, true)
	writeJSON(w, http.StatusCreated, s.statusJSON(r, sha, rec))
}

// combinedStatus answers GET /repos/{o}/{r}/commits/{ref}/status: the
// newest status per context and their combined state.
func (s *Server) combinedStatus(w http.ResponseWriter, req *http.Request) {
	const doc = docsBase + "/commits/statuses#get-the-combined-status-for-a-specific-reference"
	r, ok := s.repoFor(w, req, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	sha := r.git.resolve(req.Context(), req.PathValue("ref"))
	if sha == "" {
		notFound(w, doc)
		return
	}
	statuses := []map[string]any{}
	state := "pending"
	var items []checkItem
	for _, it := range r.items(sha) {
		if it.status != nil {
			items = append(items, it)
			statuses = append(statuses, s.statusJSON(r, sha, it.status))
		}
	}
	if len(items) > 0 {
		state = strings.ToLower(rollupOf(items))
		if state == "error" {
			state = "failure"
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"state": state, "statuses": statuses, "sha": sha, "total_count": len(statuses),
		"repository": s.repoJSON(r), "commit_url": s.srv.URL + "/repos/" + r.fullName() + "/commits/" + sha,
		"url": s.srv.URL + "/repos/" + r.fullName() + "/commits/" + sha + "/status",
	})
}

// listStatuses answers GET /repos/{o}/{r}/commits/{ref}/statuses, newest first.
func (s *Server) listStatuses(w http.ResponseWriter, req *http.Request) {
	const doc = docsBase + "/commits/statuses#list-commit-statuses-for-a-reference"
	r, ok := s.repoFor(w, req, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	sha := r.git.resolve(req.Context(), req.PathValue("ref"))
	if sha == "" {
		notFound(w, doc)
		return
	}
	out := []map[string]any{}
	sts := r.statuses[sha]
	for i := len(sts) - 1; i >= 0; i-- {
		out = append(out, s.statusJSON(r, sha, sts[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// listCheckRuns answers GET /repos/{o}/{r}/commits/{ref}/check-runs
// (filter=latest: the newest run per name and app; check_name and status
// narrow it).
func (s *Server) listCheckRuns(w http.ResponseWriter, req *http.Request) {
	const doc = docsBase + "/checks/runs#list-check-runs-for-a-git-reference"
	r, ok := s.repoFor(w, req, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	sha := r.git.resolve(req.Context(), req.PathValue("ref"))
	if sha == "" {
		notFound(w, doc)
		return
	}
	q := req.URL.Query()
	runs := []map[string]any{}
	for _, rr := range r.runs[sha] {
		if n := q.Get("check_name"); n != "" && n != rr.Name {
			continue
		}
		if st := q.Get("status"); st != "" && st != rr.Status {
			continue
		}
		runs = append(runs, s.runJSON(r, sha, rr))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(runs), "check_runs": runs})
}

// GraphQL: StatusCheckRollup.contexts, the union of CheckRun and StatusContext.

type rollupContextConn struct{ nodes []*rollupContextResolver }

func (c *rollupContextConn) Nodes() *[]*rollupContextResolver { return &c.nodes }
func (c *rollupContextConn) TotalCount() int32                { return int32(len(c.nodes)) }

type rollupContextResolver struct {
	it       checkItem
	required bool
}

func (c *rollupContextResolver) ToCheckRun() (*checkRunResolver, bool) {
	if c.it.run == nil {
		return nil, false
	}
	return &checkRunResolver{c: c}, true
}

func (c *rollupContextResolver) ToStatusContext() (*statusContextResolver, bool) {
	if c.it.status == nil {
		return nil, false
	}
	return &statusContextResolver{c: c}, true
}

type checkRunResolver struct{ c *rollupContextResolver }

func (r *checkRunResolver) ID() graphql.ID { return graphql.ID(fmt.Sprintf("CR_sim%d", r.c.it.run.id)) }
func (r *checkRunResolver) Name() string   { return r.c.it.run.Name }
func (r *checkRunResolver) Status() string {
	return strings.ToUpper(r.c.it.run.Status)
}
func (r *checkRunResolver) Conclusion() *string {
	if r.c.it.run.Conclusion == "" {
		return nil
	}
	s := strings.ToUpper(r.c.it.run.Conclusion)
	return &s
}
func (r *checkRunResolver) DetailsURL() *uri {
	if r.c.it.run.DetailsURL == "" {
		return nil
	}
	u := uri(r.c.it.run.DetailsURL)
	return &u
}
func (r *checkRunResolver) IsRequired(args struct {
	PullRequestId     *graphql.ID
	PullRequestNumber *int32
}) bool {
	return r.c.required
}

type statusContextResolver struct{ c *rollupContextResolver }

func (r *statusContextResolver) ID() graphql.ID {
	return graphql.ID(fmt.Sprintf("SC_sim%d", r.c.it.status.id))
}
func (r *statusContextResolver) Context() string { return r.c.it.status.Context }
func (r *statusContextResolver) State() string   { return strings.ToUpper(r.c.it.status.State) }
func (r *statusContextResolver) Description() *string {
	return optString(r.c.it.status.Description)
}
func (r *statusContextResolver) TargetURL() *uri {
	if r.c.it.status.TargetURL == "" {
		return nil
	}
	u := uri(r.c.it.status.TargetURL)
	return &u
}
func (r *statusContextResolver) IsRequired(args struct {
	PullRequestId     *graphql.ID
	PullRequestNumber *int32
}) bool {
	return r.c.required
}
