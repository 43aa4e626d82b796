package config

import (
	"strings"
)

// Lookup returns the values given for an input (flags may repeat; INPUT_*
// gives at most one). No value, or only blank ones, means "not given".
type Lookup func(name string) []string

// Option changes how [Load] resolves defaults.
type Option func(*loadOptions)

type loadOptions struct {
	getenv func(string) string
	runner bool
	verb   Verb
}

// WithGetenv gives Load the environment for the defaults that come from it:
// GITHUB_REPOSITORY, GITHUB_SERVER_URL, GITHUB_API_URL (in a runner),
// GITHUB_TOKEN and ARGOCD_AUTH_TOKEN (when token / argocd-token are not given).
func WithGetenv(getenv func(string) string) Option {
	return func(o *loadOptions) { o.getenv = getenv }
}

// InRunner tells Load that it runs inside a GitHub Actions runner, where the
// GitHub API is always available.
func InRunner(runner bool) Option {
	return func(o *loadOptions) { o.runner = runner }
}

// ForVerb selects the verb the inputs are validated for (default run).
func ForVerb(v Verb) Option {
	return func(o *loadOptions) { o.verb = v }
}

// Load builds a Config from lookup: fixed defaults, then the given values,
// then the defaults that depend on the environment, and validates the result
// for the verb. The error lists every problem (see [Errors]); the Config is
// returned even then, for masking its secrets.
func Load(lookup Lookup, opts ...Option) (*Config, error) {
	o := loadOptions{getenv: func(string) string { return "" }, verb: VerbRun}
	for _, opt := range opts {
		opt(&o)
	}
	c := Default()
	c.Runner = o.runner
	c.Verb = o.verb

	str := func(name string, dst *string) bool {
		vals := lookup(name)
		for i := len(vals) - 1; i >= 0; i-- {
			if v := strings.TrimSpace(vals[i]); v != "" {
				*dst = v
				return true
			}
		}
		return false
	}
	list := func(name string, dst *[]string) { *dst = SplitList(lookup(name)) }
	boolean := func(name string, dst *bool) bool {
		var v string
		if !str(name, &v) {
			return false
		}
		b, err := ParseBool(name, v)
		if err != nil {
			c.problems = append(c.problems, err)
			return false
		}
		*dst = b
		return true
	}
	enum := func(name string, dst *string) { str(name, dst) }

	list(InImages, &c.Images)
	list(InOverlays, &c.Overlays)
	str(InPromoteFrom, &c.PromoteFrom)
	str(InRepository, &c.Repository)
	str(InRepositoryURL, &c.RepositoryURL)
	str(InBranch, &c.Branch)
	str(InToken, &c.Token)
	apiGiven := str(InGitHubAPIURL, &c.GitHubAPIURL)
	enum(InMode, (*string)(&c.Mode))
	enum(InCommitMethod, (*string)(&c.CommitMethod))
	str(InCommitMessage, &c.CommitMessage)
	if str(InAuthor, &c.Author) {
		c.AuthorName, c.AuthorEmail = "", ""
	}
	str(InPRBranch, &c.PRBranch)
	str(InPRTitle, &c.PRTitle)
	str(InPRBody, &c.PRBody)
	list(InPRLabels, &c.PRLabels)
	list(InPRReviewers, &c.PRReviewers)
	boolean(InAutoMerge, &c.AutoMerge)
	enum(InMergeMethod, (*string)(&c.MergeMethod))
	if !boolean(InWaitForMerge, &c.WaitForMerge) {
		c.WaitForMerge = c.AutoMerge
	}
	boolean(InValidate, &c.ValidateOverlays)
	boolean(InDryRun, &c.DryRun)
	boolean(InValidateRemote, &c.ValidateRemote)
	str(InArgoCDServer, &c.ArgoCDServer)
	str(InArgoCDToken, &c.ArgoCDToken)
	str(InArgoCDUsername, &c.ArgoCDUsername)
	str(InArgoCDPassword, &c.ArgoCDPassword)
	list(InArgoCDApps, &c.ArgoCDApps)
	enum(InArgoCDRefresh, (*string)(&c.ArgoCDRefresh))
	boolean(InArgoCDSync, &c.ArgoCDSync)
	boolean(InArgoCDInsecure, &c.ArgoCDInsecure)
	str(InArgoCDCA, &c.ArgoCDCA)
	list(InStatusContexts, &c.StatusContexts)
	str(InDeploymentEnvironment, &c.DeploymentEnvironment)
	list(InFluxKustomizations, &c.FluxKustomizations)
	boolean(InFluxReconcile, &c.FluxReconcile)
	str(InKubeconfig, &c.Kubeconfig)
	str(InKubeContext, &c.KubeContext)
	var timeout string
	if str(InTimeout, &timeout) {
		d, err := ParseDuration(InTimeout, timeout)
		if err != nil {
			c.problems = append(c.problems, err)
		} else {
			c.Timeout = d
		}
	}
	str(InRevision, &c.Revision)

	c.resolveEnv(o, apiGiven)
	return c, c.Validate()
}

// resolveEnv fills the defaults that depend on the environment.
func (c *Config) resolveEnv(o loadOptions, apiGiven bool) {
	env := func(k string) string { return strings.TrimSpace(o.getenv(k)) }
	// The workflow's own repository is the default only when no repository-url names
	// another one: with a URL alone, owner/name come from the URL, so PR calls never go
	// to the workflow's repository by mistake.
	if c.Repository == "" && c.RepositoryURL == "" {
		c.Repository = env("GITHUB_REPOSITORY")
	}
	if c.RepositoryURL == "" && c.Repository != "" {
		server := env("GITHUB_SERVER_URL")
		if server == "" {
			server = DefaultServerURL
		}
		c.RepositoryURL = strings.TrimRight(server, "/") + "/" + c.Repository + ".git"
	}
	if c.Token == "" {
		c.Token = env("GITHUB_TOKEN")
	}
	if c.ArgoCDToken == "" && c.ArgoCDUsername == "" {
		c.ArgoCDToken = env("ARGOCD_AUTH_TOKEN")
	}
	if !apiGiven {
		switch {
		case o.runner:
			c.GitHubAPIURL = env("GITHUB_API_URL")
			if c.GitHubAPIURL == "" {
				c.GitHubAPIURL = DefaultGitHubAPIURL
			}
		case isGitHubDotCom(c.RepositoryURL):
			c.GitHubAPIURL = DefaultGitHubAPIURL
		}
	}
	if c.ArgoCDServer != "" {
		if norm, err := ParseArgoCDServer(c.ArgoCDServer); err == nil {
			c.ArgoCDServer = norm
		}
	}
	c.GitHubAPIURL = strings.TrimRight(c.GitHubAPIURL, "/")
}
