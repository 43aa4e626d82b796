package githubsim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

type deployment struct {
	id                               int64
	sha, ref, task, env, description string
	transient, production            bool
	creator                          string
	at                               time.Time
	statuses                         []*deploymentStatus // oldest first
}

type deploymentStatus struct {
	id                                      int64
	state, description, env, logURL, envURL string
	creator                                 string
	at                                      time.Time
}

func (s *Server) deploymentJSON(repo *repoState, d *deployment) map[string]any {
	at := d.at.UTC().Format(time.RFC3339)
	u := fmt.Sprintf("%s/repos/%s/deployments/%d", s.srv.URL, repo.fullName(), d.id)
	return map[string]any{
		"url": u, "id": d.id, "node_id": fmt.Sprintf("DE_sim%d", d.id), "sha": d.sha, "ref": d.ref, "task": d.task,
		"payload": map[string]any{}, "original_environment": d.env, "environment": d.env,
		"description": nullable(d.description), "creator": s.userJSON(d.creator, "Bot"), "created_at": at, "updated_at": at,
		"statuses_url": u + "/statuses", "repository_url": s.srv.URL + "/repos/" + repo.fullName(),
		"transient_environment": d.transient, "production_environment": d.production,
	}
}

func (s *Server) deploymentStatusJSON(repo *repoState, d *deployment, st *deploymentStatus) map[string]any {
	at := st.at.UTC().Format(time.RFC3339)
	u := fmt.Sprintf("%s/repos/%s/deployments/%d", s.srv.URL, repo.fullName(), d.id)
	return map[string]any{
		"url": fmt.Sprintf("%s/statuses/%d", u, st.id), "id": st.id, "node_id": fmt.Sprintf("DES_sim%d", st.id),
		"state": st.state, "creator": s.userJSON(st.creator, "Bot"), "description": st.description, "environment": st.env,
		"target_url": st.logURL, "log_url": st.logURL, "environment_url": st.envURL, "created_at": at, "updated_at": at,
		"deployment_url": u, "repository_url": s.srv.URL + "/repos/" + repo.fullName(),
	}
}

// createDeployment creates a deployment of a ref. Without required_contexts
// every status context of the commit must be success (409 otherwise); an
// empty list skips the check, as Argo CD Notifications sends it. auto_merge
// is not simulated (the ref is deployed as it is).
func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/deployments/deployments#create-a-deployment"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var in struct {
		Ref                   string    `json:"ref"`
		Task                  string    `json:"task"`
		Environment           string    `json:"environment"`
		Description           string    `json:"description"`
		RequiredContexts      *[]string `json:"required_contexts"`
		TransientEnvironment  bool      `json:"transient_environment"`
		ProductionEnvironment *bool     `json:"production_environment"`
	}
	if !decode(w, r, &in) {
		return
	}
	sha := repo.git.resolve(r.Context(), in.Ref)
	if sha == "" {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "No ref found for: " + in.Ref, DocumentationURL: doc, Status: "422"})
		return
	}
	s.st.init()
	if in.RequiredContexts == nil || len(*in.RequiredContexts) > 0 {
		if failing := s.unmetContexts(repo, sha, in.RequiredContexts); len(failing) > 0 {
			writeJSON(w, http.StatusConflict, apiError{Message: "Conflict: Commit status checks failed for " + in.Ref + ".", DocumentationURL: doc, Status: "409"})
			return
		}
	}
	d := &deployment{id: s.st.id(), sha: sha, ref: in.Ref, task: in.Task, env: in.Environment, description: in.Description,
		transient: in.TransientEnvironment, production: in.Environment == "production", creator: s.login, at: s.now()}
	if d.task == "" {
		d.task = "deploy"
	}
	if d.env == "" {
		d.env = "production"
		d.production = true
	}
	if in.ProductionEnvironment != nil {
		d.production = *in.ProductionEnvironment
	}
	s.st.deployments[repo.fullName()] = append(s.st.deployments[repo.fullName()], d)
	writeJSON(w, http.StatusCreated, s.deploymentJSON(repo, d))
}

// unmetContexts lists the contexts (all of the commit's when required is
// nil) whose latest status is not success.
func (s *Server) unmetContexts(repo *repoState, sha string, required *[]string) []string {
	latest := map[string]string{}
	for _, c := range repo.latestStatuses(sha) {
		latest[c.Context] = c.State
	}
	var want []string
	if required != nil {
		want = *required
	} else {
		for c := range latest {
			want = append(want, c)
		}
	}
	var out []string
	for _, c := range want {
		if latest[c] != "success" {
			out = append(out, c)
		}
	}
	return out
}

