package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// PRInfo is the newest pull request from a head branch into a base, in any state.
type PRInfo struct {
	Number  int
	URL     string
	State   string // open, closed or merged
	HeadSHA string // its head commit (the last one, when closed or merged)
	pr      *gh.PullRequest
}

// FindPR returns the newest pull request from head into base in any state,
// or nil when there is none, with one request (the cheap call that also
// tells whether GitHub accepts the token before anything is pushed).
func (c *Client) FindPR(ctx context.Context, owner, repo, base, head string) (*PRInfo, error) {
	opts := &gh.PullRequestListOptions{State: "all", Head: owner + ":" + head, Base: base, Sort: "created", Direction: "desc"}
	prs, _, err := c.rest.PullRequests.List(ctx, owner, repo, opts)
	if err != nil {
		return nil, apiError(fmt.Sprintf("listing pull requests from %q", head), err)
	}
	for _, p := range prs {
		if p.GetHead().GetRef() != head || p.GetBase().GetRef() != base {
			continue
		}
		state := p.GetState()
		if p.MergedAt != nil || p.GetMerged() {
			state = "merged"
		}
		return &PRInfo{Number: p.GetNumber(), URL: p.GetHTMLURL(), State: state, HeadSHA: p.GetHead().GetSHA(), pr: p}, nil
	}
	return nil, nil
}

// createAttempts is how many times opening a pull request is tried when
// GitHub answers 5xx: each retry first looks the pull request up, so one
// that was opened although the answer was lost is adopted, not opened twice.
const createAttempts = 3

func serverFault(err error) bool {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode >= http.StatusInternalServerError {
		return true
	}
	var se *ServerError
	return errors.As(err, &se)
}

// createIdempotent opens the pull request; after a 5xx it looks the pull
// request up before trying again. It returns nil, nil when GitHub says one
// already exists.
func (c *Client) createIdempotent(ctx context.Context, spec PRSpec) (*gh.PullRequest, error) {
	for attempt := 1; ; attempt++ {
		pr, err := c.createPR(ctx, spec)
		if err == nil || !serverFault(err) || attempt == createAttempts {
			return pr, err
		}
		c.logf("opening the pull request from %s: %v; looking it up before trying again", spec.Head, err)
		if err := c.clock.Sleep(ctx, time.Duration(attempt)*time.Second); err != nil {
			return nil, fmt.Errorf("waiting to retry opening the pull request from %q: %w", spec.Head, err)
		}
		found, ferr := c.findOpenPR(ctx, spec)
		if ferr != nil {
			return nil, ferr
		}
		if found != nil {
			return found, nil
		}
	}
}

// Refused reports whether GitHub refused the token or its permissions
// (401, or a 403 that is not a rate limit) in err.
func Refused(err error) bool {
	var ae *authError
	if errors.As(err, &ae) {
		return true
	}
	var er *gh.ErrorResponse
	return errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusForbidden
}

// DeleteBranch deletes branch when it is still at sha (read first, then
// deleted: the REST API has no conditional delete). A branch that is gone
// already, or that moved on, is left as it is.
func (c *Client) DeleteBranch(ctx context.Context, owner, repo, branch, sha string) error {
	head, err := c.BranchHead(ctx, owner, repo, branch)
	if errors.Is(err, ErrBranchNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if head != sha {
		c.logf("not deleting branch %s: it moved on to %.12s", branch, head)
		return nil
	}
	if _, err := c.rest.Git.DeleteRef(ctx, owner, repo, "heads/"+branch); err != nil {
		return apiError(fmt.Sprintf("deleting branch %q", branch), err)
	}
	c.logf("deleted branch %s (%.12s): GitHub refused the pull request", branch, sha)
	return nil
}
