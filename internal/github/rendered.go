package github

import (
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
)

// MaxBodyChars is GitHub's limit on a pull request body, in characters.
const MaxBodyChars = 65536

// How an object of the rendered change changes (RenderedObject.Change).
const (
	RenderedImages  = "images"  // only image fields
	RenderedChanged = "changed" // fields other than images
	RenderedAdded   = "added"
	RenderedRemoved = "removed"
)

// RenderedObject is one object of an edited overlay whose kustomize build
// output differs between before and after the change.
type RenderedObject struct {
	Overlay string // overlay folder, slash path from the repository root
	Object  string // "apps/Deployment shop/web": group/kind namespace/name
	Change  string // RenderedImages, RenderedChanged, RenderedAdded or RenderedRemoved
	Diff    string // unified diff hunks of the object's YAML
}

// AppLink is an Argo CD application and its page in the Argo CD UI.
type AppLink struct {
	Name string // "[namespace/]name" as given
	URL  string // <server>/applications/<namespace>/<name>; "" when not known
}

// Links are what the generated texts link to, each only where known.
type Links struct {
	Commit    string // our commit's SHA
	CommitURL string // its page, on GitHub when the repository is there
	PRNumber  int
	PRURL     string
	Run       RunLink
	Apps      []AppLink
}

// ArgoCDAppURL is the page of application ref ("[namespace/]name") in the
// Argo CD UI at server: <server>/applications/<namespace>/<name>, or
// <server>/applications/<name> when the namespace is not given (Argo CD's
// own namespace).
func ArgoCDAppURL(server, ref string) string {
	if server == "" || ref == "" {
		return ""
	}
	ns, name, ok := strings.Cut(ref, "/")
	p := url.PathEscape(ns)
	if ok {
		p += "/" + url.PathEscape(name)
	}
	return strings.TrimSuffix(server, "/") + "/applications/" + p
}

// CommitURL is the page of commit sha of repository owner/name on the
// GitHub at serverURL (https://github.com when empty), or "" when a part
// is missing.
func CommitURL(serverURL, repository, sha string) string {
	if repository == "" || sha == "" {
		return ""
	}
	if serverURL == "" {
		serverURL = "https://github.com"
	}
	return strings.TrimSuffix(serverURL, "/") + "/" + repository + "/commit/" + sha
}

// LinksMarkdown is one line of links (commit, pull request, workflow run,
// Argo CD applications), each only where known; "" when none is.
func LinksMarkdown(l Links) string {
	var parts []string
	if l.Commit != "" {
		label := "commit <code>" + html.EscapeString(shortSHA(l.Commit)) + "</code>"
		if l.CommitURL != "" {
			label = mdLink(label, l.CommitURL)
		}
		parts = append(parts, label)
	}
	if l.PRURL != "" {
		parts = append(parts, mdLink(fmt.Sprintf("pull request #%d", l.PRNumber), l.PRURL))
	}
	if u := l.Run.URL(); u != "" {
		parts = append(parts, mdLink("workflow run", u))
	}
	for _, a := range l.Apps {
		label := "Argo CD <code>" + html.EscapeString(a.Name) + "</code>"
		if a.URL != "" {
			label = mdLink(label, a.URL)
		}
		parts = append(parts, label)
	}
	if len(parts) == 0 {
		return ""
	}
	return "**Links:** " + strings.Join(parts, " · ") + "\n"
}

