package githubsim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// statusStore holds what pullers write back to GitHub: commit statuses,
// check runs, deployments and their statuses, per repository. The maps are
// made on first use; every access holds s.mu.
type statusStore struct {
	nextID      int64
	statuses    map[string][]*commitStatus // "owner/name@sha", oldest first
	checks      map[string][]*checkRun     // "owner/name@sha", oldest first
	deployments map[string][]*deployment   // "owner/name", oldest first
}

type commitStatus struct {
	id                                     int64
	sha, state, context, description, link string
	creator                                string
	at                                     time.Time
}

type checkRun struct {
	id                                  int64
	sha, name, status, conclusion, link string
	title, summary                      string
	started, completed                  time.Time
}

// statusRoutes adds the commit status, check run, deployment and compare
// endpoints to mux.
func (s *Server) statusRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /repos/{owner}/{repo}/statuses/{sha}", s.createStatus)
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/statuses", s.listStatuses)
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/status", s.combinedStatus)
	mux.HandleFunc("POST /repos/{owner}/{repo}/check-runs", s.createCheckRun)
	mux.HandleFunc("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", s.listCheckRuns)
	mux.HandleFunc("POST /repos/{owner}/{repo}/deployments", s.createDeployment)
	mux.HandleFunc("GET /repos/{owner}/{repo}/deployments", s.listDeployments)
	mux.HandleFunc("GET /repos/{owner}/{repo}/deployments/{id}", s.getDeployment)
	mux.HandleFunc("POST /repos/{owner}/{repo}/deployments/{id}/statuses", s.createDeploymentStatus)
	mux.HandleFunc("GET /repos/{owner}/{repo}/deployments/{id}/statuses", s.listDeploymentStatuses)
	mux.HandleFunc("GET /repos/{owner}/{repo}/compare/{basehead}", s.compare)
}

func (st *statusStore) init() {
	if st.statuses == nil {
		st.statuses = map[string][]*commitStatus{}
		st.checks = map[string][]*checkRun{}
		st.deployments = map[string][]*deployment{}
	}
}

func (st *statusStore) id() int64 {
	st.nextID++
	return st.nextID
}

// CountedRequests is the number of requests answered that count against
// GitHub's rate limit: every request except conditional ones answered 304.
func (s *Server) CountedRequests() int {
	n := 0
	for k, v := range s.Requests() {
		if !strings.HasSuffix(k, notModifiedKey) {
			n += v
		}
	}
	return n
}

// notModifiedKey ends the request-count key of a conditional request
// answered 304 Not Modified, which GitHub does not count.
const notModifiedKey = " (304 not modified)"

// writeCacheable writes v as GitHub does for a GET it serves with an ETag:
// 304 with no body when If-None-Match holds the current one (and the
// request moves to the uncounted key), the JSON otherwise.
func (s *Server) writeCacheable(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Message: err.Error()})
		return
	}
	sum := sha256.Sum256(append(body, w.Header().Get("Link")...))
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
	w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	if inm := r.Header.Get("If-None-Match"); inm != "" && sameETag(inm, etag) {
		s.counts[r.Pattern]--
		s.counts[r.Pattern+notModifiedKey]++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append(body, '\n'))
}

// sameETag compares with the weak comparison (W/ ignored), over a list.
func sameETag(header, etag string) bool {
	strip := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for e := range strings.SplitSeq(header, ",") {
		if strings.TrimSpace(e) == "*" || strip(e) == strip(etag) {
			return true
		}
	}
	return false
}

// page cuts n items into the page the request asks for (per_page up to
// limit, default def; page from 1) and sets GitHub's Link header.
func (s *Server) page(w http.ResponseWriter, r *http.Request, n, def, limit int) (int, int) {
	q := r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = def
	}
	per = min(per, limit)
	pg, err := strconv.Atoi(q.Get("page"))
	if err != nil || pg < 1 {
		pg = 1
	}
	last := max(1, (n+per-1)/per)
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf(`<%s%s>; rel="%s"`, s.srv.URL, u.String(), rel)
	}
	var links []string
	if pg > 1 {
		links = append(links, link(pg-1, "prev"), link(1, "first"))
	}
	if pg < last {
		links = append(links, link(pg+1, "next"), link(last, "last"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	start := min((pg-1)*per, n)
	return start, min(start+per, n)
}

// commitFor resolves the {ref} (or {sha}) of the path, answering 422 as
// GitHub does when it names no commit. The caller holds s.mu.
func (s *Server) commitFor(w http.ResponseWriter, r *http.Request, repo *repoState, ref string) (string, bool) {
	sha := repo.git.resolve(r.Context(), ref)
	if sha == "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "No commit found for SHA: " + ref,
			DocumentationURL: docsBase + "/commits/statuses", Status: "422"})
		return "", false
	}
	return sha, true
}

