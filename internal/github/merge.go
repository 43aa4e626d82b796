package github

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shurcooL/githubv4"
)

// MergeAction is what Merge did.
type MergeAction string

// The outcomes of Merge.
const (
	ActionNone      MergeAction = "none"       // auto-merge off: the pull request is left open
	ActionMerged    MergeAction = "merged"     // merged now
	ActionAutoMerge MergeAction = "auto-merge" // GitHub merges it when requirements are met
	ActionQueued    MergeAction = "queued"     // in (or bound for) the merge queue
)

// MergeOutcome reports what Merge did.
type MergeOutcome struct {
	Action      MergeAction
	Method      string // MERGE, SQUASH or REBASE
	MergeCommit string // the merge commit, when Action is ActionMerged
}

// prState is what the client reads about a pull request.
type prState struct {
	ID               githubv4.ID
	State            githubv4.PullRequestState
	IsDraft          bool
	Merged           bool
	MergeStateStatus githubv4.MergeStateStatus
	HeadRefOid       githubv4.GitObjectID
	IsInMergeQueue   bool
	AutoMergeRequest *struct {
		MergeMethod githubv4.PullRequestMergeMethod
	}
	MergeCommit *struct {
		Oid githubv4.GitObjectID
	}
}

func mergeMethod(method string) (githubv4.PullRequestMergeMethod, error) {
	switch strings.ToLower(strings.TrimSpace(method)) {
	case "merge":
		return githubv4.PullRequestMergeMethodMerge, nil
	case "squash", "":
		return githubv4.PullRequestMergeMethodSquash, nil
	case "rebase":
		return githubv4.PullRequestMergeMethodRebase, nil
	}
	return "", &inputError{msg: fmt.Sprintf("merge-method %q is not one of merge, squash, rebase", method)}
}

// readForMerge reads the repository's auto-merge setting and merge queue
// together with the pull request, in one request.
func (c *Client) readForMerge(ctx context.Context, pr *PR) (allowed, queue bool, st *prState, err error) {
	var q struct {
		Repository struct {
			AutoMergeAllowed bool
			MergeQueue       *struct{ ID githubv4.ID } `graphql:"mergeQueue(branch: $base)"`
			PullRequest      *prState                  `graphql:"pullRequest(number: $number)"`
		} `graphql:"repository(owner: $owner, name: $name)"`
	}
	vars := map[string]any{
		"owner": githubv4.String(pr.Owner), "name": githubv4.String(pr.Repo),
		"number": githubv4.Int(pr.Number), "base": githubv4.String(pr.BaseRef),
	}
	if err := c.query(ctx, fmt.Sprintf("reading pull request #%d", pr.Number), &q, vars); err != nil {
		return false, false, nil, err
	}
	if q.Repository.PullRequest == nil {
		return false, false, nil, fmt.Errorf("reading pull request #%d: GitHub returned no pull request", pr.Number)
	}
	return q.Repository.AutoMergeAllowed, q.Repository.MergeQueue != nil, q.Repository.PullRequest, nil
}

// Merge gets the pull request merged the way the repository allows, as the
// GitHub CLI decides it: on a merge-queue branch it enables auto-merge (or
// enqueues); when mergeStateStatus is CLEAN, HAS_HOOKS or UNSTABLE it merges
// now; otherwise it enables auto-merge with method. Every mutation is pinned
// to head (expectedHeadOid), the commit the caller put on the pull request
// branch: when the branch holds another commit (a later run rebuilt it), or
// GitHub refuses the pin, the error is a *SupersededError and nothing is
// merged. With autoMerge false it does nothing and reports ActionNone.
func (c *Client) Merge(ctx context.Context, pr *PR, head, method string, autoMerge bool) (*MergeOutcome, error) {
	m, err := mergeMethod(method)
	if err != nil {
		return nil, err
	}
	if !autoMerge {
		return &MergeOutcome{Action: ActionNone, Method: string(m)}, nil
	}
	if head == "" {
		return nil, &inputError{msg: fmt.Sprintf("merging pull request #%d: the expected head commit is required", pr.Number)}
	}
	out, err := c.ask(ctx, pr, head, m)
	var ge *GraphQLError
	if err == nil || !errors.As(err, &ge) || !ge.Contains("is already merged") {
		return out, err
	}
	// GitHub merged it between our read and our request (the checks passed,
	// the queue ran): what merged is the answer.
	_, _, st, rerr := c.readForMerge(ctx, pr)
	switch {
	case rerr != nil:
		return nil, err
	case string(st.HeadRefOid) != head:
		return nil, superseded(pr, head, string(st.HeadRefOid))
	case st.Merged:
		c.logf("pull request #%d merged meanwhile as %.12s", pr.Number, mergeOid(st))
		return &MergeOutcome{Action: ActionMerged, Method: string(m), MergeCommit: mergeOid(st)}, nil
	}
	return nil, err
}