// mdLink is a Markdown link whose address cannot end it early.
func mdLink(label, addr string) string {
	return "[" + label + "](<" + strings.NewReplacer("<", "%3C", ">", "%3E", "\n", "").Replace(addr) + ">)"
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// budget writes into a builder while the text fits a byte limit; bytes
// are never fewer than characters, so a byte limit holds for GitHub's
// character limits.
type budget struct {
	b     strings.Builder
	limit int
}

func (w *budget) fits(s string) bool { return w.b.Len()+len(s) <= w.limit }

// add writes s when it fits and reports whether it did.
func (w *budget) add(s string) bool {
	if !w.fits(s) {
		return false
	}
	w.b.WriteString(s)
	return true
}

// reserve is what the rendered section keeps back for its closing lines.
const reserve = 400

// RenderedMarkdown is the rendered change as GitHub Markdown of at most
// limit bytes: a list of the changes other than images under a heading
// that says so, then a collapsed <details> per overlay holding a diff block
// per object. What does not fit is cut per object, with a line saying how
// many lines were left out, and the objects after it are counted in a last
// line. Text from the repository is escaped: it cannot end a code block,
// a <details> or a list. No objects give "".
func RenderedMarkdown(objs []RenderedObject, limit int) string {
	if len(objs) == 0 {
		return ""
	}
	if limit < 3*reserve { // no room for even one object: say so, if that fits
		note := fmt.Sprintf("<i>The rendered change (%d %s) is left out to stay within the size limit.</i>\n\n", len(objs), plural(len(objs), "object"))
		if len(note) > limit {
			return ""
		}
		return note
	}
	w := &budget{limit: limit - reserve}
	w.add("### Rendered change\n\nWhat Argo CD will apply: every edited overlay built with kustomize before and after this change; the objects that differ.\n\n")
	var others []RenderedObject
	for _, o := range objs {
		if o.Change != RenderedImages {
			others = append(others, o)
		}
	}
	var tail []string // forced lines, written from the reserve
	if len(others) > 0 {
		w.add("#### ⚠️ Changes other than images\n\nA base edited since, a generator's new hash, an object added or removed: check these before merging.\n\n")
		for i, o := range others {
			if !w.add(fmt.Sprintf("- %s in <code>%s</code>: %s\n", changeWord(o.Change), inline(o.Overlay), objectLabel(o.Object))) {
				tail = append(tail, fmt.Sprintf("- and %d more\n", len(others)-i))
				break
			}
		}
		if len(tail) > 0 {
			w.b.WriteString(tail[0])
		}
		w.b.WriteString("\n")
	}
	groups := groupByOverlay(objs)
	leftObjs, leftOverlays := 0, 0
	for gi, g := range groups {
		open := fmt.Sprintf("<details>\n<summary><code>%s</code>: %s</summary>\n\n", htmlLine(g[0].Overlay), overlaySummary(g))
		const closing = "</details>\n\n"
		if !w.fits(open + closing + strings.Repeat(" ", 120)) {
			for _, rest := range groups[gi:] {
				leftObjs += len(rest)
			}
			leftOverlays = len(groups) - gi
			break
		}
		w.add(open)
		for _, o := range g {
			writeObject(w, o, len(closing))
		}
		w.b.WriteString(closing)
	}
	if leftObjs > 0 {
		fmt.Fprintf(&w.b, "<i>%d more %s in %d more %s left out to stay within the size limit.</i>\n\n",
			leftObjs, plural(leftObjs, "object"), leftOverlays, plural(leftOverlays, "overlay"))
	}
	return w.b.String()
}

// writeObject writes one object's diff, cut to what fits with keep bytes
// left for the closing of its overlay.
func writeObject(w *budget, o RenderedObject, keep int) {
	head := fmt.Sprintf("%s %s\n\n", objectLabel(o.Object), changeWord(o.Change))
	fence := codeFence(o.Diff)
	whole := head + fence + "diff\n" + o.Diff + fence + "\n\n"
	if w.fits(whole + strings.Repeat(" ", keep)) {
		w.add(whole)
		return
	}
	lines := strings.SplitAfter(strings.TrimSuffix(o.Diff, "\n"), "\n")
	note := func(left int) string {
		return fmt.Sprintf("<i>%d of %d diff lines of this object left out to stay within the size limit.</i>\n\n", left, len(lines))
	}
	fixed := len(head) + 2*len(fence) + len("diff\n") + len("\n\n") + len(note(len(lines))) + keep
	var kept strings.Builder
	n := 0
	for _, l := range lines {
		if w.b.Len()+fixed+kept.Len()+len(l)+1 > w.limit {
			break
		}
		kept.WriteString(strings.TrimSuffix(l, "\n") + "\n")
		n++
	}
	if n == 0 {
		if s := head + note(len(lines)); w.fits(s + strings.Repeat(" ", keep)) {
			w.add(s)
		}
		return
	}
	w.b.WriteString(head + fence + "diff\n" + kept.String() + fence + "\n\n" + note(len(lines)-n))
}

// groupByOverlay splits objs (in overlay order) into runs of one overlay.
func groupByOverlay(objs []RenderedObject) [][]RenderedObject {
	var out [][]RenderedObject
	for i, o := range objs {
		if i == 0 || o.Overlay != objs[i-1].Overlay {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], o)
	}
	return out
}

// overlaySummary is the <summary> text of an overlay: how many objects
// change and whether anything besides images does (raw HTML).
func overlaySummary(g []RenderedObject) string {
	other := 0
	for _, o := range g {
		if o.Change != RenderedImages {
			other++
		}
	}
	s := fmt.Sprintf("%d %s", len(g), plural(len(g), "object"))
	if other == 0 {
		return s + ", images only"
	}
	return fmt.Sprintf("%s, <b>%d %s other than images</b>", s, other, plural(other, "change"))
}

// objectLabel is "apps/Deployment shop/web" as inline HTML in a Markdown
// paragraph: the kind in bold, the namespace and name as code.
func objectLabel(object string) string {
	kind, name, ok := strings.Cut(object, " ")
	if !ok {
		return "<code>" + inline(object) + "</code>"
	}
	return "<b>" + inline(kind) + "</b> <code>" + inline(name) + "</code>"
}

// inline escapes text for a Markdown paragraph (where the text between
// inline HTML tags is still Markdown): HTML's special characters as
// entities, Markdown's with a backslash, line breaks as spaces.
func inline(s string) string {
	s = html.EscapeString(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune("\\`*_[]~!#|", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func changeWord(change string) string {
	switch change {
	case RenderedImages:
		return "(images)"
	case RenderedAdded:
		return "<b>added</b>"
	case RenderedRemoved:
		return "<b>removed</b>"
	}
	return "<b>changed beyond images</b>"
}

// htmlLine escapes text for a line of an HTML block (not Markdown).
func htmlLine(s string) string {
	return html.EscapeString(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}

// codeFence is a backtick fence longer than any run of backticks in s, so
// s cannot close the code block.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// sortRendered orders objects by overlay as first seen, keeping the order
// within each overlay.
func sortRendered(objs []RenderedObject) []RenderedObject {
	first := map[string]int{}
	for i, o := range objs {
		if _, ok := first[o.Overlay]; !ok {
			first[o.Overlay] = i
		}
	}
	out := slices.Clone(objs)
	slices.SortStableFunc(out, func(a, b RenderedObject) int { return first[a.Overlay] - first[b.Overlay] })
	return out
}