func (s *Server) userJSON(login string) map[string]any {
	return map[string]any{"login": login, "id": 1, "type": "Bot", "url": s.srv.URL + "/users/" + login}
}

func (s *Server) statusJSON(repo *repoState, c *commitStatus) map[string]any {
	at := c.at.UTC().Format(time.RFC3339)
	return map[string]any{
		"url": s.srv.URL + "/repos/" + repo.fullName() + "/statuses/" + c.sha, "id": c.id,
		"node_id": fmt.Sprintf("SC_sim%d", c.id), "state": c.state, "description": nullable(c.description),
		"target_url": nullable(c.link), "context": c.context, "created_at": at, "updated_at": at,
		"avatar_url": nil, "creator": s.userJSON(c.creator),
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/commits/statuses#create-a-commit-status"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		State       string  `json:"state"`
		TargetURL   *string `json:"target_url"`
		Description *string `json:"description"`
		Context     *string `json:"context"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !slices.Contains([]string{"error", "failure", "pending", "success"}, in.State) {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Validation Failed", DocumentationURL: doc, Status: "422",
			Errors: []fieldError{{Resource: "Status", Field: "state", Code: "custom", Message: "state is not included in the list"}}})
		return
	}
	sha, ok := s.commitFor(w, r, repo, r.PathValue("sha"))
	if !ok {
		return
	}
	s.st.init()
	c := &commitStatus{id: s.st.id(), sha: sha, state: in.State, context: "default", creator: s.login, at: s.now()}
	if in.Context != nil && *in.Context != "" {
		c.context = *in.Context
	}
	if in.Description != nil {
		c.description = *in.Description
	}
	if in.TargetURL != nil {
		c.link = *in.TargetURL
	}
	key := repo.fullName() + "@" + sha
	s.st.statuses[key] = append(s.st.statuses[key], c)
	s.logf("github: status %s %s on %s", c.context, c.state, sha[:7])
	writeJSON(w, http.StatusCreated, s.statusJSON(repo, c))
}

// listStatuses lists every status of the ref, newest first.
func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFor(w, r, docsBase+"/commits/statuses#list-commit-statuses-for-a-reference")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	sha, ok := s.commitFor(w, r, repo, r.PathValue("ref"))
	if !ok {
		return
	}
	s.st.init()
	all := slices.Clone(s.st.statuses[repo.fullName()+"@"+sha])
	slices.Reverse(all)
	start, end := s.page(w, r, len(all), 30, 100)
	out := []map[string]any{}
	for _, c := range all[start:end] {
		out = append(out, s.statusJSON(repo, c))
	}
	s.writeCacheable(w, r, out)
}

// combinedStatus is the latest status of each context, newest first, and
// their combined state.
func (s *Server) combinedStatus(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFor(w, r, docsBase+"/commits/statuses#get-the-combined-status-for-a-specific-reference")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	sha, ok := s.commitFor(w, r, repo, r.PathValue("ref"))
	if !ok {
		return
	}
	s.st.init()
	var latest []*commitStatus
	seen := map[string]bool{}
	all := s.st.statuses[repo.fullName()+"@"+sha]
	for i := len(all) - 1; i >= 0; i-- {
		if !seen[all[i].context] {
			seen[all[i].context] = true
			latest = append(latest, all[i])
		}
	}
	state := "success"
	if len(latest) == 0 {
		state = "pending"
	}
	for _, c := range latest {
		switch {
		case c.state == "error" || c.state == "failure":
			state = "failure"
		case c.state == "pending" && state != "failure":
			state = "pending"
		}
	}
	start, end := s.page(w, r, len(latest), 30, 100)
	statuses := []map[string]any{}
	for _, c := range latest[start:end] {
		statuses = append(statuses, s.statusJSON(repo, c))
	}
	s.writeCacheable(w, r, map[string]any{
		"state": state, "statuses": statuses, "sha": sha, "total_count": len(latest),
		"repository": s.repoJSON(repo), "commit_url": s.srv.URL + "/repos/" + repo.fullName() + "/commits/" + sha,
		"url": s.srv.URL + "/repos/" + repo.fullName() + "/commits/" + sha + "/status",
	})
}

func (s *Server) checkRunJSON(repo *repoState, c *checkRun) map[string]any {
	t := func(at time.Time) any {
		if at.IsZero() {
			return nil
		}
		return at.UTC().Format(time.RFC3339)
	}
	return map[string]any{
		"id": c.id, "node_id": fmt.Sprintf("CR_sim%d", c.id), "head_sha": c.sha, "name": c.name,
		"status": c.status, "conclusion": nullable(c.conclusion), "details_url": nullable(c.link),
		"html_url":   fmt.Sprintf("%s/%s/runs/%d", s.htmlBase(), repo.fullName(), c.id),
		"url":        fmt.Sprintf("%s/repos/%s/check-runs/%d", s.srv.URL, repo.fullName(), c.id),
		"started_at": t(c.started), "completed_at": t(c.completed),
		"output":      map[string]any{"title": nullable(c.title), "summary": nullable(c.summary), "annotations_count": 0},
		"check_suite": map[string]any{"id": c.id},
		"app":         map[string]any{"id": 1, "slug": "gitops-puller", "name": "gitops puller"},
	}
}

// createCheckRun creates a check run as a GitHub App would (the simulator
// accepts any authorized token).
func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/checks/runs#create-a-check-run"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		Name       string `json:"name"`
		HeadSHA    string `json:"head_sha"`
		Status     string `json:"status"`
		Conclusion string `json:"conclusion"`
		DetailsURL string `json:"details_url"`
		Output     struct {
			Title   string `json:"title"`
			Summary string `json:"summary"`
		} `json:"output"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Status == "" {
		in.Status = "queued"
	}
	if in.Conclusion != "" {
		in.Status = "completed" // "Providing conclusion will automatically set the status parameter to completed."
	}
	if in.Name == "" || (in.Status == "completed" && in.Conclusion == "") {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Invalid request.\n\nNo subschema in \"anyOf\" matched.", DocumentationURL: doc, Status: "422"})
		return
	}
	sha, ok := s.commitFor(w, r, repo, in.HeadSHA)
	if !ok {
		return
	}
	s.st.init()
	now := s.now()
	c := &checkRun{id: s.st.id(), sha: sha, name: in.Name, status: in.Status, conclusion: in.Conclusion,
		link: in.DetailsURL, title: in.Output.Title, summary: in.Output.Summary, started: now}
	if c.status == "completed" {
		c.completed = now
	}
	key := repo.fullName() + "@" + sha
	s.st.checks[key] = append(s.st.checks[key], c)
	writeJSON(w, http.StatusCreated, s.checkRunJSON(repo, c))
}

// listCheckRuns lists the check runs of a ref, newest first; filter=latest
// (the default) keeps the most recent run of each name.
func (s *Server) listCheckRuns(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFor(w, r, docsBase+"/checks/runs#list-check-runs-for-a-git-reference")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	sha, ok := s.commitFor(w, r, repo, r.PathValue("ref"))
	if !ok {
		return
	}
	s.st.init()
	q := r.URL.Query()
	latest := q.Get("filter") != "all"
	var runs []*checkRun
	seen := map[string]bool{}
	all := s.st.checks[repo.fullName()+"@"+sha]
	for i := len(all) - 1; i >= 0; i-- {
		c := all[i]
		if (latest && seen[c.name]) || (q.Get("check_name") != "" && c.name != q.Get("check_name")) || (q.Get("status") != "" && c.status != q.Get("status")) {
			continue
		}
		seen[c.name] = true
		runs = append(runs, c)
	}
	start, end := s.page(w, r, len(runs), 30, 100)
	out := []map[string]any{}
	for _, c := range runs[start:end] {
		out = append(out, s.checkRunJSON(repo, c))
	}
	s.writeCacheable(w, r, map[string]any{"total_count": len(runs), "check_runs": out})
}
