package githubsim

import (
	"net/http"
	"strings"
)

// compare answers GET /repos/{owner}/{repo}/compare/{base}...{head}: status
// ahead, behind, identical or diverged, ahead_by and behind_by, and the
// commits reachable from head and not from base, oldest first, paginated
// (250 a page by default), each with its parents.
func (s *Server) compare(w http.ResponseWriter, r *http.Request) {
	const doc = docsBase + "/commits/commits#compare-two-commits"
	repo, ok := s.repoFor(w, r, doc)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	base, head, ok := strings.Cut(r.PathValue("basehead"), "...")
	if !ok {
		notFound(w, doc)
		return
	}
	ctx := r.Context()
	bsha, hsha := repo.git.resolve(ctx, base), repo.git.resolve(ctx, head)
	if bsha == "" || hsha == "" {
		notFound(w, doc)
		return
	}
	ahead, err := repo.git.revList(ctx, bsha, hsha)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Message: err.Error()})
		return
	}
	behind, err := repo.git.revList(ctx, hsha, bsha)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Message: err.Error()})
		return
	}
	status := "diverged"
	switch {
	case len(ahead) == 0 && len(behind) == 0:
		status = "identical"
	case len(behind) == 0:
		status = "ahead"
	case len(ahead) == 0:
		status = "behind"
	}
	mergeBase, err := repo.git.run(ctx, nil, nil, "merge-base", bsha, hsha)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Message: err.Error()})
		return
	}
	start, end := s.page(w, r, len(ahead), 250, 250)
	commits := []map[string]any{}
	for _, sha := range ahead[start:end] {
		commits = append(commits, s.commitJSON(r, repo, sha))
	}
	s.writeCacheable(w, r, map[string]any{
		"url":               s.srv.URL + "/repos/" + repo.fullName() + "/compare/" + base + "..." + head,
		"html_url":          s.htmlBase() + "/" + repo.fullName() + "/compare/" + base + "..." + head,
		"base_commit":       s.commitJSON(r, repo, bsha),
		"merge_base_commit": s.commitJSON(r, repo, mergeBase),
		"status":            status, "ahead_by": len(ahead), "behind_by": len(behind),
		"total_commits": len(ahead), "commits": commits, "files": []any{},
	})
}

// commitJSON is the commit shape of the REST API: sha, commit message and
// parents.
func (s *Server) commitJSON(r *http.Request, repo *repoState, sha string) map[string]any {
	info, _ := repo.git.readCommit(r.Context(), sha)
	parents := []map[string]any{}
	for _, p := range info.parents {
		parents = append(parents, map[string]any{"sha": p, "url": s.srv.URL + "/repos/" + repo.fullName() + "/commits/" + p})
	}
	return map[string]any{
		"sha": sha, "node_id": "C_sim_" + sha, "url": s.srv.URL + "/repos/" + repo.fullName() + "/commits/" + sha,
		"html_url": s.htmlBase() + "/" + repo.fullName() + "/commit/" + sha,
		"commit":   map[string]any{"message": strings.TrimRight(info.message, "\n"), "author": map[string]any{"name": info.authorName, "email": info.authorEmail}},
		"parents":  parents,
	}
}
