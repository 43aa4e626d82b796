package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

const renderedProd = "\n=== " + userProd + ": apps/Deployment production/user-service (images)\n"

func TestEditDryRunShowsTheRenderedChange(t *testing.T) {
	t.Parallel()
	dir := copyExample(t)
	r := runBinary(t, dir, nil, "edit", "--overlays", userProd, "--images", userImage, "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	table := strings.Index(r.stderr, "OVERLAY")
	rendered := strings.Index(r.stderr, "rendered change (kustomize build before and after): 1 object in 1 overlay")
	if table < 0 || rendered < table {
		t.Fatalf("the rendered change does not follow the change table:\n%s", r.stderr)
	}
	for _, want := range []string{renderedProd, "\n-      - image: ghcr.io/acme/user-service:1.4.0\n+      - image: " + userImage + "\n"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "changes other than images") {
		t.Errorf("an image-only change is reported as more:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "rendered change") {
		t.Errorf("the rendered change went to stdout, which is the patch:\n%s", r.stdout)
	}
}

func TestRunDryRunShowsTheRenderedChange(t *testing.T) {
	t.Parallel()
	s, repo := startGitServer(t)
	base := []string{"run", "--mode", "push", "--repository-url", s.RepoURL(repo), "--branch", "main",
		"--overlays", userProd, "--images", userImage, "--dry-run"}
	env := map[string]string{"GITHUB_TOKEN": testToken}

	r := runBinary(t, t.TempDir(), env, base...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rendered := strings.Index(r.stderr, "rendered change (kustomize build before and after)")
	summary := strings.Index(r.stderr, "dry run: nothing was landed")
	if rendered < 0 || summary < rendered || !strings.Contains(r.stderr, renderedProd) {
		t.Errorf("stderr: want the rendered change before the summary:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "+    newTag: \"1.4.2\"") {
		t.Errorf("stdout lacks the file diff:\n%s", r.stdout)
	}

	r = runBinary(t, t.TempDir(), env, append(base, "--json")...)
	if r.code != 0 {
		t.Fatalf("--json: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rd, _ := decodeJSON(t, r.stdout)["rendered_diff"].([]any)
	if len(rd) != 1 {
		t.Fatalf("rendered_diff: %s", r.stdout)
	}
	obj := rd[0].(map[string]any)
	if obj["overlay"] != userProd || obj["object"] != "apps/Deployment production/user-service" || obj["change"] != "images" ||
		!strings.Contains(obj["before"].(string), "image: ghcr.io/acme/user-service:1.4.0\n") ||
		!strings.Contains(obj["after"].(string), "image: "+userImage+"\n") {
		t.Errorf("rendered_diff entry: %v", obj)
	}
}

// gfmDoc renders Markdown as GitHub does (GFM, raw HTML kept) into a tree.
func gfmDoc(t *testing.T, md string) *html.Node {
	t.Helper()
	var out bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe())).Convert([]byte(md), &out); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func elems(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == tag {
			out = append(out, c)
		}
		out = append(out, elems(c, tag)...)
	}
	return out
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

func hrefOf(n *html.Node) string {
	for _, a := range n.Attr {
		if a.Key == "href" {
			return a.Val
		}
	}
	return ""
}

// The step summary as GitHub renders it: its tables keep their columns,
// each overlay's rendered change is a collapsed <details> with its diff,
// the surprises are listed under their heading, and the links go where
// they should.
func TestStepSummaryRendersAsGitHubShowsIt(t *testing.T) {
	t.Parallel()
	sha := "0123456789abcdef0123456789abcdef01234567"
	res := &promote.Result{
		Changed: true, LandedBy: promote.LandedByPullRequest, CommitSHA: sha, Branch: "main",
		PullRequestNumber: 12, PullRequestURL: "https://github.com/acme/config/pull/12", Merged: true, Revision: sha, Deployed: true,
		Changes: []kustomize.Change{
			{File: userProd + "/kustomization.yaml", Image: "ghcr.io/acme/user-service", Old: "ghcr.io/acme/user-service:1.4.0", New: userImage},
			{File: userStaging + "/kustomization.yaml", Image: "ghcr.io/acme/user-service", Old: "ghcr.io/acme/user-service:1.4.1", New: userImage},
		},
		Apps: []promote.AppStatus{{App: "argocd/user-service-production", Result: "deployed", Sync: "Synced", Health: "Healthy", Revision: sha, Elapsed: 3 * time.Second}},
		Rendered: []kustomize.ObjectDiff{
			{Overlay: userProd, Object: "apps/Deployment production/user-service", Change: kustomize.ObjectImages,
				Diff: "@@ -1,3 +1,3 @@\n containers:\n-- image: ghcr.io/acme/user-service:1.4.0\n+- image: ghcr.io/acme/user-service:1.4.2\n"},
			{Overlay: userStaging, Object: "ConfigMap staging/notes", Change: kustomize.ObjectChanged,
				Diff: "@@ -1,2 +1,2 @@\n data:\n-  x: \"```\"\n+  x: |\n```\n</details>\n"},
		},
	}
	cfg := config.Default()
	cfg.RepositoryURL, cfg.Repository = "https://github.com/acme/config.git", "acme/config"
	cfg.ArgoCDServer, cfg.ArgoCDApps = "https://argocd.example.com", []string{"argocd/user-service-production"}
	getenv := func(k string) string {
		return map[string]string{"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/deploy", "GITHUB_RUN_ID": "99"}[k]
	}
	md := stepSummaryWith(res, errors.New("nothing wrong"), "", reportLinks(cfg, getenv, res))
	doc := gfmDoc(t, md)

	tables := elems(doc, "table")
	if len(tables) != 2 {
		t.Fatalf("%d tables, want the changes and the apps:\n%s", len(tables), md)
	}
	for i, want := range []struct{ rows, cols int }{{3, 4}, {2, 6}} {
		rows := elems(tables[i], "tr")
		if len(rows) != want.rows {
			t.Errorf("table %d: %d rows, want %d", i, len(rows), want.rows)
		}
		for _, r := range rows {
			if n := len(elems(r, "td")) + len(elems(r, "th")); n != want.cols {
				t.Errorf("table %d: a row of %d cells, want %d: %q", i, n, want.cols, textOf(r))
			}
		}
	}

	details := elems(doc, "details")
	if len(details) != 2 {
		t.Fatalf("%d <details>, want one per overlay:\n%s", len(details), md)
	}
	for i, d := range details {
		sum := elems(d, "summary")
		if len(sum) != 1 || !strings.HasPrefix(textOf(sum[0]), res.Rendered[i].Overlay+": 1 object") {
			t.Errorf("details %d summary %q", i, textOf(sum[0]))
		}
		var code string
		for _, c := range elems(d, "code") {
			for _, a := range c.Attr {
				if a.Key == "class" && a.Val == "language-diff" {
					code = textOf(c)
				}
			}
		}
		if code != res.Rendered[i].Diff {
			t.Errorf("details %d diff = %q, want %q", i, code, res.Rendered[i].Diff)
		}
	}
	var heading bool
	for _, h := range elems(doc, "h4") {
		heading = heading || strings.Contains(textOf(h), "Changes other than images")
	}
	if !heading {
		t.Errorf("no heading for the change other than images:\n%s", md)
	}

	var hrefs []string
	for _, a := range elems(doc, "a") {
		hrefs = append(hrefs, hrefOf(a))
	}
	for _, want := range []string{
		"https://github.com/acme/config/commit/" + sha,
		"https://github.com/acme/config/pull/12",
		"https://github.com/acme/deploy/actions/runs/99",
		"https://argocd.example.com/applications/argocd/user-service-production",
	} {
		found := false
		for _, h := range hrefs {
			found = found || h == want
		}
		if !found {
			t.Errorf("no link to %s; links: %q", want, hrefs)
		}
	}
}

func TestReportLinksOnlyWhereKnown(t *testing.T) {
	t.Parallel()
	res := &promote.Result{CommitSHA: "abc"}
	none := func(string) string { return "" }
	for _, c := range []struct {
		url, server, want string
	}{
		{"https://github.com/acme/config.git", "", "https://github.com/acme/config/commit/abc"},
		{"https://ghe.example.com/acme/config.git", "https://ghe.example.com", "https://ghe.example.com/acme/config/commit/abc"},
		{"http://127.0.0.1:3000/acme/config.git", "", ""},
		{"https://gitlab.example.com/acme/config.git", "https://github.com", ""},
	} {
		cfg := config.Default()
		cfg.RepositoryURL = c.url
		getenv := none
		if c.server != "" {
			getenv = func(k string) string {
				if k == "GITHUB_SERVER_URL" {
					return c.server
				}
				return ""
			}
		}
		l := reportLinks(cfg, getenv, res)
		if l.CommitURL != c.want || l.Commit != "abc" {
			t.Errorf("%s (server %q): commit URL %q, want %q", c.url, c.server, l.CommitURL, c.want)
		}
		if l.Run.URL() != "" || len(l.Apps) != 0 {
			t.Errorf("%s: a run or app link nobody knows: %+v", c.url, l)
		}
	}
}

// The demo's pull request carries the rendered change, and the demo shows
// its body.
func TestDemoPullRequestShowsTheRenderedChange(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := Main(ctx, []string{"demo", "--checks-after", "100ms"}, &stdout, &stderr, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr.String())
	}
	out := stderr.String()
	for _, want := range []string{
		"its body as a reviewer reads it (Markdown):",
		"    ### Rendered change\n",
		"    <summary><code>apps/user-service/overlays/staging</code>: 1 object, images only</summary>\n",
		"    -      - image: ghcr.io/acme/user-service:1.4.1\n    +      - image: ghcr.io/acme/user-service:1.5.0\n",
		"/applications/user-service-staging>)",
		"    <!-- gitops-promote -->\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
