package argocd

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
)

// AppRef names an application: Namespace is the application's namespace
// ("" = Argo CD's own), not the namespace it deploys to.
type AppRef struct {
	Namespace string
	Name      string
}

// String returns "namespace/name", or "name" without a namespace.
func (r AppRef) String() string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// ParseAppRef parses one argocd-apps entry, "[namespace/]name".
func ParseAppRef(s string) (AppRef, error) {
	s = strings.TrimSpace(s)
	ns, name, found := strings.Cut(s, "/")
	if !found {
		ns, name = "", s
	}
	if (found && !dnsLabel.MatchString(ns)) || !dnsLabel.MatchString(name) || len(name) > 253 {
		return AppRef{}, badInput(fmt.Sprintf("argocd-apps entry %q is not [namespace/]name (lower-case letters, digits, '-' and '.')", s))
	}
	return AppRef{Namespace: ns, Name: name}, nil
}

// ParseAppRefs parses the argocd-apps input: entries that may each hold
// several newline-separated "[namespace/]name" lines; blank lines are
// skipped, a repeated application and every malformed entry are reported
// together as one bad-input error.
func ParseAppRefs(entries []string) ([]AppRef, error) {
	var (
		out  []AppRef
		errs []string
		seen = map[AppRef]bool{}
	)
	for _, e := range entries {
		for _, line := range strings.Split(e, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			ref, err := ParseAppRef(line)
			switch {
			case err != nil:
				errs = append(errs, err.Error())
			case seen[ref]:
				errs = append(errs, fmt.Sprintf("argocd-apps lists %s twice", ref))
			default:
				seen[ref] = true
				out = append(out, ref)
			}
		}
	}
	if len(errs) > 0 {
		return nil, badInput(strings.Join(errs, "; "))
	}
	return out, nil
}

// AppStatus is where one application stood when Wait returned (or at a
// status line).
type AppStatus struct {
	App      AppRef
	State    State
	Sync     string // Synced, OutOfSync, Unknown
	Health   string // Healthy, Progressing, Degraded, ...
	Phase    string // phase of the current or last operation, "" if none
	Revision string // the revision Argo CD compared for our repository
	Reason   string // why waiting or failed; for deployed, what was seen
	Images   []string
	Elapsed  time.Duration
}

// Line renders the status as one log line: app, sync, health, operation
// phase, revision and elapsed time.
func (s AppStatus) Line() string {
	return fmt.Sprintf("%s: sync %s, health %s, operation %s, revision %s, %s elapsed",
		s.App, dash(s.Sync), dash(s.Health), dash(s.Phase), dash(short(s.Revision)), s.Elapsed.Round(time.Second))
}

// WriteTable renders the final table: app, result, sync, health,
// revision and duration, one application a row, aligned for a terminal or
// a step summary code block.
func WriteTable(w io.Writer, statuses []AppStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tRESULT\tSYNC\tHEALTH\tREVISION\tDURATION")
	for _, s := range statuses {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.App, s.State, dash(s.Sync), dash(s.Health), dash(short(s.Revision)), s.Elapsed.Round(100*time.Millisecond))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the Argo CD status table: %w", err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func statusOf(ref AppRef, app *Application, repoURL string, v Verdict, elapsed time.Duration) AppStatus {
	s := AppStatus{App: ref, State: v.State, Reason: v.Reason, Elapsed: elapsed}
	if app == nil {
		return s
	}
	s.Sync, s.Health = app.Status.Sync.Status, app.Status.Health.Status
	if app.Operation != nil && (app.Status.OperationState == nil || app.Status.OperationState.Phase != PhaseRunning) {
		s.Phase = "Requested"
	} else if op := app.Status.OperationState; op != nil {
		s.Phase = op.Phase
	}
	s.Revision = app.Revision(repoURL)
	s.Images = app.Status.Summary.Images
	return s
}
