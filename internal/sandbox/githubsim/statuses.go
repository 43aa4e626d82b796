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

// statusStore holds the deployments pullers create, per repository. Commit
// statuses and check runs live with the repository (repoState.statuses and
// .runs, checks.go), where the required-check rollup reads them. The map is
// made on first use; every access holds s.mu.
type statusStore struct {
	nextID      int64
	deployments map[string][]*deployment // "owner/name", oldest first
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
	if st.deployments == nil {
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

func (s *Server) userJSON(login, typ string) map[string]any {
	return map[string]any{"login": login, "id": 1, "type": typ, "url": s.srv.URL + "/users/" + login}
}

func (s *Server) statusJSON(repo *repoState, sha string, c *statusRec) map[string]any {
	at := c.created.UTC().Format(time.RFC3339)
	typ := "User"
	if strings.HasSuffix(c.Creator, "[bot]") {
		typ = "Bot"
	}
	return map[string]any{
		"url": s.srv.URL + "/repos/" + repo.fullName() + "/statuses/" + sha, "id": c.id,
		"node_id": fmt.Sprintf("SC_sim%d", c.id), "state": c.State, "description": nullable(c.Description),
		"target_url": nullable(c.TargetURL), "context": c.Context, "created_at": at, "updated_at": at,
		"avatar_url": nil, "creator": s.userJSON(c.Creator, typ),
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// createStatus answers POST /repos/{o}/{r}/statuses/{sha}; a status may let
// auto-merge or the merge queue go on.
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
	st := CommitStatus{State: in.State, Creator: s.requestBot(r)} // an App's installation token: "<slug>[bot]"
	if in.Context != nil {
		st.Context = *in.Context
	}
	if in.Description != nil {
		st.Description = *in.Description
	}
	if in.TargetURL != nil {
		st.TargetURL = *in.TargetURL
	}
	c, err := s.addStatus(repo, sha, st)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Validation Failed", DocumentationURL: doc, Status: "422",
			Errors: []fieldError{{Resource: "Status", Field: "state", Code: "custom", Message: err.Error()}}})
		return
	}
	s.logf("github: status %s %s on %s", c.Context, c.State, sha[:7])
	s.settle(r.Context(), repo, true)
	writeJSON(w, http.StatusCreated, s.statusJSON(repo, sha, c))
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
	all := slices.Clone(repo.statuses[sha])
	slices.Reverse(all)
	start, end := s.page(w, r, len(all), 30, 100)
	out := []map[string]any{}
	for _, c := range all[start:end] {
		out = append(out, s.statusJSON(repo, sha, c))
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
	latest := repo.latestStatuses(sha)
	start, end := s.page(w, r, len(latest), 30, 100)
	statuses := []map[string]any{}
	for _, c := range latest[start:end] {
		statuses = append(statuses, s.statusJSON(repo, sha, c))
	}
	s.writeCacheable(w, r, map[string]any{
		"state": combinedState(latest), "statuses": statuses, "sha": sha, "total_count": len(latest),
		"repository": s.repoJSON(repo), "commit_url": s.srv.URL + "/repos/" + repo.fullName() + "/commits/" + sha,
		"url": s.srv.URL + "/repos/" + repo.fullName() + "/commits/" + sha + "/status",
	})
}

// suiteID is the check suite of an app's runs on a commit: the id of the
// app's first run there (the simulator has one suite per app and commit).
func (r *repoState) suiteID(sha, app string) int {
	for _, rr := range r.runs[sha] {
		if rr.App == app {
			return rr.id
		}
	}
	return 0
}

func (s *Server) checkRunJSON(repo *repoState, sha string, c *runRec) map[string]any {
	return map[string]any{
		"id": c.id, "node_id": fmt.Sprintf("CR_sim%d", c.id), "head_sha": sha, "external_id": "", "name": c.Name,
		"status": c.Status, "conclusion": nullable(c.Conclusion), "details_url": nullable(c.DetailsURL),
		"html_url":   fmt.Sprintf("%s/%s/runs/%d", s.htmlBase(), repo.fullName(), c.id),
		"url":        fmt.Sprintf("%s/repos/%s/check-runs/%d", s.srv.URL, repo.fullName(), c.id),
		"started_at": ts(c.started), "completed_at": ts(c.completed),
		"output":        map[string]any{"title": nullable(c.title), "summary": nullable(c.summary), "text": nil, "annotations_count": 0},
		"check_suite":   map[string]any{"id": repo.suiteID(sha, c.App)},
		"app":           map[string]any{"id": 1, "slug": c.App, "name": c.App},
		"pull_requests": []any{},
	}
}

// pullerApp is the GitHub App the simulator takes POST /check-runs to come
// from (GitHub takes it from the App's installation token).
const pullerApp = "gitops-puller"

// createCheckRun creates a check run as a GitHub App would (the simulator
// accepts any authorized token); a run may let auto-merge or the merge
// queue go on.
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
	c := s.addRun(repo, sha, CheckRun{Name: in.Name, Status: in.Status, Conclusion: in.Conclusion, DetailsURL: in.DetailsURL, App: pullerApp}, false)
	c.title, c.summary = in.Output.Title, in.Output.Summary
	s.settle(r.Context(), repo, true)
	writeJSON(w, http.StatusCreated, s.checkRunJSON(repo, sha, c))
}

// listCheckRuns lists the check runs of a ref, newest first; filter=latest
// (the default) keeps the most recent run of each name and app.
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
	q := r.URL.Query()
	runs := filterRuns(repo.runs[sha], q.Get("filter") != "all", q.Get("check_name"), q.Get("status"))
	start, end := s.page(w, r, len(runs), 30, 100)
	out := []map[string]any{}
	for _, c := range runs[start:end] {
		out = append(out, s.checkRunJSON(repo, sha, c))
	}
	s.writeCacheable(w, r, map[string]any{"total_count": len(runs), "check_runs": out})
}

// filterRuns returns runs (oldest first) newest first: with latest only the
// newest of each app and name, and only those of name and status when set
// (status compared case-insensitively, for GraphQL's upper-case enum).
func filterRuns(all []*runRec, latest bool, name, status string) []*runRec {
	var out []*runRec
	seen := map[string]bool{}
	for i := len(all) - 1; i >= 0; i-- {
		c := all[i]
		key := c.App + "/" + c.Name
		if (latest && seen[key]) || (name != "" && c.Name != name) || (status != "" && !strings.EqualFold(c.Status, status)) {
			continue
		}
		seen[key] = true
		out = append(out, c)
	}
	return out
}
