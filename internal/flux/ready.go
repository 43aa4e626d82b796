package flux

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is where a Kustomization stands relative to our revision.
type State int

// The outcomes of the readiness rule.
const (
	// Waiting: not deployed yet; keep watching.
	Waiting State = iota
	// Deployed: our revision (or a descendant that keeps our values) is
	// applied and Ready.
	Deployed
	// Failed: our revision will not become Ready without a person.
	Failed
	// Superseded: a later commit that contains ours replaced our image
	// values; ours will never be applied as such.
	Superseded
)

// String returns the state as the status table prints it.
func (s State) String() string {
	switch s {
	case Deployed:
		return "deployed"
	case Failed:
		return "failed"
	case Superseded:
		return "superseded"
	default:
		return "waiting"
	}
}

// Relation is how a commit Flux reports stands to ours.
type Relation int

// The relations a commit may have to ours.
const (
	// Unrelated: not ours and not a descendant (older, another branch, or
	// not known yet).
	Unrelated Relation = iota
	// Ours: our commit itself.
	Ours
	// Descendant: a later commit whose history contains ours and which
	// still holds our image values.
	Descendant
	// Replaced: a later commit whose history contains ours but which no
	// longer holds our image values.
	Replaced
)

// contains reports whether the commit is ours or has ours in its history.
func (r Relation) contains() bool { return r != Unrelated }

// Snapshot is everything the readiness rule looks at, read at one moment.
type Snapshot struct {
	Kustomization *Kustomization
	// Source is the Kustomization's GitRepository; nil when not read yet.
	Source *GitRepository
	// Token is the reconcile request we made of the Kustomization (the
	// value of reconcile.fluxcd.io/requestedAt); "" when we made none.
	Token string
	// Relations holds, per commit SHA (see RevisionSHA), how it stands to
	// ours. A commit that is not in it counts as Unrelated.
	Relations map[string]Relation
}

func (s *Snapshot) relation(rev string) Relation {
	sha := RevisionSHA(rev)
	if sha == "" {
		return Unrelated
	}
	return s.Relations[sha]
}

// Verdict is the outcome of Ready with the reason for it.
type Verdict struct {
	State  State
	Reason string
}

// failedReasons are the Ready=False reasons of kustomize-controller that
// say the attempted revision failed: the health check, fetching the
// artifact, the kustomize build, validation, the apply (ReconciliationFailed)
// and pruning. DependencyNotReady and Progressing are not among them: they
// pass by themselves.
var failedReasons = []string{"HealthCheckFailed", "ArtifactFailed", "BuildFailed", "ValidationFailed", "ReconciliationFailed", "PruneFailed"}

