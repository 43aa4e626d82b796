package github

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shurcooL/githubv4"
)

// ErrStaleHead means the branch moved since the caller read it
// (createCommitOnBranch answered STALE_DATA): re-read the head, re-apply
// the edit on it, and commit again.
var ErrStaleHead = errors.New("the branch head moved since it was read")

// ErrBranchNotFound means the branch does not exist.
var ErrBranchNotFound = errors.New("branch not found")

// ProtectedError means GitHub refused a direct commit or ref update because
// the branch is protected (classic branch protection or a ruleset).
type ProtectedError struct {
	Branch  string
	Ruleset bool   // a repository ruleset, not classic branch protection
	Message string // GitHub's words
}

// Error implements error.
func (e *ProtectedError) Error() string {
	kind := "branch protection"
	if e.Ruleset {
		kind = "a repository ruleset"
	}
	return fmt.Sprintf("branch %q is protected by %s: %s", e.Branch, kind, strings.TrimSpace(e.Message))
}

// Hint says what to do.
func (e *ProtectedError) Hint() string {
	return "the branch needs a pull request: use mode: pull-request (or auto)"
}

// ClosedError means the pull request was closed without being merged, or
// left the merge queue, or had auto-merge turned off: it will not merge on
// its own.
type ClosedError struct {
	Number int
	URL    string
	Reason string
	// event is the timeline item that tells who or what stopped it.
	event githubv4.PullRequestTimelineItemsItemType
}

// Error implements error.
func (e *ClosedError) Error() string {
	return fmt.Sprintf("pull request #%d (%s) will not merge: %s", e.Number, e.URL, e.Reason)
}

// Hint says what to do.
func (e *ClosedError) Hint() string {
	return "look at the pull request; run the promotion again to open a fresh one"
}

// SupersededError means the pull request no longer holds our commit: a
// later run rebuilt the shared pull request branch with its own change (or
// someone pushed to it), so merging it would land their change, not ours.
type SupersededError struct {
	Number int
	URL    string
	Ours   string // the commit we put on the branch
	Head   string // the pull request's head now; "" when GitHub only said it moved
}

// Error implements error.
func (e *SupersededError) Error() string {
	now := ""
	if e.Head != "" {
		now = fmt.Sprintf(" (its head is now %.12s)", e.Head)
	}
	return fmt.Sprintf("our commit %.12s was superseded by a later run that updated pull request #%d (%s)%s; this run merged nothing",
		e.Ours, e.Number, e.URL, now)
}

// Hint says what to do.
func (e *SupersededError) Hint() string {
	return "the later run lands its own change through the same pull request; run this promotion again if its images should still land"
}

func superseded(pr *PR, ours, head string) *SupersededError {
	return &SupersededError{Number: pr.Number, URL: pr.URL, Ours: ours, Head: head}
}

// DraftError means the pull request is a draft, which GitHub does not merge.
type DraftError struct {
	Number int
	URL    string
}

// Error implements error.
func (e *DraftError) Error() string {
	return fmt.Sprintf("pull request #%d (%s) is a draft; GitHub does not merge drafts", e.Number, e.URL)
}

// Hint says what to do.
func (e *DraftError) Hint() string {
	return "mark the pull request ready for review (or close it so the next run opens a fresh one)"
}

// AutoMergeNotAllowedError means the pull request cannot merge yet and the
// repository does not allow auto-merge.
type AutoMergeNotAllowedError struct {
	Number     int
	URL        string
	MergeState string
}

// Error implements error.
func (e *AutoMergeNotAllowedError) Error() string {
	return fmt.Sprintf("pull request #%d (%s) cannot merge yet (%s) and the repository does not allow auto-merge",
		e.Number, e.URL, strings.ToLower(e.MergeState))
}

// Hint names the setting.
func (e *AutoMergeNotAllowedError) Hint() string {
	return "turn on Settings > General > Pull Requests > Allow auto-merge in the config repository, or set auto-merge: false and merge by hand"
}

// ConflictError means the pull request conflicts with its base branch.
type ConflictError struct {
	Number int
	URL    string
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("pull request #%d (%s) has conflicts with its base branch", e.Number, e.URL)
}

// Hint says what to do.
func (e *ConflictError) Hint() string {
	return "run the promotion again: it rebuilds the pull request branch from the current base"
}

// GraphQLError is an error answer from the GraphQL API, with GitHub's types.
type GraphQLError struct {
	Op     string
	Errors []gqlError
	err    error
}

// Error implements error.
func (e *GraphQLError) Error() string {
	msgs := make([]string, 0, len(e.Errors))
	for _, g := range e.Errors {
		if g.Type != "" {
			msgs = append(msgs, fmt.Sprintf("%s (%s)", strings.TrimSpace(g.Message), g.Type))
		} else {
			msgs = append(msgs, strings.TrimSpace(g.Message))
		}
	}
	return fmt.Sprintf("%s: %s", e.Op, strings.Join(msgs, "; "))
}

// Unwrap returns the underlying error.
func (e *GraphQLError) Unwrap() error { return e.err }

// HasType reports whether GitHub gave one of the errors this type.
func (e *GraphQLError) HasType(typ string) bool {
	for _, g := range e.Errors {
		if g.Type == typ {
			return true
		}
	}
	return false
}

// Contains reports whether one of the messages contains s.
func (e *GraphQLError) Contains(s string) bool {
	for _, g := range e.Errors {
		if strings.Contains(g.Message, s) {
			return true
		}
	}
	return false
}

// query runs a GraphQL query (retried on 5xx like any idempotent request).
func (c *Client) query(ctx context.Context, op string, q any, vars map[string]any) error {
	sink := &gqlErrorSink{}
	err := c.gql.Query(context.WithValue(idempotent(ctx), gqlErrorsKey{}, sink), q, vars)
	return graphQLResult(op, err, sink)
}

// mutate runs a GraphQL mutation (never retried on 5xx: it may have landed).
func (c *Client) mutate(ctx context.Context, op string, m any, input any) error {
	sink := &gqlErrorSink{}
	err := c.gql.Mutate(context.WithValue(ctx, gqlErrorsKey{}, sink), m, input, nil)
	return graphQLResult(op, err, sink)
}

func graphQLResult(op string, err error, sink *gqlErrorSink) error {
	if err == nil {
		return nil
	}
	if len(sink.errs) > 0 {
		return &GraphQLError{Op: op, Errors: sink.errs, err: err}
	}
	return apiError(op, err)
}
