package ghstatus

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// State is a signal's state as the rule reads it: a commit status's state,
// a check run's conclusion (or pending while it runs), a deployment's
// latest status.
type State string

// The states the rule knows.
const (
	Pending  State = "pending"
	Success  State = "success"
	Failure  State = "failure"
	Error    State = "error"
	Inactive State = "inactive" // a deployment a newer one replaced
)

// Kind is what GitHub object a signal comes from.
type Kind string

// The kinds of signal.
const (
	KindStatus     Kind = "status"
	KindCheck      Kind = "check run"
	KindDeployment Kind = "deployment"
)

// Signal is one thing GitHub shows on a commit: the latest commit status of
// a context, the latest check run of a name, or a deployment of an
// environment with its latest status.
type Signal struct {
	Kind        Kind
	Name        string // the status context, check-run name or environment
	State       State
	Description string
	URL         string // target_url, details_url or log_url
	// Succeeded is set on a deployment whose statuses include success
	// before the latest (success, then inactive when a newer one won).
	Succeeded bool
}

// Keep says whether a later commit still holds our image values.
type Keep int

// The answers of Keeps.
const (
	KeepUnknown Keep = iota // not asked or cannot be told: counted as kept
	KeepYes
	KeepNo
)

// Commit is one commit and what GitHub shows on it.
type Commit struct {
	SHA     string
	Signals []Signal
	// Keeps is set on later commits: whether they still hold our images.
	Keeps Keep
}

// View is what GitHub shows: our commit, and the later commits of the
// branch whose history contains ours, newest first.
type View struct {
	Ours  Commit
	Later []Commit
}

// Want is what to wait for: status contexts or check-run names (a * in a
// pattern matches any run of characters, / included), and a deployment
// environment.
type Want struct {
	Contexts    []string
	Environment string
}

// Outcome is where the confirmation stands.
type Outcome int

// The outcomes of Decide.
const (
	Waiting Outcome = iota
	Deployed
	Failed
	Superseded
)

// String returns the outcome as the status table prints it.
func (o Outcome) String() string {
	switch o {
	case Deployed:
		return "deployed"
	case Failed:
		return "failed"
	case Superseded:
		return "superseded"
	}
	return "waiting"
}

// Target is the outcome for one wanted context pattern or the environment.
type Target struct {
	Name    string // the pattern, or "deployment <environment>"
	Outcome Outcome
	Commit  string // the commit that decided it (ours or a later one)
	Reason  string // what decided it, or what is awaited
	Seen    []string
}

// Verdict is the rule's answer for one view.
type Verdict struct {
	Outcome Outcome
	Targets []Target
	// Reason is the failure or supersession, in words a person reads.
	Reason string
	// Warnings are said once: a context that looks like Argo CD's
	// on-sync-succeeded, which succeeds for images that never get healthy.
	Warnings []string
}

// Decide applies the rule. For every wanted target, every signal that
// matches it must be decided, and at least one must exist:
//   - on our commit: success is deployed; failure or error fails at once;
//   - otherwise the newest later commit with a final state decides:
//     it changed our image values: superseded; success: deployed;
//     failure or error: failed, "applied together with <sha>, which failed";
//   - pending, or nothing yet, waits.
//
// A deployment that turned inactive after success counts as success.
func Decide(want Want, v View) Verdict {
	var out Verdict
	for _, p := range want.Contexts {
		out.Targets = append(out.Targets, decideTarget(p, matcher(p), v))
	}
	if want.Environment != "" {
		env := want.Environment
		name := "deployment " + env
		out.Targets = append(out.Targets, decideTarget(name, func(s Signal) bool {
			return s.Kind == KindDeployment && s.Name == env
		}, v))
	}
	out.Outcome = Waiting
	for i, t := range out.Targets {
		if i == 0 || severity(t.Outcome) > severity(out.Outcome) {
			out.Outcome, out.Reason = t.Outcome, t.Reason
		}
	}
	if out.Outcome != Failed && out.Outcome != Superseded {
		out.Reason = ""
	}
	out.Warnings = syncSucceededWarnings(want, v)
	return out
}

// decideTarget decides one target over every distinct signal name it matches.
func decideTarget(name string, match func(Signal) bool, v View) Target {
	t := Target{Name: name}
	var names []string
	for _, c := range append([]Commit{v.Ours}, v.Later...) {
		for _, s := range c.Signals {
			if match(s) {
				t.Seen = append(t.Seen, fmt.Sprintf("%s %q is %s on %s", s.Kind, s.Name, s.State, short(c.SHA)))
				if !slices.Contains(names, s.Name) {
					names = append(names, s.Name)
				}
			}
		}
	}
	if len(names) == 0 {
		t.Reason = "nothing matching it yet"
		return t
	}
	t.Outcome = Deployed
	for i, n := range names {
		o, commit, reason := decideName(n, match, v)
		if i == 0 || severity(o) > severity(t.Outcome) {
			t.Outcome, t.Commit, t.Reason = o, commit, reason
		}
	}
	return t
}