// Ready applies the "deployed commit X" rule to one snapshot of a
// Kustomization and its source.
//
// Deployed needs all of: Ready=True; lastAppliedRevision is ours or a
// descendant that keeps our image values; and, when we requested a
// reconcile (Token), lastHandledReconcileAt is our token (or a later
// request's). Ready=True alone is not enough: right after a push it is
// still True at the previous revision.
//
// Superseded: lastAppliedRevision or lastAttemptedRevision contains ours
// but no longer holds our image values.
//
// Failed, at once: spec.suspend (nothing will apply); Ready=False with a
// failure reason (HealthCheckFailed, ArtifactFailed, BuildFailed,
// ValidationFailed, ReconciliationFailed, PruneFailed) while
// lastAttemptedRevision is ours or a descendant; the source suspended or
// Ready=False. Everything else is Waiting, with the reason.
func Ready(s Snapshot) Verdict {
	ks := s.Kustomization
	st := &ks.Status
	ready := ks.Condition("Ready")
	applied, attempted := s.relation(st.LastAppliedRevision), s.relation(st.LastAttemptedRevision)

	if ready != nil && ready.Status == "True" && (applied == Ours || applied == Descendant) && handled(st.LastHandledReconcileAt, s.Token) {
		return Verdict{State: Deployed, Reason: fmt.Sprintf("Ready at %s", shortRev(st.LastAppliedRevision))}
	}
	switch {
	case applied == Replaced:
		return Verdict{State: Superseded, Reason: fmt.Sprintf("Flux applied %s, a later commit that replaced our image values", shortRev(st.LastAppliedRevision))}
	case attempted == Replaced:
		return Verdict{State: Superseded, Reason: fmt.Sprintf("Flux is applying %s, a later commit that replaced our image values", shortRev(st.LastAttemptedRevision))}
	}
	if ks.Spec.Suspend {
		return Verdict{State: Failed, Reason: fmt.Sprintf("Kustomization %s is suspended (spec.suspend: true): Flux applies nothing until it is resumed (flux resume ks %s -n %s)", ks.Ref(), ks.Metadata.Name, ks.Metadata.Namespace)}
	}
	if ready != nil && ready.Status == "False" && slices.Contains(failedReasons, ready.Reason) && attempted.contains() {
		return Verdict{State: Failed, Reason: fmt.Sprintf("Ready=False (%s) at %s: %s", ready.Reason, shortRev(st.LastAttemptedRevision), ready.Message)}
	}
	if src := s.Source; src != nil {
		name := "GitRepository " + src.Metadata.Namespace + "/" + src.Metadata.Name
		if src.Spec.Suspend && !s.relation(src.ArtifactRevision()).contains() {
			return Verdict{State: Failed, Reason: fmt.Sprintf("the source %s is suspended (spec.suspend: true) and has not fetched our commit: Flux fetches nothing until it is resumed (flux resume source git %s -n %s)", name, src.Metadata.Name, src.Metadata.Namespace)}
		}
		if c := src.Condition("Ready"); c != nil && c.Status == "False" {
			return Verdict{State: Failed, Reason: fmt.Sprintf("the source %s is not ready (%s): %s", name, c.Reason, c.Message)}
		}
	}
	return Verdict{State: Waiting, Reason: waitReason(s, ready, applied)}
}

// waitReason says what Ready still waits for, most telling first.
func waitReason(s Snapshot, ready *Condition, applied Relation) string {
	st := &s.Kustomization.Status
	var parts []string
	switch {
	case ready == nil:
		parts = append(parts, "no Ready condition yet")
	case ready.Message != "":
		parts = append(parts, fmt.Sprintf("Ready=%s (%s): %s", ready.Status, ready.Reason, ready.Message))
	default:
		parts = append(parts, fmt.Sprintf("Ready=%s (%s)", ready.Status, ready.Reason))
	}
	if !applied.contains() {
		parts = append(parts, fmt.Sprintf("applied %s, attempted %s", orNone(shortRev(st.LastAppliedRevision)), orNone(shortRev(st.LastAttemptedRevision))))
	}
	if s.Token != "" && !handled(st.LastHandledReconcileAt, s.Token) {
		parts = append(parts, "our reconcile request not handled yet")
	}
	if src := s.Source; src != nil && !s.relation(src.ArtifactRevision()).contains() {
		parts = append(parts, fmt.Sprintf("source at %s", orNone(shortRev(src.ArtifactRevision()))))
	}
	return strings.Join(parts, "; ")
}

// handled reports whether a controller's lastHandledReconcileAt answers
// our request token: the same value, or (both being times as `flux
// reconcile` writes them) a later request's. An empty token asks nothing.
func handled(got, token string) bool {
	if token == "" || got == token {
		return true
	}
	g, err1 := time.Parse(time.RFC3339Nano, got)
	t, err2 := time.Parse(time.RFC3339Nano, token)
	return err1 == nil && err2 == nil && g.After(t)
}

// shortRev shortens "main@sha1:<40 hex>" to "main@sha1:1234567".
func shortRev(rev string) string {
	sha := RevisionSHA(rev)
	if sha == "" || len(sha) <= 7 {
		return rev
	}
	return strings.TrimSuffix(rev, sha) + sha[:7]
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}
