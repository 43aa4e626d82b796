package ghstatus

import (
	"context"
	"errors"
	"net/http"

	gh "github.com/google/go-github/v60/github"
)

// AccessError is a read GitHub refused before anything landed: the token
// lacks a permission, or the repository is not there. It is bad input.
type AccessError struct{ err error }

// Error implements error.
func (e *AccessError) Error() string { return e.err.Error() }

// Unwrap returns the read's error (with its hint).
func (e *AccessError) Unwrap() error { return e.err }

// BadInput marks the error as the person's to fix (exit 2).
func (e *AccessError) BadInput() bool { return true }

// Check makes the reads Wait will make, once, on the head of branch ("" for
// the default branch), so a token that may not read statuses, check runs or
// deployments is refused before anything lands. A refusal is an
// *AccessError; other errors (GitHub unreachable) are returned as they are.
func (c *Client) Check(ctx context.Context, want Want, branch string) error {
	if branch == "" {
		branch = "HEAD"
	}
	r := &reader{c: c, spec: Spec{Want: want, Revision: branch, Branch: branch}}
	if len(want.Contexts) > 0 {
		if _, _, err := c.rest.Repositories.GetCombinedStatus(ctx, c.owner, c.repo, branch, &gh.ListOptions{PerPage: 1}); err != nil {
			if err := refused(apiError("reading the statuses of "+branch, permStatuses, err)); err != nil {
				return err
			}
		}
		filter := "latest"
		if _, _, err := c.rest.Checks.ListCheckRunsForRef(ctx, c.owner, c.repo, branch,
			&gh.ListCheckRunsOptions{Filter: &filter, ListOptions: gh.ListOptions{PerPage: 1}}); err != nil {
			if err := refused(apiError("reading the check runs of "+branch, permChecks, err)); err != nil {
				return err
			}
		}
	}
	if want.Environment != "" {
		if _, err := r.deployments(ctx, nil); err != nil {
			if err := refused(err); err != nil {
				return err
			}
		}
	}
	return nil
}

// refused marks err as an *AccessError when GitHub answered 401, 403 or
// 404; a 422 (the branch names no commit yet) is no refusal: nil.
func refused(err error) error {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch er.Response.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			return &AccessError{err: err}
		case http.StatusUnprocessableEntity:
			return nil
		}
	}
	return err
}
