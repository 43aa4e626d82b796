package config

import (
	"path"
	"regexp"
	"strings"
)

// fluxName is a Flux Kustomization reference, [namespace/]name, both DNS-1123.
var fluxName = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// kubeconfigSecretKey matches the kubeconfig fields that hold credentials.
var kubeconfigSecretKey = regexp.MustCompile(`^\s*-?\s*(token|password|client-key-data|client-certificate-data|id-token|refresh-token|access-token|client-secret)\s*:\s*(.+?)\s*$`)

// ConfirmsOtherwise reports whether c asks for a confirmation other than
// Argo CD's API: GitHub statuses or deployments, or Flux.
func (c *Config) ConfirmsOtherwise() bool {
	return len(c.StatusContexts) > 0 || c.DeploymentEnvironment != "" || len(c.FluxKustomizations) > 0
}

// Confirms reports whether c asks for any confirmation at all.
func (c *Config) Confirms() bool {
	return len(c.ArgoCDApps) > 0 || c.ConfirmsOtherwise()
}

// checkConfirm checks the wave-2 confirmation inputs: GitHub statuses,
// deployments and Flux.
func (c *Config) checkConfirm(add func(error)) {
	seen := map[string]bool{}
	for _, s := range c.StatusContexts {
		switch {
		case len(s) > 255 || strings.ContainsAny(s, "\r\n\t"):
			add(problem(InStatusContexts, "got %q, want a status context or check name of at most 255 characters on one line", cut(s)))
		case seen[s]:
			add(problem(InStatusContexts, "lists %q twice", s))
		default:
			if _, err := path.Match(s, ""); err != nil {
				add(problem(InStatusContexts, "got %q, want a context name where * matches any run of characters (the pattern is malformed)", s))
			}
		}
		seen[s] = true
	}
	if e := c.DeploymentEnvironment; e != "" && (len(e) > 255 || strings.ContainsAny(e, "\r\n\t")) {
		add(problem(InDeploymentEnvironment, "got %q, want an environment name of at most 255 characters on one line", cut(e)))
	}
	if (len(c.StatusContexts) > 0 || c.DeploymentEnvironment != "") && !c.UsesGitHubAPI() {
		add(problem(InStatusContexts, "status-contexts and deployment-environment read GitHub: they need the GitHub API (a github.com repository-url, a runner, or github-api-url)"))
	}
	seen = map[string]bool{}
	for _, k := range c.FluxKustomizations {
		switch {
		case !fluxName.MatchString(k):
			add(problem(InFluxKustomizations, "got %q, want [namespace/]name in lower case (namespace default flux-system)", cut(k)))
		case seen[k]:
			add(problem(InFluxKustomizations, "lists %q twice", k))
		}
		seen[k] = true
	}
	if len(c.FluxKustomizations) == 0 && (c.Kubeconfig != "" || c.KubeContext != "") {
		add(problem(InKubeconfig, "kubeconfig and kube-context are used only with flux-kustomizations; give the Kustomizations to wait for"))
	}
	if c.KubeContext != "" && strings.ContainsAny(c.KubeContext, "\r\n\t") {
		add(problem(InKubeContext, "got %q, want a context name on one line", cut(c.KubeContext)))
	}
}

// kubeconfigSecrets returns the credential values of a kubeconfig given as
// content (a path holds none): tokens, passwords, keys.
func kubeconfigSecrets(kubeconfig string) []string {
	if !strings.Contains(kubeconfig, "\n") {
		return nil
	}
	var out []string
	for line := range strings.SplitSeq(kubeconfig, "\n") {
		if m := kubeconfigSecretKey.FindStringSubmatch(line); m != nil {
			if v := strings.Trim(m[2], `"'`); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// cut shortens a value for a message.
func cut(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
