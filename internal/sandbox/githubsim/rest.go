package githubsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const docsBase = "https://docs.github.com/rest"

// apiError is GitHub's REST error body.
type apiError struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url,omitempty"`
	Status           string       `json:"status,omitempty"`
}

type fieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, doc string) {
	writeJSON(w, http.StatusNotFound, apiError{Message: "Not Found", DocumentationURL: doc, Status: "404"})
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}", s.getRepo)
	mux.HandleFunc("GET /repos/{owner}/{repo}/git/ref/{ref...}", s.getRef)
	mux.HandleFunc("POST /repos/{owner}/{repo}/git/refs", s.createRef)
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/git/refs/{ref...}", s.updateRef)
	mux.HandleFunc("DELETE /repos/{owner}/{repo}/git/refs/{ref...}", s.deleteRef)
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls", s.listPulls)
	mux.HandleFunc("POST /repos/{owner}/{repo}/pulls", s.createPull)
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{number}", s.getPull)
	mux.HandleFunc("PATCH /repos/{owner}/{repo}/pulls/{number}", s.updatePull)
	mux.HandleFunc("PUT /repos/{owner}/{repo}/pulls/{number}/merge", s.mergePull)
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{number}/labels", s.addLabels)
	mux.HandleFunc("POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers", s.requestReviewers)
	mux.HandleFunc("GET /repos/{owner}/{repo}/rules/branches/{branch...}", s.branchRules)
	mux.HandleFunc("POST /graphql", s.serveGraphQL)
	mux.HandleFunc("POST /api/graphql", s.serveGraphQL)
	s.statusRoutes(mux)
	mux.HandleFunc(accessTokensRoute, s.createAccessToken)
	return mux
}

// repoFor finds the repository named in the path and holds the lock; the
// caller must call s.mu.Unlock when ok.
func (s *Server) repoFor(w http.ResponseWriter, r *http.Request, doc string) (*repoState, bool) {
	s.mu.Lock()
	repo, ok := s.repos[r.PathValue("owner")+"/"+r.PathValue("repo")]
	if !ok {
		s.mu.Unlock()
		notFound(w, doc)
		return nil, false
	}
	return repo, true
}

func (s *Server) pullFor(w http.ResponseWriter, r *http.Request, doc string) (*repoState, *pull, bool) {
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return nil, nil, false
	}
	n, err := strconv.Atoi(r.PathValue("number"))
	p := repo.pull(n)
	if err != nil || p == nil {
		s.mu.Unlock()
		notFound(w, doc)
		return nil, nil, false
	}
	return repo, p, true
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Message: "Problems parsing JSON", DocumentationURL: docsBase, Status: "400"})
		return false
	}
	return true
}

func (s *Server) htmlBase() string { return s.srv.URL + "/html" }

func (s *Server) repoJSON(r *repoState) map[string]any {
	return map[string]any{
		"id": r.id, "node_id": fmt.Sprintf("R_sim%d", r.id), "name": r.name, "full_name": r.fullName(),
		"owner":   map[string]any{"login": r.owner, "id": 1, "type": "Organization"},
		"private": true, "html_url": s.htmlBase() + "/" + r.fullName(),
		"url":            s.srv.URL + "/repos/" + r.fullName(),
		"default_branch": r.defaultBranch(), "allow_auto_merge": r.set.AutoMergeAllowed,
		"allow_merge_commit": true, "allow_squash_merge": true, "allow_rebase_merge": true,
		"delete_branch_on_merge": r.set.DeleteBranchOnMerge,
	}
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFor(w, r, docsBase+"/repos/repos#get-a-repository")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.repoJSON(repo))
}

func (s *Server) refJSON(repo *repoState, ref, sha string) map[string]any {
	return map[string]any{
		"ref": ref, "node_id": "REF_sim" + ref, "url": s.srv.URL + "/repos/" + repo.fullName() + "/git/" + ref,
		"object": map[string]any{"sha": sha, "type": "commit", "url": s.srv.URL + "/repos/" + repo.fullName() + "/git/commits/" + sha},
	}
}

func (s *Server) getRef(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/git/refs#get-a-reference"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	ref := "refs/" + r.PathValue("ref")
	sha := repo.git.resolve(r.Context(), ref)
	if sha == "" {
		notFound(w, doc)
		return
	}
	writeJSON(w, http.StatusOK, s.refJSON(repo, ref, sha))
}

