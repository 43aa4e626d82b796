package promote

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

// Landed-by values.
const (
	LandedByPush        = "push"
	LandedByPullRequest = "pull-request"
)

// Phase names a step of the pipeline.
type Phase string

// The phases, in order.
const (
	PhaseFetch    Phase = "fetch"
	PhaseEdit     Phase = "edit"
	PhaseValidate Phase = "validate"
	PhaseLand     Phase = "land"
	PhaseMerge    Phase = "merge"
	PhaseConfirm  Phase = "confirm"
)

// Timing is how long one phase took.
type Timing struct {
	Phase    Phase
	Duration time.Duration
}

// Result is what a run did: every output of DESIGN.md, and what the report
// needs (the file edits for a diff, the Argo CD statuses, the timings). Run
// returns it even with an error, holding what did happen.
type Result struct {
	Changed           bool               // output changed
	LandedBy          string             // output landed-by: push or pull-request
	CommitSHA         string             // output commit-sha: our commit (on branch, or on the PR branch)
	PullRequestNumber int                // output pull-request-number
	PullRequestURL    string             // output pull-request-url
	Merged            bool               // output merged
	Revision          string             // output revision: the commit on branch the puller must apply
	Deployed          bool               // output deployed
	Changes           []kustomize.Change // output changes
	Superseded        bool               // output superseded: a later run's value of one of our images won

	Branch   string               // the target branch, resolved
	PRBranch string               // the pull request branch, when one was used
	Base     string               // the head our edit was made on
	Files    []kustomize.FileEdit // the edited files, for a diff
	Warnings []string             // from the edit engine
	Apps     []AppStatus          // Argo CD, when confirmation was asked
	Attempts int                  // landing attempts
	DryRun   bool
	Timings  []Timing
	// Rendered is the rendered change of the edit: the objects of the edited
	// overlays whose kustomize build output differs (made with validation).
	Rendered []kustomize.ObjectDiff
	// Replacements name the values that superseded ours, and where.
	Replacements []Replacement
	// SupersededBy says, per confirmer that found it, which later change
	// replaced our image values before the puller applied them.
	SupersededBy []string
}

// Output is one step output: name as in DESIGN.md, value as a string.
type Output struct {
	Name, Value string
}

// Outputs returns every output of DESIGN.md, in its order, as strings (the
// changes as a JSON array).
func (r *Result) Outputs() []Output {
	num := ""
	if r.PullRequestNumber > 0 {
		num = strconv.Itoa(r.PullRequestNumber)
	}
	return []Output{
		{"changed", strconv.FormatBool(r.Changed)},
		{"landed-by", r.LandedBy},
		{"commit-sha", r.CommitSHA},
		{"pull-request-number", num},
		{"pull-request-url", r.PullRequestURL},
		{"merged", strconv.FormatBool(r.Merged)},
		{"revision", r.Revision},
		{"deployed", strconv.FormatBool(r.Deployed)},
		{"changes", string(r.changesJSON())},
		{"superseded", strconv.FormatBool(r.Superseded)},
	}
}

func (r *Result) changesJSON() []byte {
	changes := r.Changes
	if changes == nil {
		changes = []kustomize.Change{}
	}
	b, err := json.Marshal(changes)
	if err != nil { // a slice of string structs always marshals
		return []byte("[]")
	}
	return b
}

// MarshalJSON renders the outputs as one JSON object whose keys are the
// output names, with typed values (booleans, a number, the changes array).
func (r *Result) MarshalJSON() ([]byte, error) {
	var num *int
	if r.PullRequestNumber > 0 {
		num = &r.PullRequestNumber
	}
	return json.Marshal(struct {
		Changed           bool            `json:"changed"`
		LandedBy          string          `json:"landed-by"`
		CommitSHA         string          `json:"commit-sha"`
		PullRequestNumber *int            `json:"pull-request-number"`
		PullRequestURL    string          `json:"pull-request-url"`
		Merged            bool            `json:"merged"`
		Revision          string          `json:"revision"`
		Deployed          bool            `json:"deployed"`
		Changes           json.RawMessage `json:"changes"`
		RenderedDiff      json.RawMessage `json:"rendered_diff"`
		Superseded        bool            `json:"superseded"`
	}{r.Changed, r.LandedBy, r.CommitSHA, num, r.PullRequestURL, r.Merged, r.Revision, r.Deployed, r.changesJSON(), r.renderedJSON(), r.Superseded})
}

// renderedJSON is the rendered change as a JSON list (empty, not null,
// when there is none).
func (r *Result) renderedJSON() json.RawMessage {
	if len(r.Rendered) == 0 {
		return json.RawMessage("[]")
	}
	b, err := json.Marshal(r.Rendered)
	if err != nil { // a slice of string structs always marshals
		return json.RawMessage("[]")
	}
	return b
}
