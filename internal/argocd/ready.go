package argocd

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// State is where an application stands relative to our revision.
type State int

// The three outcomes of the readiness rule.
const (
	// Waiting: not deployed yet; keep watching.
	Waiting State = iota
	// Deployed: our revision (or a descendant) is applied and healthy.
	Deployed
	// Failed: our revision will not become healthy without a person.
	Failed
)

// String returns the state as the status table prints it.
func (s State) String() string {
	switch s {
	case Deployed:
		return "deployed"
	case Failed:
		return "failed"
	default:
		return "waiting"
	}
}

// Verdict is the outcome of Ready with the reason for it.
type Verdict struct {
	State  State
	Reason string
}

// Ready applies the "deployed commit X" rule to one snapshot of an
// application. ours is the full commit SHA X. contains reports whether the
// revision the application is at for our repository (see Revision) is X or
// a commit whose history contains X; the caller finds that out through git,
// never by timestamps.
//
// Deployed needs all of: (1) contains; (2) sync status Synced; (3) no
// operation requested or running, and the status reconciled at or after the
// last operation finished (equal counts: Argo CD writes whole seconds); (4)
// phase Succeeded when the last sync was for X; (5) health Healthy; (6) no
// ComparisonError, InvalidSpecError or SyncError condition.
//
// Failed, at once: the operation for X ended Failed or Error, a SyncError
// condition names X, or the application is Degraded after X was applied.
// Everything else is Waiting, with the reason.
func Ready(app *Application, ours string, contains bool) Verdict {
	st := &app.Status
	op := st.OperationState
	if v, failed := failFast(app, ours); failed {
		return v
	}
	if !contains {
		rev, o := short(app.anyRevision()), short(ours)
		if rev == "" {
			return waiting("Argo CD has not compared any revision yet")
		}
		if rev == o { // two revisions that print alike: show them whole
			rev, o = app.anyRevision(), ours
		}
		return waiting("at revision %s, which does not contain %s yet", rev, o)
	}
	if st.Sync.Status != SyncSynced {
		return waiting("sync status %s", orUnknown(st.Sync.Status))
	}
	if app.Operation != nil {
		return waiting("a sync operation is requested and not started yet")
	}
	if op != nil {
		switch op.Phase {
		case PhaseRunning, PhaseTerminating:
			return waiting("operation %s", op.Phase)
		}
		if op.FinishedAt == nil {
			return waiting("the last operation (%s) has no finish time yet", orUnknown(op.Phase))
		}
		if st.ReconciledAt == nil || st.ReconciledAt.Before(*op.FinishedAt) {
			return waiting("status not reconciled since the last sync finished")
		}
		if op.syncedRevision(ours) && op.Phase != PhaseSucceeded {
			return waiting("sync of %s is %s", short(ours), orUnknown(op.Phase))
		}
	}
	switch st.Health.Status {
	case HealthHealthy:
	case HealthDegraded:
		return Verdict{State: Failed, Reason: fmt.Sprintf("Degraded after %s was applied%s", short(ours), suffix(st.Health.Message))}
	default:
		return waiting("health %s%s", orUnknown(st.Health.Status), suffix(st.Health.Message))
	}
	for _, c := range st.Conditions {
		if blockingCondition(c.Type) {
			return waiting("condition %s: %s", c.Type, c.Message)
		}
	}
	return Verdict{State: Deployed, Reason: fmt.Sprintf("Synced and Healthy at %s", short(app.anyRevision()))}
}

// failFast finds the outcomes that make waiting pointless.
func failFast(app *Application, ours string) (Verdict, bool) {
	op := app.Status.OperationState
	if app.Operation == nil && op != nil && (op.Phase == PhaseFailed || op.Phase == PhaseError) && op.syncedRevision(ours) {
		return Verdict{State: Failed, Reason: fmt.Sprintf("sync of %s ended %s%s", short(ours), op.Phase, suffix(op.Message))}, true
	}
	for _, c := range app.Status.Conditions {
		if c.Type == CondSyncError && namesRevision(c.Message, ours) {
			return Verdict{State: Failed, Reason: fmt.Sprintf("condition %s: %s", c.Type, c.Message)}, true
		}
	}
	return Verdict{}, false
}

// syncedRevision reports whether the operation was a sync of ours.
func (op *OperationState) syncedRevision(ours string) bool {
	if r := op.SyncResult; r != nil && (r.Revision == ours || slices.Contains(r.Revisions, ours)) {
		return true
	}
	if s := op.Operation.Sync; s != nil && (s.Revision == ours || slices.Contains(s.Revisions, ours)) {
		return true
	}
	return false
}

