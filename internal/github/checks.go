package github

import (
	"fmt"
	"slices"
	"strings"
)

// rollupContexts is the part of a commit's status rollup WaitMerged reads:
// every commit status and check run, and whether the pull request's base
// requires it.
type rollupContexts struct {
	Nodes []struct {
		Typename string `graphql:"__typename"`
		CheckRun struct {
			Name       string
			Status     string
			Conclusion *string
			DetailsURL *string `graphql:"detailsUrl"`
			IsRequired bool    `graphql:"isRequired(pullRequestNumber: $number)"`
		} `graphql:"... on CheckRun"`
		StatusContext struct {
			Context    string
			State      string
			TargetURL  *string `graphql:"targetUrl"`
			IsRequired bool    `graphql:"isRequired(pullRequestNumber: $number)"`
		} `graphql:"... on StatusContext"`
	}
}

// Check is one required commit status or check run on a pull request's head.
type Check struct {
	Name  string // the status context or the check run's name
	State string // FAILURE, ERROR, CANCELLED, TIMED_OUT, ACTION_REQUIRED ...; or the pending status
	URL   string // target_url of a status, details_url of a check run
}

// failedConclusions are the check run conclusions (and status states) that
// end the merge wait: GitHub does not merge while a required check is in one.
var failedConclusions = []string{"FAILURE", "ERROR", "CANCELLED", "TIMED_OUT", "ACTION_REQUIRED", "STARTUP_FAILURE"}

// requiredChecks sorts the required checks of a rollup into failed and
// pending ones (passed ones are left out).
func requiredChecks(rc rollupContexts) (failed, pending []Check) {
	for _, n := range rc.Nodes {
		switch n.Typename {
		case "CheckRun":
			cr := n.CheckRun
			if !cr.IsRequired {
				continue
			}
			c := Check{Name: cr.Name, URL: deref(cr.DetailsURL)}
			switch {
			case cr.Status != "COMPLETED":
				c.State = cr.Status
				pending = append(pending, c)
			case cr.Conclusion != nil && slices.Contains(failedConclusions, *cr.Conclusion):
				c.State = *cr.Conclusion
				failed = append(failed, c)
			}
		case "StatusContext":
			sc := n.StatusContext
			if !sc.IsRequired {
				continue
			}
			c := Check{Name: sc.Context, State: sc.State, URL: deref(sc.TargetURL)}
			switch sc.State {
			case "FAILURE", "ERROR":
				failed = append(failed, c)
			case "PENDING", "EXPECTED":
				pending = append(pending, c)
			}
		}
	}
	byName := func(a, b Check) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(failed, byName)
	slices.SortFunc(pending, byName)
	return failed, pending
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ChecksFailedError means a required status or check run on the pull
// request's head failed: GitHub will not merge it unless the check is run
// again and passes.
type ChecksFailedError struct {
	Number int
	URL    string
	Failed []Check
}

// Error implements error.
func (e *ChecksFailedError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = fmt.Sprintf("%s (%s)", c.Name, strings.ToLower(c.State))
		if c.URL != "" {
			parts[i] += " " + c.URL
		}
	}
	return fmt.Sprintf("pull request #%d (%s) will not merge: required %s failed: %s",
		e.Number, e.URL, plural(len(e.Failed), "check"), strings.Join(parts, "; "))
}

// Hint says what to do.
func (e *ChecksFailedError) Hint() string {
	return "the pull request stays open with auto-merge on: it merges if the failed check is re-run and passes; fix the cause, re-run the check, or close the pull request"
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// pendingLine names the required checks still running, for the status line.
func pendingLine(pending []Check) string {
	parts := make([]string, len(pending))
	for i, c := range pending {
		parts[i] = fmt.Sprintf("%s (%s)", c.Name, strings.ToLower(strings.ReplaceAll(c.State, "_", " ")))
	}
	return strings.Join(parts, ", ")
}
