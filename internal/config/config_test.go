package config

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func lookupOf(m map[string]string) Lookup {
	return func(name string) []string {
		if v, ok := m[name]; ok {
			return []string{v}
		}
		return nil
	}
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadResolvesDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inputs map[string]string
		env    map[string]string
		runner bool
		want   func(*Config)
	}{
		{
			name:   "cli with a local git server uses no GitHub API",
			inputs: map[string]string{"images": "app:1", "overlays": "a\nb\n", "repository-url": "http://127.0.0.1:8080/config.git", "mode": "push"},
			want: func(c *Config) {
				c.Images, c.Overlays = []string{"app:1"}, []string{"a", "b"}
				c.RepositoryURL, c.Mode = "http://127.0.0.1:8080/config.git", ModePush
			},
		},
		{
			name:   "repository on github.com resolves the URL and the API",
			inputs: map[string]string{"images": "app:1", "overlays": "a", "repository": "acme/config", "auto-merge": "false"},
			want: func(c *Config) {
				c.Images, c.Overlays, c.Repository = []string{"app:1"}, []string{"a"}, "acme/config"
				c.RepositoryURL, c.GitHubAPIURL = "https://github.com/acme/config.git", "https://api.github.com"
				c.AutoMerge, c.WaitForMerge = false, false
			},
		},
		{
			name:   "runner takes repository, server and API from the environment",
			inputs: map[string]string{"images": "app:1", "overlays": "a", "token": "s3cret", "argocd-server": "argocd.example.com:8443", "argocd-apps": "argocd/app"},
			env:    map[string]string{"GITHUB_REPOSITORY": "acme/config", "GITHUB_SERVER_URL": "https://ghe.example.com", "GITHUB_API_URL": "https://ghe.example.com/api/v3"},
			runner: true,
			want: func(c *Config) {
				c.Images, c.Overlays, c.Repository, c.Token = []string{"app:1"}, []string{"a"}, "acme/config", "s3cret"
				c.RepositoryURL, c.GitHubAPIURL = "https://ghe.example.com/acme/config.git", "https://ghe.example.com/api/v3"
				c.ArgoCDServer, c.ArgoCDApps, c.Runner = "https://argocd.example.com:8443", []string{"argocd/app"}, true
			},
		},
		{
			name:   "a repository-url alone does not take the workflow's repository",
			inputs: map[string]string{"images": "app:1", "overlays": "a", "repository-url": "https://git.example.com/team/config.git"},
			env:    map[string]string{"GITHUB_REPOSITORY": "acme/app", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "https://api.github.com"},
			runner: true,
			want: func(c *Config) {
				c.Images, c.Overlays, c.RepositoryURL, c.GitHubAPIURL, c.Runner = []string{"app:1"}, []string{"a"}, "https://git.example.com/team/config.git", "https://api.github.com", true
			},
		},
		{
			name:   "explicit values override every default",
			inputs: map[string]string{"promote-from": "apps/x/overlays/staging", "overlays": "apps/*/overlays/production", "repository-url": "https://git.example.com/c.git", "github-api-url": "https://api.example.com/", "mode": "pull-request", "commit-method": "api", "merge-method": "rebase", "wait-for-merge": "true", "auto-merge": "false", "validate": "false", "dry-run": "TRUE", "timeout": "90s", "argocd-refresh": "hard", "author": "Bot <bot@example.com>", "branch": "main"},
			want: func(c *Config) {
				c.PromoteFrom, c.Overlays = "apps/x/overlays/staging", []string{"apps/*/overlays/production"}
				c.RepositoryURL, c.GitHubAPIURL, c.Mode, c.CommitMethod = "https://git.example.com/c.git", "https://api.example.com", ModePullRequest, CommitAPI
				c.MergeMethod, c.WaitForMerge, c.AutoMerge, c.ValidateOverlays, c.DryRun = MergeRebase, true, false, false, true
				c.Timeout, c.ArgoCDRefresh, c.Author, c.AuthorName, c.AuthorEmail, c.Branch = 90*time.Second, RefreshHard, "Bot <bot@example.com>", "Bot", "bot@example.com", "main"
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Load(lookupOf(tc.inputs), WithGetenv(envOf(tc.env)), InRunner(tc.runner))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default()
			want.Verb = VerbRun
			tc.want(want)
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(Config{})); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	inputs := map[string]string{
		"overlays":        "../outside",
		"repository-url":  "http://x-access-token:ghp_SECRET@git.example.com/c.git",
		"mode":            "pushh",
		"commit-message":  "{{ .Changes",
		"author":          "nobody",
		"auto-merge":      "yes",
		"timeout":         "-1s",
		"argocd-apps":     "Bad_App",
		"argocd-token":    "tok",
		"argocd-username": "admin",
		"merge-method":    "fast-forward",
		"argocd-refresh":  "soft",
		"argocd-insecure": "true",
		"argocd-ca":       "ca.pem",
		"pr-branch":       "bad branch",
	}
	_, err := Load(lookupOf(inputs))
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load error = %v, want *Errors", err)
	}
	if !errs.BadInput() {
		t.Error("BadInput() = false, want true")
	}
	var got []string
	for _, p := range errs.Problems() {
		got = append(got, strings.SplitN(p.Error(), ":", 2)[0])
	}
	want := []string{"auto-merge", "timeout", "overlays", "images", "repository-url", "mode", "commit-message", "author", "pr-branch", "merge-method", "argocd-server", "argocd-apps", "argocd-token", "argocd-password", "argocd-insecure", "argocd-refresh"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inputs named by the problems (-want +got):\n%s\nfull error:\n%v", diff, err)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.Contains(line, "\n") || line == "" {
			t.Errorf("problem %q is not one line", line)
		}
	}
	if strings.Contains(err.Error(), "ghp_SECRET") {
		t.Errorf("error shows the secret: %v", err)
	}
}

