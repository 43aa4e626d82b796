package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/kustomize"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

// writeChangeTable writes the changes as an aligned table.
func writeChangeTable(w io.Writer, changes []kustomize.Change) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OVERLAY\tIMAGE\tOLD\tNEW")
	for _, c := range changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", path.Dir(c.File), c.Image, dash(c.Old), c.New)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the change table: %w", err)
	}
	return nil
}

// writeAppTable writes the Argo CD statuses as an aligned table.
func writeAppTable(w io.Writer, apps []promote.AppStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tRESULT\tSYNC\tHEALTH\tREVISION\tDURATION")
	for _, a := range apps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.App, dash(a.Result), dash(a.Sync), dash(a.Health), dash(short(a.Revision)), a.Elapsed.Round(100*time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the Argo CD table: %w", err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// headline says in one line how the run ended.
func headline(res *promote.Result, err error) string {
	switch {
	case err != nil && res.Revision != "":
		return fmt.Sprintf("landed %s on %s, then stopped", short(res.Revision), res.Branch)
	case err != nil && res.PullRequestURL != "":
		return fmt.Sprintf("opened pull request #%d, then stopped", res.PullRequestNumber)
	case err != nil:
		return "stopped before landing anything"
	case !res.Changed:
		return "nothing to change: the images are already set"
	case res.DryRun:
		return "dry run: nothing was landed"
	case res.Superseded && len(res.SupersededBy) > 0:
		return fmt.Sprintf("superseded: a later change replaced our image on %s before it was applied; nothing of ours to deploy", res.Branch)
	case res.Superseded:
		return fmt.Sprintf("superseded: a later run's value of our image won in pull request #%d; nothing of ours to deploy", res.PullRequestNumber)
	case res.Deployed:
		return fmt.Sprintf("deployed %s on %s", short(res.Revision), res.Branch)
	case res.Revision != "":
		return fmt.Sprintf("landed %s on %s by %s", short(res.Revision), res.Branch, res.LandedBy)
	case res.PullRequestURL != "":
		return fmt.Sprintf("pull request #%d opened, not merged yet", res.PullRequestNumber)
	}
	return "done"
}

// writeHuman writes the terminal summary of a run.
func writeHuman(w io.Writer, res *promote.Result, err error) {
	fmt.Fprintf(w, "\n%s\n", headline(res, err))
	if len(res.Changes) > 0 {
		fmt.Fprintln(w)
		_ = writeChangeTable(w, res.Changes)
	}
	if res.PullRequestURL != "" {
		merged := "not merged"
		if res.Merged {
			merged = "merged"
		}
		fmt.Fprintf(w, "\npull request #%d (%s): %s\n", res.PullRequestNumber, merged, res.PullRequestURL)
	}
	if len(res.Apps) > 0 {
		fmt.Fprintln(w)
		_ = writeAppTable(w, res.Apps)
	}
	if len(res.Timings) > 0 {
		fmt.Fprintf(w, "\n%s\n", timings(res.Timings))
	}
}

func timings(ts []promote.Timing) string {
	parts := make([]string, len(ts))
	var total time.Duration
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s %s", t.Phase, t.Duration.Round(time.Millisecond))
		total += t.Duration
	}
	return fmt.Sprintf("took %s (%s)", total.Round(time.Millisecond), strings.Join(parts, ", "))
}

// stepSummary renders the Markdown step summary: headline, changes, PR
// link, Argo CD apps with durations, timings, and the error with its hint.
func stepSummary(res *promote.Result, err error, hint string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### gitops-promote: %s\n\n", headline(res, err))
	if err != nil {
		fmt.Fprintf(&b, "> **Error:** %s\n", mdEscape(err.Error()))
		if hint != "" {
			fmt.Fprintf(&b, ">\n> **What to do:** %s\n", mdEscape(hint))
		}
		b.WriteString("\n")
	}
	if len(res.Changes) > 0 {
		b.WriteString("| overlay | image | old | new |\n|---|---|---|---|\n")
		for _, c := range res.Changes {
			fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | `%s` |\n", path.Dir(c.File), c.Image, dash(c.Old), c.New)
		}
		b.WriteString("\n")
	}
	if res.DryRun && len(res.Files) > 0 {
		b.WriteString("<details><summary>diff (not landed)</summary>\n\n```diff\n")
		_ = writeDiff(&b, res.Files)
		b.WriteString("```\n</details>\n\n")
	}
	if res.CommitSHA != "" {
		fmt.Fprintf(&b, "Commit `%s` (%s)", short(res.CommitSHA), res.LandedBy)
		if res.Revision != "" {
			fmt.Fprintf(&b, ", revision `%s` on `%s`", short(res.Revision), res.Branch)
		}
		b.WriteString("\n\n")
	}
	if res.PullRequestURL != "" {
		state := "open"
		if res.Merged {
			state = "merged"
		}
		fmt.Fprintf(&b, "Pull request [#%d](%s): %s\n\n", res.PullRequestNumber, res.PullRequestURL, state)
	}
	if len(res.Apps) > 0 {
		b.WriteString("| Argo CD app | result | sync | health | revision | duration |\n|---|---|---|---|---|---|\n")
		for _, a := range res.Apps {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | `%s` | %s |\n", a.App, dash(a.Result), dash(a.Sync), dash(a.Health), dash(short(a.Revision)), a.Elapsed.Round(100*time.Millisecond))
		}
		b.WriteString("\n")
	}
	if len(res.Timings) > 0 {
		fmt.Fprintf(&b, "<sub>%s</sub>\n", timings(res.Timings))
	}
	return b.String()
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// writeJSON writes the outputs as one JSON object on w.
func writeJSON(w io.Writer, res *promote.Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("rendering the JSON outputs: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
