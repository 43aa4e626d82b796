package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// PRSpec is the pull request EnsurePR opens or adopts.
type PRSpec struct {
	Owner, Repo string
	Base        string // the branch the pull request merges into
	Head        string // our branch in the same repository
	Title, Body string
	Labels      []string
	Reviewers   []string // user logins
	// LookedUp says FindPR was just asked for this head and base, and Found
	// is its answer: EnsurePR then adopts an open one without listing again.
	LookedUp bool
	Found    *PRInfo
	// HeadSHA is our commit on Head: a pull request (in any state) whose
	// head it is, is ours already and adopted, not opened a second time.
	HeadSHA string
}

// PR is an open pull request.
type PR struct {
	Owner, Repo string
	Number      int
	URL         string // the page a person opens
	NodeID      string // GraphQL ID
	HeadRef     string
	BaseRef     string
	Created     bool // opened by this call
	Updated     bool // title or body rewritten by this call
}

func (s PRSpec) validate() error {
	var missing []string
	for name, v := range map[string]string{"owner": s.Owner, "repository": s.Repo, "base branch": s.Base, "head branch": s.Head, "title": s.Title} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return &inputError{msg: "pull request: missing " + strings.Join(missing, ", ")}
	}
	if s.Base == s.Head {
		return &inputError{msg: fmt.Sprintf("pull request: head branch %q is the base branch", s.Head)}
	}
	return nil
}

// EnsurePR makes sure exactly one open pull request goes from spec.Head
// into spec.Base: it adopts the open one (updating its title and body when
// they changed) or opens one, and adds missing labels and reviewers.
func (c *Client) EnsurePR(ctx context.Context, spec PRSpec) (*PR, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	var existing *gh.PullRequest
	var err error
	switch f := spec.Found; {
	case spec.LookedUp && f != nil && f.State == "open" && f.pr != nil:
		existing = f.pr
	case spec.HeadSHA != "":
		// Look (again) in any state: another run may have opened the pull
		// request since, or GitHub may even have merged our head already.
		info, err := c.FindPR(ctx, spec.Owner, spec.Repo, spec.Base, spec.Head)
		if err != nil {
			return nil, err
		}
		if existing, err = c.adoptable(ctx, spec, info); err != nil {
			return nil, err
		}
	case !spec.LookedUp:
		if existing, err = c.findOpenPR(ctx, spec); err != nil {
			return nil, err
		}
	}
	created := false
	if existing == nil {
		existing, err = c.createIdempotent(ctx, spec)
		if err != nil {
			return nil, err
		}
		created = existing != nil
		if existing == nil { // lost a race: someone opened it meanwhile
			if existing, err = c.findOpenPR(ctx, spec); err != nil {
				return nil, err
			}
			if existing == nil {
				return nil, fmt.Errorf("opening a pull request from %q: GitHub says one exists, but none is open", spec.Head)
			}
		}
	}
	pr := &PR{Owner: spec.Owner, Repo: spec.Repo, Number: existing.GetNumber(), URL: existing.GetHTMLURL(),
		NodeID: existing.GetNodeID(), HeadRef: spec.Head, BaseRef: spec.Base, Created: created}
	if existing.GetState() != "open" {
		c.logf("pull request #%d already has our commit %.12s (%s)", pr.Number, spec.HeadSHA, existing.GetState())
		return pr, nil
	}
	if created {
		c.logf("opened pull request #%d: %s", pr.Number, pr.URL)
	} else {
		c.logf("reusing pull request #%d: %s", pr.Number, pr.URL)
		if existing.GetTitle() != spec.Title || existing.GetBody() != spec.Body {
			edit := &gh.PullRequest{Title: gh.String(spec.Title), Body: gh.String(spec.Body)}
			if _, _, err := c.rest.PullRequests.Edit(ctx, spec.Owner, spec.Repo, pr.Number, edit); err != nil {
				return nil, apiError(fmt.Sprintf("updating pull request #%d", pr.Number), err)
			}
			pr.Updated = true
		}
	}
	if err := c.labelAndRequest(ctx, spec, pr, existing); err != nil {
		return nil, err
	}
	return pr, nil
}

