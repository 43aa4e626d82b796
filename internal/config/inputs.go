package config

import "time"

// Input names, exactly as in DESIGN.md's interface contract. Flags and INPUT_*
// variables use these names.
const (
	InImages         = "images"
	InOverlays       = "overlays"
	InPromoteFrom    = "promote-from"
	InRepository     = "repository"
	InRepositoryURL  = "repository-url"
	InBranch         = "branch"
	InToken          = "token"
	InGitHubAPIURL   = "github-api-url"
	InMode           = "mode"
	InCommitMethod   = "commit-method"
	InCommitMessage  = "commit-message"
	InAuthor         = "author"
	InPRBranch       = "pr-branch"
	InPRTitle        = "pr-title"
	InPRBody         = "pr-body"
	InPRLabels       = "pr-labels"
	InPRReviewers    = "pr-reviewers"
	InAutoMerge      = "auto-merge"
	InMergeMethod    = "merge-method"
	InWaitForMerge   = "wait-for-merge"
	InValidate       = "validate"
	InDryRun         = "dry-run"
	InArgoCDServer   = "argocd-server"
	InArgoCDToken    = "argocd-token"
	InArgoCDUsername = "argocd-username"
	InArgoCDPassword = "argocd-password"
	InArgoCDApps     = "argocd-apps"
	InArgoCDRefresh  = "argocd-refresh"
	InArgoCDSync     = "argocd-sync"
	InArgoCDInsecure = "argocd-insecure"
	InArgoCDCA       = "argocd-ca"
	InTimeout        = "timeout"

	// Wave 2: more ways to confirm (DESIGN.md "Added in wave 2").
	InStatusContexts        = "status-contexts"
	InDeploymentEnvironment = "deployment-environment"
	InFluxKustomizations    = "flux-kustomizations"
	InFluxReconcile         = "flux-reconcile"
	InKubeconfig            = "kubeconfig"
	InKubeContext           = "kube-context"

	// InValidateRemote lets validation fetch remote resources and bases
	// (issue 12: validation is offline unless this is set).
	InValidateRemote = "validate-remote"

	// InRevision is the CLI-only input of the wait verb: the commit to confirm.
	InRevision = "revision"
)

// Defaults of the inputs that have a fixed one. Defaults that depend on the
// environment (repository, repository-url, github-api-url) are resolved by
// [Load].
const (
	DefaultMode          = ModeAuto
	DefaultCommitMethod  = CommitGit
	DefaultAuthor        = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
	DefaultAutoMerge     = true
	DefaultMergeMethod   = MergeSquash
	DefaultValidate      = true
	DefaultDryRun        = false
	DefaultArgoCDRefresh = RefreshNormal
	DefaultArgoCDSync    = false
	DefaultTimeout       = 15 * time.Minute
	DefaultFluxReconcile = true
	DefaultServerURL     = "https://github.com"
	DefaultGitHubAPIURL  = "https://api.github.com"
)

// Kind is the shape of an input's value.
type Kind int

// The kinds of inputs.
const (
	KindString Kind = iota
	KindList        // one per line; a repeatable flag
	KindBool        // true or false
)

// Verb names a CLI verb; each input belongs to the verbs that read it.
type Verb string

// The verbs of the CLI.
const (
	VerbRun  Verb = "run"
	VerbEdit Verb = "edit"
	VerbWait Verb = "wait"
)

// Spec describes one input: its name, kind, default shown in help, whether it
// is a secret, the verbs that take it and a one-line usage.
type Spec struct {
	Name    string
	Kind    Kind
	Default string
	Secret  bool
	Verbs   []Verb
	Usage   string
}

var (
	runOnly  = []Verb{VerbRun}
	runEdit  = []Verb{VerbRun, VerbEdit}
	runWait  = []Verb{VerbRun, VerbWait}
	waitOnly = []Verb{VerbWait}
)

