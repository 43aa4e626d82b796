package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/github"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

// maxSummaryRendered bounds the rendered change in the step summary
// (GitHub takes at most 1 MiB of summary per step).
const maxSummaryRendered = 512 << 10

// writeRendered writes the rendered change for a terminal: the changes
// other than images first, then every object's diff.
func writeRendered(w io.Writer, objs []kustomize.ObjectDiff) error {
	if len(objs) == 0 {
		return nil
	}
	overlays := map[string]bool{}
	var others []kustomize.ObjectDiff
	for _, o := range objs {
		overlays[o.Overlay] = true
		if !o.ImagesOnly() {
			others = append(others, o)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nrendered change (kustomize build before and after): %d %s in %d %s\n",
		len(objs), plural(len(objs), "object"), len(overlays), plural(len(overlays), "overlay"))
	if len(others) > 0 {
		fmt.Fprintf(&b, "\n! changes other than images (check them):\n")
		for _, o := range others {
			fmt.Fprintf(&b, "!   %s: %s %s\n", o.Overlay, o.Object, o.Change)
		}
	}
	for _, o := range objs {
		fmt.Fprintf(&b, "\n=== %s: %s (%s)\n%s", o.Overlay, o.Object, o.Change, o.Diff)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the rendered change: %w", err)
	}
	return nil
}

// renderedObjects converts the rendered change for the Markdown writers.
func renderedObjects(objs []kustomize.ObjectDiff) []github.RenderedObject {
	out := make([]github.RenderedObject, len(objs))
	for i, o := range objs {
		out[i] = github.RenderedObject{Overlay: o.Overlay, Object: o.Object, Change: o.Change, Diff: o.Diff}
	}
	return out
}

// stepSummaryWith is the step summary with a line of links and the
// rendered change at its end.
func stepSummaryWith(res *promote.Result, err error, hint string, links github.Links) string {
	s := stepSummary(res, err, hint)
	if l := github.LinksMarkdown(links); l != "" {
		s += "\n" + l
	}
	if r := github.RenderedMarkdown(renderedObjects(res.Rendered), maxSummaryRendered); r != "" {
		s += "\n" + r
	}
	return s
}

// reportLinks are the links of a run's report, each where known: our
// commit (a page when the repository is on GitHub), the pull request, the
// workflow run and the Argo CD applications.
func reportLinks(cfg *config.Config, getenv func(string) string, res *promote.Result) github.Links {
	l := github.Links{
		Commit: res.CommitSHA, PRNumber: res.PullRequestNumber, PRURL: res.PullRequestURL,
		Run:  runLink(getenv),
		Apps: appLinks(cfg),
	}
	if res.CommitSHA != "" {
		if web, repo := githubWeb(cfg, getenv); web != "" {
			l.CommitURL = github.CommitURL(web, repo, res.CommitSHA)
		}
	}
	return l
}

func runLink(getenv func(string) string) github.RunLink {
	return github.RunLink{ServerURL: getenv("GITHUB_SERVER_URL"), Repository: getenv("GITHUB_REPOSITORY"), RunID: getenv("GITHUB_RUN_ID")}
}

// appLinks are the Argo CD applications of cfg with their pages.
func appLinks(cfg *config.Config) []github.AppLink {
	var out []github.AppLink
	for _, a := range cfg.ArgoCDApps {
		out = append(out, github.AppLink{Name: a, URL: github.ArgoCDAppURL(cfg.ArgoCDServer, a)})
	}
	return out
}

// githubWeb returns the GitHub web address and owner/name of the config
// repository when its remote is on GitHub (github.com, or the runner's
// GITHUB_SERVER_URL host), else "".
func githubWeb(cfg *config.Config, getenv func(string) string) (web, repo string) {
	u, err := url.Parse(cfg.RepositoryURL)
	if err != nil || u.Host == "" {
		return "", ""
	}
	host := strings.ToLower(u.Hostname())
	switch server := getenv("GITHUB_SERVER_URL"); {
	case server != "" && sameHost(server, host):
		web = server
	case host == "github.com":
		web = "https://github.com"
	default:
		return "", ""
	}
	owner, name, err := ownerRepo(cfg)
	if err != nil {
		return "", ""
	}
	return web, owner + "/" + name
}

func sameHost(server, host string) bool {
	u, err := url.Parse(server)
	return err == nil && strings.EqualFold(u.Hostname(), host)
}
