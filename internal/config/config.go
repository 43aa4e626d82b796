package config

import (
	"net/url"
	"strings"
	"time"
)

// Mode is the value of the mode input.
type Mode string

// The modes of landing.
const (
	ModePush        Mode = "push"
	ModePullRequest Mode = "pull-request"
	ModeAuto        Mode = "auto"
)

// CommitMethod is the value of the commit-method input.
type CommitMethod string

// The commit methods.
const (
	CommitGit CommitMethod = "git"
	CommitAPI CommitMethod = "api"
)

// MergeMethod is the value of the merge-method input.
type MergeMethod string

// The merge methods GitHub offers.
const (
	MergeMerge  MergeMethod = "merge"
	MergeSquash MergeMethod = "squash"
	MergeRebase MergeMethod = "rebase"
)

// Refresh is the value of the argocd-refresh input.
type Refresh string

// The Argo CD refresh kinds.
const (
	RefreshNormal Refresh = "normal"
	RefreshHard   Refresh = "hard"
	RefreshNone   Refresh = "none"
)

// Config is every input of gitops-promote, parsed. Build it with [Load] (which
// applies the defaults and validates) or by hand followed by [Config.Validate].
type Config struct {
	Images      []string // images: raw image arguments, checked by internal/image
	Overlays    []string // overlays
	PromoteFrom string   // promote-from

	Repository    string // repository: owner/name
	RepositoryURL string // repository-url: the git remote
	Branch        string // branch: "" means the repository's default branch
	Token         string // token (secret)
	GitHubAPIURL  string // github-api-url: "" when the GitHub API is not used

	Mode          Mode         // mode
	CommitMethod  CommitMethod // commit-method
	CommitMessage string       // commit-message: a Go template; "" for the generated one
	Author        string       // author, "Name <email>"
	AuthorName    string       // the name part of Author
	AuthorEmail   string       // the email part of Author

	PRBranch     string      // pr-branch: "" for the generated one
	PRTitle      string      // pr-title: a Go template; "" for the generated one
	PRBody       string      // pr-body: a Go template; "" for the generated one
	PRLabels     []string    // pr-labels
	PRReviewers  []string    // pr-reviewers
	AutoMerge    bool        // auto-merge
	MergeMethod  MergeMethod // merge-method
	WaitForMerge bool        // wait-for-merge (default: AutoMerge)

	ValidateOverlays bool // validate (named so to leave Validate to the method)
	DryRun           bool // dry-run
	ValidateRemote   bool // validate-remote: validation may fetch remote resources and bases

	ArgoCDServer   string   // argocd-server: a base URL, https://host[:port] when given as host[:port]
	ArgoCDToken    string   // argocd-token (secret)
	ArgoCDUsername string   // argocd-username
	ArgoCDPassword string   // argocd-password (secret)
	ArgoCDApps     []string // argocd-apps: [namespace/]name
	ArgoCDRefresh  Refresh  // argocd-refresh
	ArgoCDSync     bool     // argocd-sync
	ArgoCDInsecure bool     // argocd-insecure
	ArgoCDCA       string   // argocd-ca: a PEM file path

	StatusContexts        []string // status-contexts: commit-status contexts or check-run names, * globs
	DeploymentEnvironment string   // deployment-environment: a GitHub deployment environment
	FluxKustomizations    []string // flux-kustomizations: [namespace/]name
	FluxReconcile         bool     // flux-reconcile
	Kubeconfig            string   // kubeconfig: a path, or the file's content (secret when content)
	KubeContext           string   // kube-context

	Timeout time.Duration // timeout: bound for the landing, then again for merge plus confirmation

	Revision string // revision (wait verb only)

	// Verb is the verb the inputs are validated for; "" means run.
	Verb Verb

	// Runner is true inside a GitHub Actions runner; it makes the GitHub API
	// available (DESIGN.md: where the GitHub API is used).
	Runner bool

	// problems found while parsing the raw strings, reported by Validate.
	problems []error
}

// Default returns a Config holding the fixed defaults of every input.
func Default() *Config {
	c := &Config{
		Mode:             DefaultMode,
		CommitMethod:     DefaultCommitMethod,
		AutoMerge:        DefaultAutoMerge,
		MergeMethod:      DefaultMergeMethod,
		WaitForMerge:     DefaultAutoMerge,
		ValidateOverlays: DefaultValidate,
		DryRun:           DefaultDryRun,
		ArgoCDRefresh:    DefaultArgoCDRefresh,
		ArgoCDSync:       DefaultArgoCDSync,
		Timeout:          DefaultTimeout,
		FluxReconcile:    DefaultFluxReconcile,
	}
	c.Author = DefaultAuthor
	c.AuthorName, c.AuthorEmail, _ = ParseAuthor(DefaultAuthor)
	return c
}

// Secrets returns the secret values set in c (tokens, passwords), for masking
// and redaction. Empty values are left out.
func (c *Config) Secrets() []string {
	var out []string
	for _, s := range []string{c.Token, c.ArgoCDToken, c.ArgoCDPassword} {
		if s != "" {
			out = append(out, s)
		}
	}
	return append(out, kubeconfigSecrets(c.Kubeconfig)...)
}

// UsesGitHubAPI reports whether the GitHub API may be used: when
// github-api-url was given or resolved (in a runner, or for a repository-url
// on github.com).
func (c *Config) UsesGitHubAPI() bool { return c.GitHubAPIURL != "" }

// GraphQLURL returns the GraphQL endpoint of GitHubAPIURL: <url>/graphql, or
// https://HOST/api/graphql where the URL ends in /api/v3 (GitHub Enterprise
// Server). It returns "" when the API is not used.
func (c *Config) GraphQLURL() string {
	if c.GitHubAPIURL == "" {
		return ""
	}
	base := strings.TrimRight(c.GitHubAPIURL, "/")
	if strings.HasSuffix(base, "/api/v3") {
		return strings.TrimSuffix(base, "/v3") + "/graphql"
	}
	return base + "/graphql"
}

// isGitHubDotCom reports whether a git URL points at github.com.
func isGitHubDotCom(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h == "github.com" || h == "www.github.com"
}