func (s *Server) createRef(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/git/refs#create-a-reference"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct{ Ref, SHA string }
	if !decode(w, r, &in) {
		return
	}
	if !strings.HasPrefix(in.Ref, "refs/") || strings.Count(in.Ref, "/") < 2 {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Reference name must start with 'refs/' and have at least two slashes.", DocumentationURL: doc, Status: "422"})
		return
	}
	if repo.git.resolve(r.Context(), in.SHA) == "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Object does not exist", DocumentationURL: doc, Status: "422"})
		return
	}
	if branch, ok := strings.CutPrefix(in.Ref, "refs/heads/"); ok && repo.protected(branch) {
		s.refuseProtected(w, repo, branch, doc)
		return
	}
	if err := repo.git.updateRef(r.Context(), in.Ref, in.SHA, ""); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Reference already exists", DocumentationURL: doc, Status: "422"})
		return
	}
	writeJSON(w, http.StatusCreated, s.refJSON(repo, in.Ref, in.SHA))
}

func (s *Server) refuseProtected(w http.ResponseWriter, repo *repoState, branch, doc string) {
	msg := "Protected branch update failed for refs/heads/" + branch + "."
	if repo.set.Ruleset {
		msg = "Repository rule violations found\n\nChanges must be made through a pull request.\n\n"
	}
	writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: msg, DocumentationURL: doc, Status: "422"})
}

func (s *Server) updateRef(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/git/refs#update-a-reference"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		SHA   string
		Force bool
	}
	if !decode(w, r, &in) {
		return
	}
	ref := "refs/" + r.PathValue("ref")
	old := repo.git.resolve(r.Context(), ref)
	if old == "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Reference does not exist", DocumentationURL: doc, Status: "422"})
		return
	}
	if repo.git.resolve(r.Context(), in.SHA) == "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Object does not exist", DocumentationURL: doc, Status: "422"})
		return
	}
	if branch, ok := strings.CutPrefix(ref, "refs/heads/"); ok && repo.protected(branch) {
		s.refuseProtected(w, repo, branch, doc)
		return
	}
	if !in.Force && !repo.git.isAncestor(r.Context(), old, in.SHA) {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Update is not a fast forward", DocumentationURL: doc, Status: "422"})
		return
	}
	if err := repo.git.updateRef(r.Context(), ref, in.SHA, old); err != nil {
		writeJSON(w, http.StatusConflict, apiError{Message: "Reference cannot be updated", DocumentationURL: doc, Status: "409"})
		return
	}
	writeJSON(w, http.StatusOK, s.refJSON(repo, ref, in.SHA))
}