// adoptable returns the pull request of our head from a lookup in any
// state: an open one; a finished one whose head is our commit; or a
// finished one whose head came after ours (a later run's push replaced our
// commit on the branch and that pull request merged it). A finished pull
// request while the branch still holds our commit is not ours: nil, open one.
func (c *Client) adoptable(ctx context.Context, spec PRSpec, info *PRInfo) (*gh.PullRequest, error) {
	switch {
	case info == nil:
		return nil, nil
	case info.State == "open" || info.HeadSHA == spec.HeadSHA:
		return info.pr, nil
	}
	head, err := c.BranchHead(ctx, spec.Owner, spec.Repo, spec.Head)
	if err != nil && !errors.Is(err, ErrBranchNotFound) {
		return nil, err
	}
	if head == spec.HeadSHA {
		return nil, nil
	}
	return info.pr, nil
}

func (c *Client) findOpenPR(ctx context.Context, spec PRSpec) (*gh.PullRequest, error) {
	opts := &gh.PullRequestListOptions{State: "open", Head: spec.Owner + ":" + spec.Head, Base: spec.Base}
	prs, _, err := c.rest.PullRequests.List(ctx, spec.Owner, spec.Repo, opts)
	if err != nil {
		return nil, apiError(fmt.Sprintf("listing pull requests from %q", spec.Head), err)
	}
	for _, p := range prs {
		if p.GetHead().GetRef() == spec.Head && p.GetBase().GetRef() == spec.Base {
			return p, nil
		}
	}
	return nil, nil
}

// createPR opens the pull request; it returns nil, nil when GitHub answers
// that one already exists.
func (c *Client) createPR(ctx context.Context, spec PRSpec) (*gh.PullRequest, error) {
	np := &gh.NewPullRequest{Title: gh.String(spec.Title), Head: gh.String(spec.Head), Base: gh.String(spec.Base),
		Body: gh.String(spec.Body), MaintainerCanModify: gh.Bool(true)}
	pr, _, err := c.rest.PullRequests.Create(ctx, spec.Owner, spec.Repo, np)
	if err == nil {
		return pr, nil
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
		for _, e := range er.Errors {
			if strings.Contains(e.Message, "A pull request already exists") {
				return nil, nil
			}
		}
	}
	return nil, apiError(fmt.Sprintf("opening a pull request from %q into %q", spec.Head, spec.Base), err)
}

// labelAndRequest adds the labels and reviewers the pull request lacks.
// A reviewer GitHub refuses (not a collaborator, the author) is a warning:
// it does not stop a deployment.
func (c *Client) labelAndRequest(ctx context.Context, spec PRSpec, pr *PR, existing *gh.PullRequest) error {
	var labels []string
	for _, l := range spec.Labels {
		if !slices.ContainsFunc(existing.Labels, func(x *gh.Label) bool { return x.GetName() == l }) && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	if len(labels) > 0 {
		if _, _, err := c.rest.Issues.AddLabelsToIssue(ctx, spec.Owner, spec.Repo, pr.Number, labels); err != nil {
			return apiError(fmt.Sprintf("adding labels to pull request #%d", pr.Number), err)
		}
	}
	var reviewers []string
	for _, r := range spec.Reviewers {
		if !slices.ContainsFunc(existing.RequestedReviewers, func(u *gh.User) bool { return strings.EqualFold(u.GetLogin(), r) }) && !slices.Contains(reviewers, r) {
			reviewers = append(reviewers, r)
		}
	}
	if len(reviewers) > 0 {
		if _, _, err := c.rest.PullRequests.RequestReviewers(ctx, spec.Owner, spec.Repo, pr.Number, gh.ReviewersRequest{Reviewers: reviewers}); err != nil {
			var er *gh.ErrorResponse
			if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
				c.logf("warning: GitHub refused reviewers %s on pull request #%d: %s", strings.Join(reviewers, ", "), pr.Number, er.Message)
				return nil
			}
			return apiError(fmt.Sprintf("requesting reviewers on pull request #%d", pr.Number), err)
		}
	}
	return nil
}
