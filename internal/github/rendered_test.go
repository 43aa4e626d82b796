package github

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
)

// gfm renders md as GitHub does (CommonMark with the GFM extensions, raw
// HTML such as <details> kept) and parses the result into an HTML tree.
func gfm(t *testing.T, md string) *html.Node {
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

// all returns the elements named tag under n, in document order.
func all(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == tag {
			out = append(out, c)
		}
		out = append(out, all(c, tag)...)
	}
	return out
}

// text is the text content of n.
func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(text(c))
	}
	return b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

var renderedFixture = []RenderedObject{
	{Overlay: "apps/web/overlays/prod", Object: "apps/Deployment prod/web", Change: RenderedImages,
		Diff: "@@ -14,7 +14,7 @@\n     spec:\n       containers:\n-      - image: ghcr.io/acme/web:1.0.0\n+      - image: ghcr.io/acme/web:1.1.0\n         name: web\n"},
	{Overlay: "apps/api/overlays/prod", Object: "ConfigMap prod/api-config-47668c6k28", Change: RenderedAdded,
		Diff: "@@ -0,0 +1,3 @@\n+apiVersion: v1\n+kind: ConfigMap\n+data: {}\n"},
	{Overlay: "apps/api/overlays/prod", Object: "apps/Deployment prod/api", Change: RenderedChanged,
		Diff: "@@ -4,4 +4,4 @@\n spec:\n-  replicas: 2\n+  replicas: 3\n-      - image: ghcr.io/acme/api:2.0.0\n+      - image: ghcr.io/acme/api:2.1.0\n"},
}