// ask reads the pull request and asks GitHub to merge it the way its state allows.
func (c *Client) ask(ctx context.Context, pr *PR, head string, m githubv4.PullRequestMergeMethod) (*MergeOutcome, error) {
	allowed, queue, st, err := c.readForMerge(ctx, pr)
	if err != nil {
		return nil, err
	}
	for tries := 0; st.MergeStateStatus == githubv4.MergeStateStatusUnknown && !queue && st.State == githubv4.PullRequestStateOpen && tries < c.unknownTries; tries++ {
		c.logf("pull request #%d: GitHub is still computing mergeability", pr.Number)
		if err := c.clock.Sleep(ctx, c.unknownWait<<tries); err != nil {
			return nil, fmt.Errorf("waiting for GitHub to compute the mergeability of pull request #%d: %w", pr.Number, err)
		}
		if allowed, queue, st, err = c.readForMerge(ctx, pr); err != nil {
			return nil, err
		}
	}
	if string(st.HeadRefOid) != head {
		return nil, superseded(pr, head, string(st.HeadRefOid))
	}
	switch {
	case st.Merged:
		return &MergeOutcome{Action: ActionMerged, Method: string(m), MergeCommit: mergeOid(st)}, nil
	case st.State == githubv4.PullRequestStateClosed:
		return nil, c.explain(ctx, pr, closedWithoutMerge(pr))
	case st.IsDraft:
		return nil, &DraftError{Number: pr.Number, URL: pr.URL}
	case st.MergeStateStatus == githubv4.MergeStateStatusDirty:
		return nil, &ConflictError{Number: pr.Number, URL: pr.URL}
	}
	if queue {
		return c.joinQueue(ctx, pr, st, m, head)
	}
	switch st.MergeStateStatus {
	case githubv4.MergeStateStatusClean, githubv4.MergeStateStatusHasHooks, githubv4.MergeStateStatusUnstable:
		return c.mergeNow(ctx, pr, st, m, head)
	}
	if st.AutoMergeRequest != nil && st.AutoMergeRequest.MergeMethod == m {
		c.logf("auto-merge (%s) is already on for pull request #%d", strings.ToLower(string(m)), pr.Number)
		return &MergeOutcome{Action: ActionAutoMerge, Method: string(m)}, nil
	}
	if !allowed {
		return nil, &AutoMergeNotAllowedError{Number: pr.Number, URL: pr.URL, MergeState: string(st.MergeStateStatus)}
	}
	return c.enableAutoMerge(ctx, pr, st, m, head, true)
}

func mergeOid(st *prState) string {
	if st.MergeCommit == nil {
		return ""
	}
	return string(st.MergeCommit.Oid)
}

// headModified reports GitHub's refusal of a mutation whose expectedHeadOid
// is no longer the pull request's head.
func headModified(err error) bool {
	var ge *GraphQLError
	return errors.As(err, &ge) && ge.Contains("Head branch was modified")
}

// mergeNow calls mergePullRequest, pinned to head.
func (c *Client) mergeNow(ctx context.Context, pr *PR, st *prState, m githubv4.PullRequestMergeMethod, head string) (*MergeOutcome, error) {
	var mut struct {
		MergePullRequest struct {
			PullRequest struct {
				Merged      bool
				MergeCommit *struct{ Oid githubv4.GitObjectID }
			}
		} `graphql:"mergePullRequest(input: $input)"`
	}
	oid := githubv4.GitObjectID(head)
	input := githubv4.MergePullRequestInput{PullRequestID: st.ID, MergeMethod: &m, ExpectedHeadOid: &oid}
	if err := c.mutate(ctx, fmt.Sprintf("merging pull request #%d", pr.Number), &mut, input); err != nil {
		if headModified(err) {
			return nil, superseded(pr, head, "")
		}
		return nil, err
	}
	got := mut.MergePullRequest.PullRequest
	if !got.Merged || got.MergeCommit == nil {
		return nil, fmt.Errorf("merging pull request #%d: GitHub did not report a merge commit", pr.Number)
	}
	c.logf("merged pull request #%d as %.12s", pr.Number, got.MergeCommit.Oid)
	return &MergeOutcome{Action: ActionMerged, Method: string(m), MergeCommit: string(got.MergeCommit.Oid)}, nil
}