// listDeployments lists deployments, newest first, filtered by sha, ref,
// task and environment.
func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	repo, ok := s.repoFor(w, r, docsBase+"/deployments/deployments#list-deployments")
	if !ok {
		return
	}
	defer s.mu.Unlock()
	s.st.init()
	q := r.URL.Query()
	var list []*deployment
	all := s.st.deployments[repo.fullName()]
	for i := len(all) - 1; i >= 0; i-- {
		d := all[i]
		if (q.Get("sha") != "" && d.sha != q.Get("sha")) || (q.Get("ref") != "" && d.ref != q.Get("ref")) ||
			(q.Get("task") != "" && d.task != q.Get("task")) || (q.Get("environment") != "" && d.env != q.Get("environment")) {
			continue
		}
		list = append(list, d)
	}
	start, end := s.page(w, r, len(list), 30, 100)
	out := []map[string]any{}
	for _, d := range list[start:end] {
		out = append(out, s.deploymentJSON(repo, d))
	}
	s.writeCacheable(w, r, out)
}

func (s *Server) deploymentFor(w http.ResponseWriter, r *http.Request, repo *repoState, doc string) (*deployment, bool) {
	s.st.init()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, d := range s.st.deployments[repo.fullName()] {
		if err == nil && d.id == id {
			return d, true
		}
	}
	notFound(w, doc)
	return nil, false
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/deployments/deployments#get-a-deployment"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	if d, ok := s.deploymentFor(w, r, repo, doc); ok {
		s.writeCacheable(w, r, s.deploymentJSON(repo, d))
	}
}

// createDeploymentStatus adds a status. With auto_inactive (default true),
// a success marks inactive every prior non-transient, non-production
// deployment of the same environment that had a success status.
func (s *Server) createDeploymentStatus(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/deployments/statuses#create-a-deployment-status"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	d, ok := s.deploymentFor(w, r, repo, doc)
	if !ok {
		return
	}
	var in struct {
		State          string `json:"state"`
		Description    string `json:"description"`
		Environment    string `json:"environment"`
		LogURL         string `json:"log_url"`
		TargetURL      string `json:"target_url"`
		EnvironmentURL string `json:"environment_url"`
		AutoInactive   *bool  `json:"auto_inactive"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !slices.Contains([]string{"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}, in.State) {
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Validation Failed", DocumentationURL: doc, Status: "422",
			Errors: []fieldError{{Resource: "DeploymentStatus", Field: "state", Code: "custom", Message: "state is not included in the list"}}})
		return
	}
	if in.LogURL == "" {
		in.LogURL = in.TargetURL
	}
	if in.Environment != "" {
		d.env = in.Environment
	}
	st := &deploymentStatus{id: s.st.id(), state: in.State, description: in.Description, env: d.env,
		logURL: in.LogURL, envURL: in.EnvironmentURL, creator: s.login, at: s.now()}
	d.statuses = append(d.statuses, st)
	if in.State == "success" && (in.AutoInactive == nil || *in.AutoInactive) {
		for _, o := range s.st.deployments[repo.fullName()] {
			if o.id < d.id && o.env == d.env && !o.transient && !o.production && o.succeeded() && o.latest() != "inactive" {
				o.statuses = append(o.statuses, &deploymentStatus{id: s.st.id(), state: "inactive", env: o.env, creator: s.login, at: s.now()})
			}
		}
	}
	writeJSON(w, http.StatusCreated, s.deploymentStatusJSON(repo, d, st))
}

func (d *deployment) succeeded() bool {
	return slices.ContainsFunc(d.statuses, func(st *deploymentStatus) bool { return st.state == "success" })
}

func (d *deployment) latest() string {
	if len(d.statuses) == 0 {
		return ""
	}
	return d.statuses[len(d.statuses)-1].state
}

// listDeploymentStatuses lists a deployment's statuses, newest first.
func (s *Server) listDeploymentStatuses(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/deployments/statuses#list-deployment-statuses"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	d, ok := s.deploymentFor(w, r, repo, doc)
	if !ok {
		return
	}
	list := slices.Clone(d.statuses)
	slices.Reverse(list)
	start, end := s.page(w, r, len(list), 30, 100)
	out := []map[string]any{}
	for _, st := range list[start:end] {
		out = append(out, s.deploymentStatusJSON(repo, d, st))
	}
	s.writeCacheable(w, r, out)
}
