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