// enableAutoMerge turns on auto-merge; "Pull request is in clean status"
// means it could merge now, so it re-reads and merges (once).
func (c *Client) enableAutoMerge(ctx context.Context, pr *PR, st *prState, m githubv4.PullRequestMergeMethod, head string, retryClean bool) (*MergeOutcome, error) {
	var mut struct {
		EnablePullRequestAutoMerge struct {
			ClientMutationID *githubv4.String `graphql:"clientMutationId"`
		} `graphql:"enablePullRequestAutoMerge(input: $input)"`
	}
	oid := githubv4.GitObjectID(head)
	input := githubv4.EnablePullRequestAutoMergeInput{PullRequestID: st.ID, MergeMethod: &m, ExpectedHeadOid: &oid}
	err := c.mutate(ctx, fmt.Sprintf("enabling auto-merge on pull request #%d", pr.Number), &mut, input)
	var ge *GraphQLError
	switch {
	case headModified(err):
		return nil, superseded(pr, head, "")
	case err == nil:
		c.logf("auto-merge (%s) enabled on pull request #%d", strings.ToLower(string(m)), pr.Number)
		return &MergeOutcome{Action: ActionAutoMerge, Method: string(m)}, nil
	case errors.As(err, &ge) && ge.Contains("Auto merge is not allowed"):
		return nil, &AutoMergeNotAllowedError{Number: pr.Number, URL: pr.URL, MergeState: string(st.MergeStateStatus)}
	case errors.As(err, &ge) && (ge.Contains("is in clean status") || ge.Contains("is in unstable status")) && retryClean:
		_, _, fresh, err := c.readForMerge(ctx, pr)
		if err != nil {
			return nil, err
		}
		if string(fresh.HeadRefOid) != head {
			return nil, superseded(pr, head, string(fresh.HeadRefOid))
		}
		if fresh.Merged {
			return &MergeOutcome{Action: ActionMerged, Method: string(m), MergeCommit: mergeOid(fresh)}, nil
		}
		return c.mergeNow(ctx, pr, fresh, m, head)
	}
	return nil, err
}

// joinQueue puts the pull request on the merge queue's path: auto-merge,
// which GitHub turns into a queue entry when requirements are met; a pull
// request that is already mergeable is enqueued directly.
func (c *Client) joinQueue(ctx context.Context, pr *PR, st *prState, m githubv4.PullRequestMergeMethod, head string) (*MergeOutcome, error) {
	if st.IsInMergeQueue {
		return &MergeOutcome{Action: ActionQueued}, nil
	}
	out, err := c.enableAutoMerge(ctx, pr, st, m, head, false)
	var ge *GraphQLError
	if err != nil && errors.As(err, &ge) && ge.Contains("is in clean status") {
		var mut struct {
			EnqueuePullRequest struct {
				MergeQueueEntry *struct{ Position int }
			} `graphql:"enqueuePullRequest(input: $input)"`
		}
		oid := githubv4.GitObjectID(head)
		input := githubv4.EnqueuePullRequestInput{PullRequestID: st.ID, ExpectedHeadOid: &oid}
		if err := c.mutate(ctx, fmt.Sprintf("adding pull request #%d to the merge queue", pr.Number), &mut, input); err != nil {
			if headModified(err) {
				return nil, superseded(pr, head, "")
			}
			return nil, err
		}
		out, err = &MergeOutcome{}, nil
	}
	if err != nil {
		return nil, err
	}
	c.logf("pull request #%d will merge through the merge queue of %s", pr.Number, pr.BaseRef)
	return &MergeOutcome{Action: ActionQueued, Method: out.Method}, nil
}

// pollState is what WaitMerged reads on each poll.
type pollState struct {
	prState
	MergeQueueEntry *struct {
		State githubv4.MergeQueueEntryState
	}
	Commits struct {
		Nodes []struct {
			Commit struct {
				StatusCheckRollup *struct {
					State    githubv4.StatusState
					Contexts rollupContexts `graphql:"contexts(first: 100)"`
				}
			}
		}
	} `graphql:"commits(last: 1)"`
}