func (s *Server) deleteRef(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/git/refs#delete-a-reference"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	ref := "refs/" + r.PathValue("ref")
	old := repo.git.resolve(r.Context(), ref)
	if old == "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Reference does not exist", DocumentationURL: doc, Status: "422"})
		return
	}
	if branch, ok := strings.CutPrefix(ref, "refs/heads/"); ok && repo.protected(branch) {
		s.refuseProtected(w, repo, branch, doc)
		return
	}
	if err := repo.git.deleteRef(r.Context(), ref, old); err != nil {
		writeJSON(w, http.StatusConflict, apiError{Message: "Reference cannot be deleted", DocumentationURL: doc, Status: "409"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Server) pullJSON(r *http.Request, repo *repoState, p *pull) map[string]any {
	ctx := r.Context()
	labels := []map[string]any{}
	for i, l := range p.labels {
		labels = append(labels, map[string]any{"id": i + 1, "name": l, "color": "ededed", "default": false})
	}
	reviewers := []map[string]any{}
	for _, l := range p.reviewers {
		reviewers = append(reviewers, map[string]any{"login": l, "type": "User"})
	}
	state := "open"
	if p.closed {
		state = "closed"
	}
	var mergeSHA any
	if p.mergeSHA != "" {
		mergeSHA = p.mergeSHA
	}
	var auto any
	if p.auto != nil {
		auto = map[string]any{"enabled_by": map[string]any{"login": s.login}, "merge_method": strings.ToLower(p.auto.method),
			"commit_title": p.auto.headline, "commit_message": p.auto.body}
	}
	ms := strings.ToLower(repo.mergeState(ctx, p, false))
	branch := func(name, sha string) map[string]any {
		return map[string]any{"label": repo.owner + ":" + name, "ref": name, "sha": sha,
			"user": map[string]any{"login": repo.owner}, "repo": s.repoJSON(repo)}
	}
	return map[string]any{
		"url": s.srv.URL + "/repos/" + repo.fullName() + "/pulls/" + strconv.Itoa(p.number),
		"id":  p.id, "node_id": p.nodeID(repo),
		"html_url": s.htmlBase() + "/" + repo.fullName() + "/pull/" + strconv.Itoa(p.number),
		"number":   p.number, "state": state, "locked": false, "title": p.title, "body": p.body,
		"user":   map[string]any{"login": s.login, "type": "User"},
		"labels": labels, "requested_reviewers": reviewers, "requested_teams": []any{},
		"draft": p.draft, "merged": p.merged, "mergeable": ms != "dirty" && ms != "unknown",
		"mergeable_state": ms, "merge_commit_sha": mergeSHA, "auto_merge": auto,
		"head":       branch(p.head, repo.headSHA(ctx, p)),
		"base":       branch(p.base, repo.git.resolve(ctx, "refs/heads/"+p.base)),
		"created_at": ts(p.created), "updated_at": ts(p.updated), "closed_at": ts(p.closedAt), "merged_at": ts(p.mergedAt),
	}
}

// headBranch strips the "owner:" a head may carry.
func headBranch(repo *repoState, head string) (string, bool) {
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		return branch, owner == repo.owner
	}
	return head, true
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFor(w, r, docsBase+"/pulls/pulls#list-pull-requests")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	out := []map[string]any{}
	for i := len(repo.pulls) - 1; i >= 0; i-- { // newest first, as GitHub sorts by created desc
		p := repo.pulls[i]
		if h := q.Get("head"); h != "" {
			branch, sameOwner := headBranch(repo, h)
			if !sameOwner || branch != p.head {
				continue
			}
		}
		if b := q.Get("base"); b != "" && b != p.base {
			continue
		}
		if (state == "open" && p.closed) || (state == "closed" && !p.closed) {
			continue
		}
		out = append(out, s.pullJSON(r, repo, p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/pulls/pulls#create-a-pull-request"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		Title, Head, Base, Body string
		Draft                   bool
	}
	if !decode(w, r, &in) {
		return
	}
	invalid := func(errs ...fieldError) {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Validation Failed", Errors: errs, DocumentationURL: doc, Status: "422"})
	}
	ctx := r.Context()
	head, sameOwner := headBranch(repo, in.Head)
	if in.Title == "" {
		invalid(fieldError{Resource: "Issue", Field: "title", Code: "missing_field"})
		return
	}
	if !sameOwner || repo.git.resolve(ctx, "refs/heads/"+head) == "" {
		invalid(fieldError{Resource: "PullRequest", Field: "head", Code: "invalid"})
		return
	}
	if repo.git.resolve(ctx, "refs/heads/"+in.Base) == "" {
		invalid(fieldError{Resource: "PullRequest", Field: "base", Code: "invalid"})
		return
	}
	for _, p := range repo.pulls {
		if !p.closed && p.head == head && p.base == in.Base {
			invalid(fieldError{Resource: "PullRequest", Code: "custom", Message: "A pull request already exists for " + repo.owner + ":" + head + "."})
			return
		}
	}
	if repo.git.isAncestor(ctx, "refs/heads/"+head, "refs/heads/"+in.Base) {
		invalid(fieldError{Resource: "PullRequest", Code: "custom", Message: "No commits between " + in.Base + " and " + head})
		return
	}
	s.nextID++
	now := s.now()
	p := &pull{id: s.nextID, number: len(repo.pulls) + 1, title: in.Title, body: in.Body, head: head, base: in.Base,
		draft: in.Draft, unknown: repo.set.UnknownReads, created: now, updated: now}
	repo.pulls = append(repo.pulls, p)
	s.logf("githubsim: opened %s#%d %s -> %s", repo.fullName(), p.number, head, in.Base)
	writeJSON(w, http.StatusCreated, s.pullJSON(r, repo, p))
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	repo, p, ok := s.pullFor(w, r, docsBase+"/pulls/pulls#get-a-pull-request")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.pullJSON(r, repo, p))
}

func (s *Server) updatePull(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/pulls/pulls#update-a-pull-request"
	repo, p, ok := s.pullFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		Title, Body, State, Base *string
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Title != nil {
		p.title = *in.Title
	}
	if in.Body != nil {
		p.body = *in.Body
	}
	if in.Base != nil {
		p.base = *in.Base
	}
	if in.State != nil {
		switch {
		case *in.State == "closed" && !p.closed:
			s.close(r.Context(), repo, p, s.login)
		case *in.State == "open" && p.closed && !p.merged:
			p.closed, p.closedAt, p.headAt = false, time.Time{}, ""
		}
	}
	p.updated = s.now()
	writeJSON(w, http.StatusOK, s.pullJSON(r, repo, p))
}

func (s *Server) mergePull(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/pulls/pulls#merge-a-pull-request"
	repo, p, ok := s.pullFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		CommitTitle   string `json:"commit_title"`
		CommitMessage string `json:"commit_message"`
		SHA           string `json:"sha"`
		MergeMethod   string `json:"merge_method"`
	}
	if !decode(w, r, &in) {
		return
	}
	if err := s.checkMergeAllowed(repo, p); err != nil {
		writeJSON(w, err.status, apiError{Message: err.msg, DocumentationURL: doc, Status: strconv.Itoa(err.status)})
		return
	}
	if err := s.merge(r.Context(), repo, p, in.MergeMethod, in.CommitTitle, in.CommitMessage, in.SHA); err != nil {
		status, msg := http.StatusInternalServerError, err.Error()
		var me *mergeError
		if errors.As(err, &me) {
			status = me.status
		}
		writeJSON(w, status, apiError{Message: msg, DocumentationURL: doc, Status: strconv.Itoa(status)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sha": p.mergeSHA, "merged": true, "message": "Pull Request successfully merged"})
}

// checkMergeAllowed refuses a merge that the base branch's protection
// forbids now, in GitHub's words.
func (s *Server) checkMergeAllowed(repo *repoState, p *pull) *mergeError {
	if p.closed || p.draft {
		return nil // merge reports these
	}
	if repo.hasQueue(p.base) {
		return &mergeError{typ: "UNPROCESSABLE", status: 405, msg: "Changes must be made through the merge queue"}
	}
	if repo.checksBlock(context.Background(), p) {
		msg := fmt.Sprintf("Required status check %q is expected.", repo.set.RequiredChecks[0])
		if repo.set.Ruleset {
			msg = "Repository rule violations found\n\n" + msg + "\n\n"
		}
		return &mergeError{typ: "UNPROCESSABLE", status: 405, msg: msg}
	}
	return nil
}

func (s *Server) addLabels(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/issues/labels#add-labels-to-an-issue"
	repo, p, ok := s.pullFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	// GitHub takes {"labels": [...]} or a bare array of names.
	var raw json.RawMessage
	if !decode(w, r, &raw) {
		return
	}
	var in struct{ Labels []string }
	if err := json.Unmarshal(raw, &in.Labels); err != nil {
		if err := json.Unmarshal(raw, &in); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Invalid request.", DocumentationURL: doc, Status: "422"})
			return
		}
	}
	for _, l := range in.Labels {
		if !slices.Contains(p.labels, l) {
			p.labels = append(p.labels, l)
		}
	}
	out := []map[string]any{}
	for i, l := range p.labels {
		out = append(out, map[string]any{"id": i + 1, "node_id": fmt.Sprintf("LA_sim%d_%d", repo.id, i), "name": l, "color": "ededed", "default": false})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) requestReviewers(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/pulls/review-requests#request-reviewers-for-a-pull-request"
	repo, p, ok := s.pullFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		Reviewers     []string
		TeamReviewers []string `json:"team_reviewers"`
	}
	if !decode(w, r, &in) {
		return
	}
	for _, l := range in.Reviewers {
		if l == s.login {
			writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Review cannot be requested from pull request author.", DocumentationURL: doc, Status: "422"})
			return
		}
	}
	for _, l := range in.Reviewers {
		if !slices.Contains(p.reviewers, l) {
			p.reviewers = append(p.reviewers, l)
		}
	}
	writeJSON(w, http.StatusCreated, s.pullJSON(r, repo, p))
}

// branchRules answers GET /repos/{o}/{r}/rules/branches/{b}: the active
// ruleset rules for a branch. Classic branch protection is not listed there,
// as on GitHub, and reading it needs no admin permission.
func (s *Server) branchRules(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFor(w, r, docsBase+"/repos/rules#get-rules-for-a-branch")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	out := []map[string]any{}
	branch := r.PathValue("branch")
	if repo.set.Ruleset && repo.protected(branch) {
		src := map[string]any{"ruleset_source_type": "Repository", "ruleset_source": repo.fullName(), "ruleset_id": 1}
		rule := func(typ string, params map[string]any) map[string]any {
			m := map[string]any{"type": typ}
			for k, v := range src {
				m[k] = v
			}
			if params != nil {
				m["parameters"] = params
			}
			return m
		}
		out = append(out, rule("pull_request", map[string]any{
			"required_approving_review_count": 0, "dismiss_stale_reviews_on_push": false,
			"require_code_owner_review": false, "require_last_push_approval": false,
			"required_review_thread_resolution": false}))
		if len(repo.set.RequiredChecks) > 0 {
			checks := []map[string]any{}
			for _, c := range repo.set.RequiredChecks {
				checks = append(checks, map[string]any{"context": c})
			}
			out = append(out, rule("required_status_checks", map[string]any{
				"required_status_checks": checks, "strict_required_status_checks_policy": false}))
		}
		if repo.set.MergeQueue {
			out = append(out, rule("merge_queue", map[string]any{"merge_method": repo.queueMethod()}))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