// severity orders outcomes for a target with several matching names: one
// failure fails it, one waiting name keeps it waiting.
func severity(o Outcome) int {
	switch o {
	case Failed:
		return 3
	case Superseded:
		return 2
	case Waiting:
		return 1
	}
	return 0
}

// decideName applies the rule to the signals of one name.
func decideName(name string, match func(Signal) bool, v View) (Outcome, string, string) {
	find := func(c Commit) *Signal {
		for i, s := range c.Signals {
			if s.Name == name && match(s) {
				return &c.Signals[i]
			}
		}
		return nil
	}
	ours := v.Ours.SHA
	if s := find(v.Ours); s != nil {
		switch {
		case s.State == Failure || s.State == Error:
			return Failed, ours, fmt.Sprintf("%s %q is %s on %s%s", s.Kind, s.Name, s.State, short(ours), detail(s))
		case final(s) == Success:
			return Deployed, ours, fmt.Sprintf("%s %q is %s on %s", s.Kind, s.Name, s.State, short(ours))
		}
	}
	for _, c := range v.Later {
		s := find(c)
		if s == nil || final(s) == "" {
			continue
		}
		if c.Keeps == KeepNo {
			return Superseded, c.SHA, fmt.Sprintf("%s, a later commit, changed our image values and %s %q is %s there: %s is superseded",
				short(c.SHA), s.Kind, s.Name, s.State, short(ours))
		}
		if final(s) == Success {
			return Deployed, c.SHA, fmt.Sprintf("%s %q is %s on %s, a later commit that contains %s", s.Kind, s.Name, s.State, short(c.SHA), short(ours))
		}
		return Failed, c.SHA, fmt.Sprintf("applied together with %s, which failed: %s %q is %s%s", short(c.SHA), s.Kind, s.Name, s.State, detail(s))
	}
	return Waiting, "", fmt.Sprintf("%s is not final on %s or a later commit", name, short(ours))
}

// final is the state that decides: success (or a deployment that once
// succeeded), failure or error; "" while pending or inactive.
func final(s *Signal) State {
	switch {
	case s.State == Success, s.Kind == KindDeployment && s.Succeeded:
		return Success
	case s.State == Failure, s.State == Error:
		return s.State
	}
	return ""
}

// detail is ": description (link)" as far as they are known.
func detail(s *Signal) string {
	var b strings.Builder
	if s.Description != "" {
		b.WriteString(": " + s.Description)
	}
	if s.URL != "" {
		b.WriteString(" (" + s.URL + ")")
	}
	return b.String()
}

// matcher matches statuses and check runs whose name fits pattern; a * is
// any run of characters, / included (Flux's kustomization/<name>/<uid>).
func matcher(pattern string) func(Signal) bool {
	re := Glob(pattern)
	return func(s Signal) bool {
		return (s.Kind == KindStatus || s.Kind == KindCheck) && re.MatchString(s.Name)
	}
}

// Glob compiles a status-contexts pattern: * matches any run of characters.
func Glob(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// syncSucceededRE matches the words of Argo CD's on-sync-succeeded
// templates ("sync succeeded", "successfully synced").
var syncSucceededRE = regexp.MustCompile(`(?i)\bsync(ed)?\s+succeeded\b|\bsuccessfully\s+synced\b`)

// syncSucceededWarnings warns about a wanted success status whose words
// say "sync succeeded": Argo CD's on-sync-succeeded posts that even for an
// image that never becomes healthy.
func syncSucceededWarnings(want Want, v View) []string {
	var out []string
	for _, p := range want.Contexts {
		m := matcher(p)
		for _, c := range append([]Commit{v.Ours}, v.Later...) {
			for _, s := range c.Signals {
				if m(s) && s.Kind == KindStatus && s.State == Success && syncSucceededRE.MatchString(s.Description) {
					w := fmt.Sprintf("status %q on %s says %q: Argo CD's on-sync-succeeded posts success even for an image that never becomes healthy; subscribe the context to on-deployed, on-health-degraded and on-sync-failed instead",
						s.Name, short(c.SHA), s.Description)
					if !slices.Contains(out, w) {
						out = append(out, w)
					}
				}
			}
		}
	}
	return out
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