// WaitMerged polls until the pull request is merged with head (our commit)
// as its head and returns the merge commit. When the head is another commit,
// open or merged, a later run (or a push) replaced ours: it returns a
// *SupersededError at once. It fails when the pull request is closed without
// merging, leaves the merge queue, loses its auto-merge, turns into a draft
// or conflicts, when a required check fails (a *ChecksFailedError naming
// each with its link), and when ctx ends. Polls are at least 5 s apart, growing to 30 s. When
// required checks have not started after a few minutes it logs a warning
// with the usual cause and its fix.
func (c *Client) WaitMerged(ctx context.Context, pr *PR, head string) (string, error) {
	if head == "" {
		return "", &inputError{msg: fmt.Sprintf("waiting for pull request #%d: the expected head commit is required", pr.Number)}
	}
	start := c.clock.Now()
	interval := newBackoff(c.pollInterval, c.pollMax, 0)
	interval.Multiplier = 1.5
	var sawQueue, sawAuto, warned bool
	last, lastPending := "not read yet", ""
	for {
		var q struct {
			Repository struct {
				PullRequest *pollState `graphql:"pullRequest(number: $number)"`
			} `graphql:"repository(owner: $owner, name: $name)"`
		}
		vars := map[string]any{"owner": githubv4.String(pr.Owner), "name": githubv4.String(pr.Repo), "number": githubv4.Int(pr.Number)}
		if err := c.query(ctx, fmt.Sprintf("reading pull request #%d", pr.Number), &q, vars); err != nil {
			if ctx.Err() != nil {
				return "", c.waitTimeout(pr, last, ctx.Err())
			}
			return "", err
		}
		st := q.Repository.PullRequest
		if st == nil {
			return "", fmt.Errorf("reading pull request #%d: GitHub returned no pull request", pr.Number)
		}
		if string(st.HeadRefOid) != head {
			return "", superseded(pr, head, string(st.HeadRefOid))
		}
		if st.Merged && st.MergeCommit != nil {
			c.logf("pull request #%d merged as %.12s", pr.Number, st.MergeCommit.Oid)
			return string(st.MergeCommit.Oid), nil
		}
		if err := c.stillMerging(pr, st, &sawQueue, &sawAuto); err != nil {
			return "", c.explain(ctx, pr, err)
		}
		last = strings.ToLower(string(st.MergeStateStatus))
		if st.IsInMergeQueue {
			last = "in the merge queue"
		}
		if n := st.Commits.Nodes; len(n) > 0 && n[len(n)-1].Commit.StatusCheckRollup != nil && !st.IsInMergeQueue {
			failed, pending := requiredChecks(n[len(n)-1].Commit.StatusCheckRollup.Contexts)
			if len(failed) > 0 {
				return "", &ChecksFailedError{Number: pr.Number, URL: pr.URL, Failed: failed}
			}
			line := pendingLine(pending)
			if line != "" && line != lastPending {
				c.logf("pull request #%d: waiting for required checks: %s", pr.Number, line)
			}
			if lastPending = line; line != "" {
				last += "; required checks still running: " + line
			}
		}
		if !warned && st.State == githubv4.PullRequestStateOpen && !st.IsInMergeQueue && noChecks(st) &&
			st.MergeStateStatus == githubv4.MergeStateStatusBlocked && c.clock.Now().Sub(start) >= c.checksWarnAfter {
			warned = true
			c.logf("warning: pull request #%d: no required check has started after %s. Pushes and pull requests made with GITHUB_TOKEN start no workflows; "+
				"give the action a GitHub App token (actions/create-github-app-token) or a personal access token so the checks run", pr.Number, c.checksWarnAfter.Round(time.Second))
		}
		if err := c.clock.Sleep(ctx, interval.NextBackOff()); err != nil {
			return "", c.waitTimeout(pr, last, err)
		}
	}
}

func noChecks(st *pollState) bool {
	n := st.Commits.Nodes
	return len(n) == 0 || n[len(n)-1].Commit.StatusCheckRollup == nil
}

// stillMerging returns an error when the pull request will not merge on its own.
func (c *Client) stillMerging(pr *PR, st *pollState, sawQueue, sawAuto *bool) error {
	switch {
	case st.State == githubv4.PullRequestStateClosed:
		return closedWithoutMerge(pr)
	case st.IsDraft:
		return &DraftError{Number: pr.Number, URL: pr.URL}
	case st.MergeStateStatus == githubv4.MergeStateStatusDirty:
		return &ConflictError{Number: pr.Number, URL: pr.URL}
	}
	inQueue := st.IsInMergeQueue || st.MergeQueueEntry != nil
	if *sawQueue && !inQueue && st.AutoMergeRequest == nil {
		return &ClosedError{Number: pr.Number, URL: pr.URL, Reason: "it was removed from the merge queue",
			event: githubv4.PullRequestTimelineItemsItemTypeRemovedFromMergeQueueEvent}
	}
	if *sawAuto && !*sawQueue && !inQueue && st.AutoMergeRequest == nil {
		return &ClosedError{Number: pr.Number, URL: pr.URL, Reason: "auto-merge was turned off",
			event: githubv4.PullRequestTimelineItemsItemTypeAutoMergeDisabledEvent}
	}
	*sawQueue = *sawQueue || inQueue
	*sawAuto = *sawAuto || st.AutoMergeRequest != nil
	return nil
}