func TestValidatePerVerb(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		verb   Verb
		inputs map[string]string
		want   string // the error, "" for none
	}{
		{name: "edit needs no repository", verb: VerbEdit, inputs: map[string]string{"images": "a:1", "overlays": "o"}},
		{name: "edit without images", verb: VerbEdit, inputs: map[string]string{"overlays": "o"}, want: "images: required unless promote-from is set: give at least one image, one per line"},
		{name: "wait needs server, apps and revision", verb: VerbWait, inputs: map[string]string{}, want: "argocd-server: required to wait in Argo CD: give host[:port] or an https:// URL\nargocd-apps: required: give the applications to wait for, one per line\nrevision: required: give the full commit SHA to confirm"},
		{name: "wait with a short revision", verb: VerbWait, inputs: map[string]string{"argocd-server": "http://127.0.0.1:9", "argocd-apps": "app", "revision": "abc123"}, want: `revision: got "abc123", want a full commit SHA (40 lower-case hex)`},
		{name: "pull-request on a foreign host", verb: VerbRun, inputs: map[string]string{"images": "a:1", "overlays": "o", "repository-url": "https://git.example.com/c.git", "mode": "pull-request"}, want: "mode: pull-request needs the GitHub API, which is used only for a github.com repository-url, in a runner, or when github-api-url is given; use mode: push for other git hosts"},
		{name: "http to a remote Argo CD", verb: VerbRun, inputs: map[string]string{"images": "a:1", "overlays": "o", "repository-url": "https://github.com/a/b.git", "argocd-server": "http://argocd.example.com", "argocd-apps": "app"}, want: `argocd-server: got "http://argocd.example.com": http:// is allowed only for localhost or 127.0.0.1, use https://`},
		{name: "wait through GitHub statuses alone", verb: VerbWait, inputs: map[string]string{"status-contexts": "continuous-delivery/*", "github-api-url": "http://127.0.0.1:9", "repository": "a/b", "revision": strings.Repeat("a", 40)}},
		{name: "wait through Flux alone", verb: VerbWait, inputs: map[string]string{"flux-kustomizations": "apps\nteam/web", "revision": strings.Repeat("a", 40)}},
		{name: "statuses without the GitHub API", verb: VerbRun, inputs: map[string]string{"images": "a:1", "overlays": "o", "repository-url": "https://git.example.com/c.git", "status-contexts": "cd/app"}, want: "status-contexts: status-contexts and deployment-environment read GitHub: they need the GitHub API (a github.com repository-url, a runner, or github-api-url)"},
		{name: "bad status patterns", verb: VerbWait, inputs: map[string]string{"status-contexts": "cd/[app\ncd/[app", "github-api-url": "http://127.0.0.1:9", "revision": strings.Repeat("a", 40)}, want: "status-contexts: got \"cd/[app\", want a context name where * matches any run of characters (the pattern is malformed)\nstatus-contexts: lists \"cd/[app\" twice"},
		{name: "bad flux names", verb: VerbRun, inputs: map[string]string{"images": "a:1", "overlays": "o", "repository-url": "https://github.com/a/b.git", "flux-kustomizations": "Apps\na/b/c"}, want: "flux-kustomizations: got \"Apps\", want [namespace/]name in lower case (namespace default flux-system)\nflux-kustomizations: got \"a/b/c\", want [namespace/]name in lower case (namespace default flux-system)"},
		{name: "kubeconfig without flux", verb: VerbRun, inputs: map[string]string{"images": "a:1", "overlays": "o", "repository-url": "https://github.com/a/b.git", "kubeconfig": "/k"}, want: "kubeconfig: kubeconfig and kube-context are used only with flux-kustomizations; give the Kustomizations to wait for"},
		{name: "server without apps", verb: VerbRun, inputs: map[string]string{"images": "a:1", "overlays": "o", "repository-url": "https://github.com/a/b.git", "argocd-server": "argocd:443"}, want: "argocd-apps: required when argocd-server is set: give the applications to wait for, one per line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(lookupOf(tc.inputs), ForVerb(tc.verb))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAuthor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, name, email string
		ok              bool
	}{
		{in: DefaultAuthor, name: "github-actions[bot]", email: "41898282+github-actions[bot]@users.noreply.github.com", ok: true},
		{in: "Ada Lovelace <ada@example.com>", name: "Ada Lovelace", email: "ada@example.com", ok: true},
		{in: "ada@example.com"},
		{in: "<ada@example.com>"},
		{in: "Ada <>"},
		{in: "Ada <ada>"},
		{in: "Ada <a@b> x"},
		{in: "Ada\n <a@b>"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			name, email, err := ParseAuthor(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseAuthor(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if diff := cmp.Diff([]string{tc.name, tc.email}, []string{name, email}); diff != "" {
				t.Errorf("ParseAuthor (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegisterFlags(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	lookup := RegisterFlags(fs, VerbRun)
	args := []string{"--images", "a:1\nb:2", "--images", "c:3", "--overlays", "o", "--dry-run", "--validate=false", "--repository-url", "https://github.com/a/b.git"}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c, err := Load(lookup)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := []any{c.Images, c.DryRun, c.ValidateOverlays}
	if diff := cmp.Diff([]any{[]string{"a:1", "b:2", "c:3"}, true, false}, got); diff != "" {
		t.Errorf("parsed flags (-want +got):\n%s", diff)
	}
	if fs.Lookup("root") != nil || fs.Lookup("revision") != nil {
		t.Error("run registered a flag of another verb")
	}
}

func TestGraphQLURLAndSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct{ api, want string }{
		{"https://api.github.com", "https://api.github.com/graphql"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"},
		{"", ""},
	}
	for _, tc := range tests {
		c := &Config{GitHubAPIURL: tc.api}
		if got := c.GraphQLURL(); got != tc.want {
			t.Errorf("GraphQLURL(%q) = %q, want %q", tc.api, got, tc.want)
		}
	}
	c := &Config{Token: "t", ArgoCDPassword: "p"}
	if diff := cmp.Diff([]string{"t", "p"}, c.Secrets()); diff != "" {
		t.Errorf("Secrets (-want +got):\n%s", diff)
	}
}

func TestKubeconfigContentSecrets(t *testing.T) {
	t.Parallel()
	content := "apiVersion: v1\nusers:\n- name: ci\n  user:\n    token: \"sa-token-1\"\n    client-key-data: a2V5\n"
	c := &Config{Kubeconfig: content}
	if diff := cmp.Diff([]string{"sa-token-1", "a2V5"}, c.Secrets()); diff != "" {
		t.Errorf("Secrets of kubeconfig content (-want +got):\n%s", diff)
	}
	if got := (&Config{Kubeconfig: "/home/ci/.kube/config"}).Secrets(); len(got) != 0 {
		t.Errorf("a kubeconfig path is no secret, got %q", got)
	}
}

func TestSpecsNameEveryInput(t *testing.T) {
	t.Parallel()
	var names []string
	for _, s := range Specs() {
		names = append(names, s.Name)
	}
	want := []string{"images", "overlays", "promote-from", "repository", "repository-url", "branch", "token", "github-api-url", "mode", "commit-method", "commit-message", "author", "pr-branch", "pr-title", "pr-body", "pr-labels", "pr-reviewers", "auto-merge", "merge-method", "wait-for-merge", "validate", "dry-run", "argocd-server", "argocd-token", "argocd-username", "argocd-password", "argocd-apps", "argocd-refresh", "argocd-sync", "argocd-insecure", "argocd-ca", "timeout", "status-contexts", "deployment-environment", "flux-kustomizations", "flux-reconcile", "kubeconfig", "kube-context", "validate-remote", "revision"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("input names (-want +got):\n%s", diff)
	}
}
