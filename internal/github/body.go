package github

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// maxTableBytes keeps the body well under GitHub's 65536-character limit.
const maxTableBytes = 60000

// Marker is the hidden comment that marks the pull requests this tool opens.
const Marker = "<!-- gitops-promote -->"

// Change is one image set in one file, as the PR body lists it.
type Change struct {
	File  string // kustomization file, slash path from the repository root
	Image string // the image name matched in the kustomization
	Old   string // reference before ("" when the entry is new)
	New   string // reference after
}

// RunLink names the workflow run that made the change, from the runner's
// GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID, passed in
// explicitly; all empty outside a runner.
type RunLink struct {
	ServerURL, Repository, RunID string
}

// URL is the run's address, or "" when any part is missing.
func (r RunLink) URL() string {
	if r.ServerURL == "" || r.Repository == "" || r.RunID == "" {
		return ""
	}
	return strings.TrimSuffix(r.ServerURL, "/") + "/" + r.Repository + "/actions/runs/" + r.RunID
}

func sortedChanges(changes []Change) []Change {
	out := slices.Clone(changes)
	slices.SortFunc(out, func(a, b Change) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return strings.Compare(a.Image, b.Image)
	})
	return out
}

// PRBody is the generated pull request body: a table of the changes, a link
// to the workflow run when known, and the hidden Marker. The same input
// gives the same bytes.
func PRBody(branch string, changes []Change, run RunLink) string {
	var b strings.Builder
	writeTable(&b, branch, changes)
	if u := run.URL(); u != "" {
		fmt.Fprintf(&b, "\nWorkflow run: %s\n", u)
	}
	b.WriteString("\n" + Marker + "\n")
	return b.String()
}

// writeTable writes the intro line and the table of changes.
func writeTable(b *strings.Builder, branch string, changes []Change) {
	fmt.Fprintf(b, "Promotes container images on `%s`.\n\n", cell(branch))
	b.WriteString("| Overlay | Image | Old -> New |\n|---|---|---|\n")
	sorted := sortedChanges(changes)
	for i, ch := range sorted {
		old := "(not set)"
		if ch.Old != "" {
			old = "`" + cell(ch.Old) + "`"
		}
		row := fmt.Sprintf("| `%s` | `%s` | %s -> `%s` |\n", cell(path.Dir(ch.File)), cell(ch.Image), old, cell(ch.New))
		if b.Len()+len(row) > maxTableBytes {
			fmt.Fprintf(b, "| | | and %d more changes |\n", len(sorted)-i)
			break
		}
		b.WriteString(row)
	}
}

// BodyExtras is what PRBodyWith adds to the generated body.
type BodyExtras struct {
	Rendered []RenderedObject // the rendered change, per overlay and object
	Links    Links            // commit, workflow run, Argo CD applications (each where known)
}

// PRBodyWith is PRBody with a line of links in place of the run link and
// the rendered change in collapsed sections, the whole under GitHub's
// MaxBodyChars (the rendered change is cut per object to fit). The same
// input gives the same bytes.
func PRBodyWith(branch string, changes []Change, extras BodyExtras) string {
	var b strings.Builder
	writeTable(&b, branch, changes)
	if l := LinksMarkdown(extras.Links); l != "" {
		b.WriteString("\n" + l)
	}
	b.WriteString("\n")
	return withRendered(b.String(), extras.Rendered)
}

// MarkBodyWith is MarkBody with the rendered change after the person's
// body, the whole under GitHub's MaxBodyChars.
func MarkBodyWith(body string, rendered []RenderedObject) string {
	if strings.Contains(body, Marker) {
		return body
	}
	return withRendered(strings.TrimRight(body, "\n")+"\n\n", rendered)
}

// withRendered appends the rendered change and the Marker to head.
func withRendered(head string, rendered []RenderedObject) string {
	tail := Marker + "\n"
	left := MaxBodyChars - len(head) - len(tail) - 16
	return head + RenderedMarkdown(sortRendered(rendered), left) + tail
}

// MarkBody appends the Marker to a body given by the person, once.
func MarkBody(body string) string {
	if strings.Contains(body, Marker) {
		return body
	}
	return strings.TrimRight(body, "\n") + "\n\n" + Marker + "\n"
}

// cell keeps a value from breaking a Markdown table cell or code span.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}