func namesRevision(msg, ours string) bool {
	if ours == "" {
		return false
	}
	return strings.Contains(msg, ours) || (len(ours) >= 7 && strings.Contains(msg, ours[:7]))
}

func blockingCondition(t string) bool {
	return t == CondComparisonError || t == CondInvalidSpecError || t == CondSyncError
}

// Revision returns the revision Argo CD last compared for the source whose
// repoURL is repoURL (multi-source: the matching entry of sync.revisions).
// With an empty repoURL, or a single-source application, it returns
// sync.revision. It returns "" when no source matches.
func (a *Application) Revision(repoURL string) string {
	if len(a.Spec.Sources) == 0 {
		if repoURL == "" || a.Spec.Source == nil || SameRepo(a.Spec.Source.RepoURL, repoURL) {
			return a.Status.Sync.Revision
		}
		return ""
	}
	for i, s := range a.Spec.Sources {
		if (repoURL == "" || SameRepo(s.RepoURL, repoURL)) && i < len(a.Status.Sync.Revisions) {
			return a.Status.Sync.Revisions[i]
		}
	}
	return ""
}

// SourceIndex returns the position of the source whose repoURL is repoURL
// among spec.sources, or -1 for a single-source application or no match.
func (a *Application) SourceIndex(repoURL string) int {
	for i, s := range a.Spec.Sources {
		if SameRepo(s.RepoURL, repoURL) {
			return i
		}
	}
	return -1
}

func (a *Application) anyRevision() string {
	if a.Status.Sync.Revision != "" {
		return a.Status.Sync.Revision
	}
	for _, r := range a.Status.Sync.Revisions {
		if r != "" {
			return r
		}
	}
	return ""
}

// SameRepo reports whether two repository URLs name the same repository:
// the scheme, a trailing ".git" or "/", user info and the case of the host
// do not matter. scp-like addresses (git@host:owner/name) compare equal to
// their https form.
func SameRepo(a, b string) bool {
	return normalizeRepo(a) == normalizeRepo(b)
}

func normalizeRepo(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		if at := strings.Index(s, "@"); at >= 0 {
			if colon := strings.Index(s[at:], ":"); colon > 0 {
				s = "ssh://" + s[:at+colon] + "/" + s[at+colon+1:]
			}
		}
	}
	host, path := s, ""
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		host, path = u.Host, u.Path
	}
	host = strings.ToLower(host)
	path = strings.TrimSuffix(strings.TrimRight(path, "/"), ".git")
	return host + "/" + strings.Trim(path, "/")
}

// Unready lists the resources that are not Synced or not Healthy, and the
// resources the last sync could not apply, each with its message, in the
// form "Deployment production/user-service: Degraded (message)".
func (a *Application) Unready() []string {
	var out []string
	seen := map[string]bool{}
	msgs := map[string]string{}
	if op := a.Status.OperationState; op != nil && op.SyncResult != nil {
		for _, r := range op.SyncResult.Resources {
			if r.Status != "" && r.Status != SyncSynced && r.Status != "Pruned" {
				msgs[resourceKey(r.Kind, r.Namespace, r.Name)] = r.Status + suffix(r.Message)
			}
		}
	}
	for _, r := range a.Status.Resources {
		key := resourceKey(r.Kind, r.Namespace, r.Name)
		var parts []string
		if r.Status != "" && r.Status != SyncSynced {
			parts = append(parts, r.Status)
		}
		if r.Health != nil && r.Health.Status != HealthHealthy {
			parts = append(parts, r.Health.Status+suffix(r.Health.Message))
		}
		if m, ok := msgs[key]; ok {
			parts = append(parts, "sync "+m)
			seen[key] = true
		}
		if len(parts) > 0 {
			out = append(out, key+": "+strings.Join(parts, ", "))
		}
	}
	keys := make([]string, 0, len(msgs))
	for k := range msgs {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+": sync "+msgs[k])
	}
	return out
}

func (a *Application) conditionLines() []string {
	var out []string
	for _, c := range a.Status.Conditions {
		out = append(out, c.Type+": "+c.Message)
	}
	return out
}

func resourceKey(kind, ns, name string) string {
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}

func waiting(format string, args ...any) Verdict {
	return Verdict{State: Waiting, Reason: fmt.Sprintf(format, args...)}
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}