// WaitTimeoutError means the wait ended (timeout or cancel) before the merge.
type WaitTimeoutError struct {
	Number int
	URL    string
	Last   string // the last merge state seen
	Err    error
}

// Error implements error.
func (e *WaitTimeoutError) Error() string {
	return fmt.Sprintf("waiting for pull request #%d (%s) to merge (last state: %s): %v", e.Number, e.URL, e.Last, e.Err)
}

// Unwrap returns the underlying error.
func (e *WaitTimeoutError) Unwrap() error { return e.Err }

// Hint says what to do.
func (e *WaitTimeoutError) Hint() string {
	return "the pull request stays open and may still merge; look at its checks, or raise `timeout`"
}

func (c *Client) waitTimeout(pr *PR, last string, err error) error {
	return &WaitTimeoutError{Number: pr.Number, URL: pr.URL, Last: last, Err: err}
}

func closedWithoutMerge(pr *PR) *ClosedError {
	return &ClosedError{Number: pr.Number, URL: pr.URL, Reason: "it was closed without merging",
		event: githubv4.PullRequestTimelineItemsItemTypeClosedEvent}
}

type timelineActor struct{ Login string }

// explain adds who or what stopped the pull request, from its latest
// timeline event of the matching type (one request, only on this failure
// path); when that read fails the error is returned as it is.
func (c *Client) explain(ctx context.Context, pr *PR, err error) error {
	var ce *ClosedError
	if !errors.As(err, &ce) || ce.event == "" {
		return err
	}
	var q struct {
		Repository struct {
			PullRequest *struct {
				TimelineItems struct {
					Nodes []struct {
						Typename    string `graphql:"__typename"`
						ClosedEvent struct {
							Actor *timelineActor
						} `graphql:"... on ClosedEvent"`
						AutoMergeDisabledEvent struct {
							Actor  *timelineActor
							Reason *string
						} `graphql:"... on AutoMergeDisabledEvent"`
						RemovedFromMergeQueueEvent struct {
							Reason *string
						} `graphql:"... on RemovedFromMergeQueueEvent"`
					}
				} `graphql:"timelineItems(last: 1, itemTypes: $types)"`
			} `graphql:"pullRequest(number: $number)"`
		} `graphql:"repository(owner: $owner, name: $name)"`
	}
	vars := map[string]any{"owner": githubv4.String(pr.Owner), "name": githubv4.String(pr.Repo),
		"number": githubv4.Int(pr.Number), "types": []githubv4.PullRequestTimelineItemsItemType{ce.event}}
	if qerr := c.query(ctx, fmt.Sprintf("reading the timeline of pull request #%d", pr.Number), &q, vars); qerr != nil || q.Repository.PullRequest == nil {
		return err
	}
	nodes := q.Repository.PullRequest.TimelineItems.Nodes
	if len(nodes) == 0 {
		return err
	}
	n := nodes[len(nodes)-1]
	var detail string
	switch ce.event {
	case githubv4.PullRequestTimelineItemsItemTypeClosedEvent:
		if a := n.ClosedEvent.Actor; a != nil {
			detail = "by @" + a.Login
		}
	case githubv4.PullRequestTimelineItemsItemTypeAutoMergeDisabledEvent:
		if a := n.AutoMergeDisabledEvent.Actor; a != nil {
			detail = "by @" + a.Login
		}
		if r := n.AutoMergeDisabledEvent.Reason; r != nil && *r != "" {
			detail = strings.TrimSpace(detail + ": " + *r)
		}
	case githubv4.PullRequestTimelineItemsItemTypeRemovedFromMergeQueueEvent:
		if r := n.RemovedFromMergeQueueEvent.Reason; r != nil && *r != "" {
			detail = *r
		}
	}
	if detail != "" {
		out := *ce
		out.Reason = ce.Reason + " (" + strings.TrimPrefix(detail, ": ") + ")"
		return &out
	}
	return err
}
