package config

import (
	"path"
	"regexp"
	"strings"
)

var reviewerRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(/[A-Za-z0-9._-]+)?$`)

// Validate checks c for its verb (run when Verb is empty) and returns every
// problem at once as an *[Errors] (BadInput() true), or nil.
func (c *Config) Validate() error {
	probs := append([]error(nil), c.problems...)
	add := func(err error) {
		if err != nil {
			probs = append(probs, err)
		}
	}
	if c.Verb != VerbEdit {
		c.checkTokens(add)
	}
	switch c.Verb {
	case VerbEdit:
		c.checkEdit(add)
	case VerbWait:
		c.checkArgoCD(add, !c.ConfirmsOtherwise())
		c.checkConfirm(add)
		c.checkRevision(add)
		if c.RepositoryURL != "" {
			_, err := ParseHTTPURL(InRepositoryURL, c.RepositoryURL)
			add(err)
		}
		add(checkBranch(InBranch, c.Branch))
	default:
		c.checkEdit(add)
		c.checkLanding(add)
		c.checkPR(add)
		c.checkArgoCD(add, false)
		c.checkConfirm(add)
	}
	return newErrors(probs)
}

func (c *Config) checkEdit(add func(error)) {
	if len(c.Overlays) == 0 {
		add(problem(InOverlays, "required: give at least one overlay folder, one per line"))
	}
	for _, o := range c.Overlays {
		add(checkRelPath(InOverlays, o))
	}
	if c.PromoteFrom != "" {
		add(checkRelPath(InPromoteFrom, c.PromoteFrom))
	} else if len(c.Images) == 0 {
		add(problem(InImages, "required unless promote-from is set: give at least one image, one per line"))
	}
}

// checkRelPath refuses absolute paths and .. segments; the edit engine also
// keeps paths inside the root, this gives the person the message early.
func checkRelPath(input, p string) error {
	if path.IsAbs(p) || strings.HasPrefix(p, `\`) || (len(p) > 1 && p[1] == ':') {
		return problem(input, "got %q, want a path relative to the config repo root", p)
	}
	for seg := range strings.SplitSeq(strings.ReplaceAll(p, `\`, "/"), "/") {
		if seg == ".." {
			return problem(input, "got %q, want a path inside the config repo (no ..)", p)
		}
	}
	return nil
}

func (c *Config) checkLanding(add func(error)) {
	if c.Repository != "" && !repoName.MatchString(c.Repository) {
		add(problem(InRepository, "got %q, want owner/name", c.Repository))
	}
	if c.RepositoryURL == "" {
		add(problem(InRepositoryURL, "required: give repository (owner/name) or repository-url"))
	} else {
		_, err := ParseHTTPURL(InRepositoryURL, c.RepositoryURL)
		add(err)
	}
	add(checkBranch(InBranch, c.Branch))
	if c.GitHubAPIURL != "" {
		_, err := ParseHTTPURL(InGitHubAPIURL, c.GitHubAPIURL)
		add(err)
	}
	if _, err := parseEnum(InMode, string(c.Mode), ModePush, ModePullRequest, ModeAuto); err != nil {
		add(err)
	} else if c.Mode == ModePullRequest && !c.UsesGitHubAPI() {
		add(problem(InMode, "pull-request needs the GitHub API, which is used only for a github.com repository-url, in a runner, or when github-api-url is given; use mode: push for other git hosts"))
	}
	if _, err := parseEnum(InCommitMethod, string(c.CommitMethod), CommitGit, CommitAPI); err != nil {
		add(err)
	} else if c.CommitMethod == CommitAPI && !c.UsesGitHubAPI() {
		add(problem(InCommitMethod, "api needs the GitHub API (a github.com repository-url, a runner, or github-api-url); use commit-method: git"))
	}
	add(checkTemplate(InCommitMessage, c.CommitMessage))
	if c.AuthorName == "" || c.AuthorEmail == "" {
		name, email, err := ParseAuthor(c.Author)
		add(err)
		c.AuthorName, c.AuthorEmail = name, email
	}
}

func (c *Config) checkPR(add func(error)) {
	add(checkBranch(InPRBranch, c.PRBranch))
	if c.PRBranch != "" && c.PRBranch == c.Branch {
		add(problem(InPRBranch, "is the branch %q itself; give another branch for the pull request", c.Branch))
	}
	add(checkTemplate(InPRTitle, c.PRTitle))
	add(checkTemplate(InPRBody, c.PRBody))
	for _, l := range c.PRLabels {
		if len(l) > 50 || strings.ContainsAny(l, ",") {
			add(problem(InPRLabels, "got %q, want a label name of at most 50 characters without commas", l))
		}
	}
	for _, r := range c.PRReviewers {
		if !reviewerRe.MatchString(strings.TrimPrefix(r, "@")) {
			add(problem(InPRReviewers, "got %q, want a GitHub user login or org/team", r))
		}
	}
	if _, err := parseEnum(InMergeMethod, string(c.MergeMethod), MergeMerge, MergeSquash, MergeRebase); err != nil {
		add(err)
	}
}

// checkArgoCD checks the Argo CD inputs; required makes server and apps
// mandatory (the wait verb).
func (c *Config) checkArgoCD(add func(error), required bool) {
	switch {
	case c.ArgoCDServer != "":
		_, err := ParseArgoCDServer(c.ArgoCDServer)
		add(err)
		if len(c.ArgoCDApps) == 0 {
			add(problem(InArgoCDApps, "required when argocd-server is set: give the applications to wait for, one per line"))
		}
	case len(c.ArgoCDApps) > 0 || required:
		add(problem(InArgoCDServer, "required to wait in Argo CD: give host[:port] or an https:// URL"))
		if len(c.ArgoCDApps) == 0 {
			add(problem(InArgoCDApps, "required: give the applications to wait for, one per line"))
		}
	}
	seen := map[string]bool{}
	for _, a := range c.ArgoCDApps {
		if !appName.MatchString(a) {
			add(problem(InArgoCDApps, "got %q, want [namespace/]name in lower case", a))
		} else if seen[a] {
			add(problem(InArgoCDApps, "lists %q twice", a))
		}
		seen[a] = true
	}
	if c.ArgoCDToken != "" && c.ArgoCDUsername != "" {
		add(problem(InArgoCDToken, "give either argocd-token or argocd-username with argocd-password, not both"))
	}
	if (c.ArgoCDUsername == "") != (c.ArgoCDPassword == "") {
		add(problem(InArgoCDPassword, "argocd-username and argocd-password go together"))
	}
	if c.ArgoCDInsecure && c.ArgoCDCA != "" {
		add(problem(InArgoCDInsecure, "true skips verification, so argocd-ca would be ignored; give one of them"))
	}
	if _, err := parseEnum(InArgoCDRefresh, string(c.ArgoCDRefresh), RefreshNormal, RefreshHard, RefreshNone); err != nil {
		add(err)
	}
	if c.Timeout <= 0 {
		add(problem(InTimeout, "want a positive Go duration such as 90s or 15m"))
	}
}

func (c *Config) checkRevision(add func(error)) {
	if c.Revision == "" {
		add(problem(InRevision, "required: give the full commit SHA to confirm"))
	} else if !revisionRe.MatchString(c.Revision) {
		add(problem(InRevision, "got %q, want a full commit SHA (40 lower-case hex)", c.Revision))
	}
}