func TestPRBodyWithRenderedChange(t *testing.T) {
	t.Parallel()
	changes := []Change{
		{File: "apps/web/overlays/prod/kustomization.yaml", Image: "ghcr.io/acme/web", Old: "ghcr.io/acme/web:1.0.0", New: "ghcr.io/acme/web:1.1.0"},
		{File: "apps/api/overlays/prod/kustomization.yaml", Image: "ghcr.io/acme/api", Old: "ghcr.io/acme/api:2.0.0", New: "ghcr.io/acme/api:2.1.0"},
	}
	links := Links{
		Commit: "0123456789abcdef0123456789abcdef01234567", CommitURL: CommitURL("https://github.com", "acme/config", "0123456789abcdef0123456789abcdef01234567"),
		Run:  RunLink{ServerURL: "https://github.com", Repository: "acme/config", RunID: "42"},
		Apps: []AppLink{{Name: "argocd/web-prod", URL: ArgoCDAppURL("https://argocd.example.com/", "argocd/web-prod")}, {Name: "api-prod"}},
	}
	body := PRBodyWith("main", changes, BodyExtras{Rendered: renderedFixture, Links: links})
	if body != PRBodyWith("main", changes, BodyExtras{Rendered: renderedFixture, Links: links}) {
		t.Error("the same input gave different bodies")
	}
	if !strings.HasSuffix(body, "\n"+Marker+"\n") {
		t.Errorf("body does not end with the marker:\n%s", body)
	}
	doc := gfm(t, body)

	rows := all(doc, "tr")
	if len(rows) != 3 { // header and two changes
		t.Errorf("table has %d rows, want 3", len(rows))
	}
	var hrefs []string
	for _, a := range all(doc, "a") {
		hrefs = append(hrefs, attr(a, "href"))
	}
	wantHrefs := []string{
		"https://github.com/acme/config/commit/0123456789abcdef0123456789abcdef01234567",
		"https://github.com/acme/config/actions/runs/42",
		"https://argocd.example.com/applications/argocd/web-prod",
	}
	if strings.Join(hrefs, " ") != strings.Join(wantHrefs, " ") {
		t.Errorf("links = %q, want %q", hrefs, wantHrefs)
	}
	if !strings.Contains(text(doc), "Argo CD api-prod") {
		t.Errorf("the app without a known page is not named")
	}

	var heading *html.Node
	for _, h := range all(doc, "h4") {
		if strings.Contains(text(h), "Changes other than images") {
			heading = h
		}
	}
	if heading == nil {
		t.Fatalf("no heading for the changes other than images:\n%s", body)
	}
	// The list after the heading names the two surprises, outside any <details>.
	var list *html.Node
	for n := heading.NextSibling; n != nil; n = n.NextSibling {
		if n.Type == html.ElementNode && n.Data == "ul" {
			list = n
			break
		}
	}
	if list == nil {
		t.Fatal("no list after the heading")
	}
	items := all(list, "li")
	if len(items) != 2 || !strings.Contains(text(items[0]), "added") || !strings.Contains(text(items[1]), "apps/Deployment prod/api") {
		t.Errorf("list items: %q", []string{text(items[0]), text(items[1])})
	}

	details := all(doc, "details")
	if len(details) != 2 {
		t.Fatalf("%d <details>, want one per overlay (2)", len(details))
	}
	wantSummary := []string{"apps/web/overlays/prod: 1 object, images only", "apps/api/overlays/prod: 2 objects, 2 changes other than images"}
	wantDiffs := [][]string{{renderedFixture[0].Diff}, {renderedFixture[1].Diff, renderedFixture[2].Diff}}
	for i, d := range details {
		if _, open := attrOK(d, "open"); open {
			t.Errorf("details %d is open; want collapsed", i)
		}
		sum := all(d, "summary")
		if len(sum) != 1 || text(sum[0]) != wantSummary[i] {
			t.Errorf("summary %d = %q, want %q", i, text(sum[0]), wantSummary[i])
		}
		codes := all(d, "code")
		var diffs []string
		for _, c := range codes {
			if attr(c, "class") == "language-diff" {
				diffs = append(diffs, text(c))
			}
		}
		if strings.Join(diffs, "|") != strings.Join(wantDiffs[i], "|") {
			t.Errorf("details %d code blocks = %q, want %q", i, diffs, wantDiffs[i])
		}
	}
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// Text from the repository cannot break out of the code block, the
// <details> or the summary.
func TestRenderedMarkdownEscapes(t *testing.T) {
	t.Parallel()
	evil := "@@ -1,3 +1,3 @@\n data:\n-  README: \"```\\n</details>\"\n+  README: |\n+    ````\n+    </details><script>alert(1)</script>\n```\n"
	objs := []RenderedObject{
		{Overlay: "apps/<b>x</b>`y`/*p*\n- [z](u)", Object: "ConfigMap prod/<i>readme</i>_*x*_", Change: RenderedChanged, Diff: evil},
		{Overlay: "apps/next/prod", Object: "apps/Deployment prod/next", Change: RenderedImages, Diff: "@@ -1 +1 @@\n-image: a:1\n+image: a:2\n"},
	}
	md := RenderedMarkdown(objs, MaxBodyChars)
	doc := gfm(t, md)
	if n := len(all(doc, "script")); n != 0 {
		t.Errorf("%d <script> elements", n)
	}
	if n := len(all(doc, "details")); n != 2 {
		t.Fatalf("%d <details>, want 2:\n%s", n, md)
	}
	sum := text(all(doc, "summary")[0])
	if !strings.HasPrefix(sum, "apps/<b>x</b>`y`/*p* - [z](u):") {
		t.Errorf("summary = %q: the overlay's text is not shown as it is", sum)
	}
	items := all(doc, "li")
	if len(items) != 1 || text(items[0]) != "changed beyond images in apps/<b>x</b>`y`/*p* - [z](u): ConfigMap prod/<i>readme</i>_*x*_" {
		t.Errorf("list items = %d, first %q", len(items), text(items[0]))
	}
	for _, tag := range []string{"em", "strong", "a", "i"} {
		if n := len(all(doc, tag)); n != 0 {
			t.Errorf("%d <%s> elements made of the repository's text", n, tag)
		}
	}
	var got []string
	for _, c := range all(doc, "code") {
		if attr(c, "class") == "language-diff" {
			got = append(got, text(c))
		}
	}
	if len(got) != 2 || got[0] != evil {
		t.Errorf("code blocks = %q, want the diff unchanged first", got)
	}
}

// A body holding more than GitHub takes is cut per object, each cut saying
// how much was left out, and stays a well-formed document.
func TestPRBodyRenderedCutAtTheLimit(t *testing.T) {
	t.Parallel()
	var objs []RenderedObject
	var changes []Change
	for i := range 60 {
		var d strings.Builder
		d.WriteString("@@ -1,400 +1,400 @@\n")
		for j := range 400 {
			fmt.Fprintf(&d, " line %d of object %d with some width to it\n", j, i)
		}
		ov := fmt.Sprintf("apps/app%02d/overlays/prod", i)
		objs = append(objs, RenderedObject{Overlay: ov, Object: "apps/Deployment prod/app", Change: RenderedImages, Diff: d.String()})
		changes = append(changes, Change{File: ov + "/kustomization.yaml", Image: "web", Old: "web:1", New: "web:2"})
	}
	body := PRBodyWith("main", changes, BodyExtras{Rendered: objs})
	if n := utf8.RuneCountInString(body); n > MaxBodyChars {
		t.Fatalf("body has %d characters; GitHub takes at most %d", n, MaxBodyChars)
	}
	if len(body) < MaxBodyChars-4000 {
		t.Errorf("body has %d bytes: the limit is far from used", len(body))
	}
	if !strings.HasSuffix(body, "\n"+Marker+"\n") {
		t.Error("the marker was cut")
	}
	cut := regexp.MustCompile(`(\d+) of (\d+) diff lines of this object left out`).FindStringSubmatch(body)
	if cut == nil {
		t.Fatalf("no line says how much of an object was left out:\n%s", body[len(body)-2000:])
	}
	left, total := atoi(t, cut[1]), atoi(t, cut[2])
	more := regexp.MustCompile(`(\d+) more objects in (\d+) more overlays left out`).FindStringSubmatch(body)
	if more == nil {
		t.Fatalf("no line counts the objects left out")
	}
	doc := gfm(t, body)
	details := all(doc, "details")
	if shown := len(details) + atoi(t, more[2]); shown != len(objs) {
		t.Errorf("%d overlays shown + %s left out != %d", len(details), more[2], len(objs))
	}
	last := details[len(details)-1]
	var code string
	for _, c := range all(last, "code") {
		if attr(c, "class") == "language-diff" {
			code = text(c)
		}
	}
	if kept := strings.Count(code, "\n"); kept+left != total {
		t.Errorf("cut object: %d lines kept + %d left out != %d", kept, left, total)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMarkBodyWithRendered(t *testing.T) {
	t.Parallel()
	body := MarkBodyWith("Deploy it.", renderedFixture[:1])
	if !strings.HasPrefix(body, "Deploy it.\n\n### Rendered change") || !strings.HasSuffix(body, Marker+"\n") {
		t.Errorf("body = %q", body)
	}
	if got := MarkBodyWith("Deploy it.", nil); got != MarkBody("Deploy it.") {
		t.Errorf("without a rendered change: %q, want MarkBody's %q", got, MarkBody("Deploy it."))
	}
}

func TestLinkAddresses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ got, want string }{
		{ArgoCDAppURL("https://argocd.example.com/", "argocd/web"), "https://argocd.example.com/applications/argocd/web"},
		{ArgoCDAppURL("https://argocd.example.com", "web"), "https://argocd.example.com/applications/web"},
		{ArgoCDAppURL("", "web"), ""},
		{CommitURL("", "acme/config", "abc"), "https://github.com/acme/config/commit/abc"},
		{CommitURL("https://ghe.example.com/", "acme/config", "abc"), "https://ghe.example.com/acme/config/commit/abc"},
		{CommitURL("https://github.com", "", "abc"), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if LinksMarkdown(Links{}) != "" {
		t.Error("no links known: want no line")
	}
}

// However little room is left, the section never exceeds it.
func TestRenderedMarkdownKeepsToTinyLimits(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{-5, 0, 50, 100, 500, 1199, 1200, 1500, 3000} {
		md := RenderedMarkdown(renderedFixture, limit)
		if len(md) > max(0, limit) {
			t.Errorf("limit %d: %d bytes", limit, len(md))
		}
		if limit >= 100 && limit < 1200 && !strings.Contains(md, "The rendered change (3 objects) is left out") {
			t.Errorf("limit %d: %q, want the note", limit, md)
		}
	}
	var many []Change
	for i := range 3000 {
		many = append(many, Change{File: fmt.Sprintf("apps/app%04d/overlays/production/kustomization.yaml", i), Image: "web", Old: "ghcr.io/acme/web:1.0.0", New: "ghcr.io/acme/web:1.1.0"})
	}
	body := PRBodyWith("main", many, BodyExtras{Rendered: renderedFixture, Links: Links{Commit: "abc", Apps: []AppLink{{Name: "x"}}}})
	if n := utf8.RuneCountInString(body); n > MaxBodyChars || !strings.HasSuffix(body, Marker+"\n") {
		t.Errorf("a full table: body of %d characters, marker kept %v", n, strings.HasSuffix(body, Marker+"\n"))
	}
}
