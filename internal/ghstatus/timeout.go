package ghstatus

import (
	"fmt"
	"strings"
)

// Timeout explains a wait that ended before every target was decided: what
// was seen for each target still waiting, and the likely cause.
func Timeout(want Want, v View, verdict Verdict) string {
	var b strings.Builder
	fmt.Fprintf(&b, "no final status for %s or a later commit that contains it", short(v.Ours.SHA))
	for _, t := range verdict.Targets {
		if t.Outcome != Waiting {
			continue
		}
		b.WriteString("; " + t.Name + ": ")
		if len(t.Seen) == 0 {
			b.WriteString("never appeared")
			if near := shownNames(v); len(near) > 0 {
				fmt.Fprintf(&b, " (GitHub shows %s)", strings.Join(near, ", "))
			}
			continue
		}
		b.WriteString(strings.Join(t.Seen, ", "))
	}
	return b.String()
}

// TimeoutHint is the likely cause of a timeout, for the person.
func TimeoutHint(want Want) string {
	var causes []string
	if len(want.Contexts) > 0 {
		causes = append(causes, "no notification subscription on the application (Argo CD: the notifications.argoproj.io/subscribe.on-deployed.github annotation; Flux: an Alert for the Kustomization with a github Provider)",
			"a context that differs from status-contexts (Argo CD posts the template's label, e.g. continuous-delivery/<app>; Flux posts kustomization/<name>/<8 hex of the Provider's UID>, so use kustomization/<name>/*)",
			"a sync that failed before it resolved a revision (Argo CD then posts nothing), or a post that failed once (never re-sent)")
	}
	if want.Environment != "" {
		causes = append(causes, "no deployment is created for the environment (Argo CD Notifications: a github.deployment block in the on-deployed template)")
	}
	return "likely: " + strings.Join(causes, "; or ")
}

// shownNames lists the names GitHub shows on the view, which a person may
// have meant, at most five.
func shownNames(v View) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range append([]Commit{v.Ours}, v.Later...) {
		for _, s := range c.Signals {
			k := string(s.Kind) + " " + fmt.Sprintf("%q", s.Name)
			if !seen[k] && len(out) < 5 {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}