// Specs returns the table of every input, in the order of DESIGN.md. It is
// built on each call so that no caller can change another's copy.
func Specs() []Spec {
	return []Spec{
		{Name: InImages, Kind: KindList, Verbs: runEdit, Usage: "images to set, one per line or repeated: name:tag, name@digest, name=newName:tag, ..."},
		{Name: InOverlays, Kind: KindList, Verbs: runEdit, Usage: "overlay folders (globs allowed) relative to the config repo root, one per line or repeated"},
		{Name: InPromoteFrom, Verbs: runEdit, Usage: "overlay to copy the image entries from; images then may list bare names"},
		{Name: InRepository, Verbs: runWait, Usage: "config repo, owner/name"},
		{Name: InRepositoryURL, Verbs: runWait, Usage: "git URL of the config repo (default $GITHUB_SERVER_URL/<repository>.git)"},
		{Name: InBranch, Verbs: runWait, Usage: "branch the puller tracks (default the repo's default branch)"},
		{Name: InToken, Secret: true, Verbs: runWait, Usage: "token for git and the GitHub API (default $GITHUB_TOKEN outside a runner)"},
		{Name: InGitHubAPIURL, Verbs: runWait, Usage: "GitHub REST root; the API is used when given, in a runner, or for a github.com repository-url"},
		{Name: InMode, Default: string(DefaultMode), Verbs: runOnly, Usage: "push, pull-request or auto"},
		{Name: InCommitMethod, Default: string(DefaultCommitMethod), Verbs: runOnly, Usage: "git or api"},
		{Name: InCommitMessage, Verbs: runOnly, Usage: "Go template over .Changes (.File .Image .Old .New); default names each change"},
		{Name: InAuthor, Default: DefaultAuthor, Verbs: runOnly, Usage: "git author and committer, \"Name <email>\""},
		{Name: InPRBranch, Verbs: runOnly, Usage: "pull request branch (default gitops-promote/<branch>/<key of the overlays>)"},
		{Name: InPRTitle, Verbs: runOnly, Usage: "pull request title, a Go template like commit-message"},
		{Name: InPRBody, Verbs: runOnly, Usage: "pull request body, a Go template like commit-message"},
		{Name: InPRLabels, Kind: KindList, Verbs: runOnly, Usage: "labels for the pull request, one per line or repeated"},
		{Name: InPRReviewers, Kind: KindList, Verbs: runOnly, Usage: "reviewers for the pull request, one per line or repeated"},
		{Name: InAutoMerge, Kind: KindBool, Default: formatBool(DefaultAutoMerge), Verbs: runOnly, Usage: "enable auto-merge, or merge at once where allowed"},
		{Name: InMergeMethod, Default: string(DefaultMergeMethod), Verbs: runOnly, Usage: "merge, squash or rebase"},
		{Name: InWaitForMerge, Kind: KindBool, Verbs: runOnly, Usage: "wait until the pull request is merged (default: the value of auto-merge)"},
		{Name: InValidate, Kind: KindBool, Default: formatBool(DefaultValidate), Verbs: runEdit, Usage: "build each edited overlay with kustomize before landing"},
		{Name: InDryRun, Kind: KindBool, Default: formatBool(DefaultDryRun), Verbs: runEdit, Usage: "show the change as a diff; land nothing"},
		{Name: InArgoCDServer, Verbs: runWait, Usage: "Argo CD API address: host[:port] (HTTPS) or a URL (http:// only for local servers)"},
		{Name: InArgoCDToken, Secret: true, Verbs: runWait, Usage: "Argo CD API token"},
		{Name: InArgoCDUsername, Verbs: runWait, Usage: "Argo CD user (with argocd-password)"},
		{Name: InArgoCDPassword, Secret: true, Verbs: runWait, Usage: "Argo CD password"},
		{Name: InArgoCDApps, Kind: KindList, Verbs: runWait, Usage: "Argo CD applications to wait for, [namespace/]name, one per line or repeated"},
		{Name: InArgoCDRefresh, Default: string(DefaultArgoCDRefresh), Verbs: runWait, Usage: "normal, hard or none"},
		{Name: InArgoCDSync, Kind: KindBool, Default: formatBool(DefaultArgoCDSync), Verbs: runWait, Usage: "also request a sync"},
		{Name: InArgoCDInsecure, Kind: KindBool, Default: "false", Verbs: runWait, Usage: "skip TLS verification for Argo CD"},
		{Name: InArgoCDCA, Verbs: runWait, Usage: "PEM file of the CA that signed Argo CD's certificate"},
		{Name: InTimeout, Default: "15m", Verbs: runWait, Usage: "bound for the landing (every git request and its retries), then again for merge plus confirmation, a Go duration (90s, 15m)"},
		{Name: InStatusContexts, Kind: KindList, Verbs: runWait, Usage: "commit-status contexts or check-run names the puller writes to GitHub, one per line or repeated; * globs allowed"},
		{Name: InDeploymentEnvironment, Verbs: runWait, Usage: "GitHub deployment environment whose deployment of the revision must reach success"},
		{Name: InFluxKustomizations, Kind: KindList, Verbs: runWait, Usage: "Flux Kustomizations to wait for, [namespace/]name (default namespace flux-system), one per line or repeated"},
		{Name: InFluxReconcile, Kind: KindBool, Default: formatBool(DefaultFluxReconcile), Verbs: runWait, Usage: "request a reconcile of each Kustomization and its source, as flux reconcile ks --with-source does"},
		{Name: InKubeconfig, Secret: true, Verbs: runWait, Usage: "kubeconfig for Flux: a path or the file's content (default: the in-cluster service account)"},
		{Name: InKubeContext, Verbs: runWait, Usage: "context of the kubeconfig to use (default: its current context)"},
		{Name: InValidateRemote, Kind: KindBool, Default: "false", Verbs: runEdit, Usage: "let validation fetch remote resources and remote bases (runs git, reaches the network); off, they are refused"},
		{Name: InRevision, Verbs: waitOnly, Usage: "commit to confirm"},
	}
}

func formatBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
