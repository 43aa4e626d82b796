package github

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/shurcooL/githubv4"
)

// CommitSpec is one commit made by GitHub on a branch (commit-method: api).
type CommitSpec struct {
	Owner, Repo string
	Branch      string
	// BaseOid, when set, first points Branch at this commit: it creates the
	// branch, or force-moves it when it exists. Use it only for our own pull
	// request branch, which each run rebuilds from the current base head.
	BaseOid string
	// ExpectedHeadOid is the head the edit was made on (default BaseOid).
	ExpectedHeadOid string
	// Message: the first line is the headline, the rest the body.
	Message   string
	Additions map[string][]byte // path -> full new content
	Deletions []string
}

// CommitOnBranch creates the commit with GraphQL createCommitOnBranch, so
// GitHub signs it and shows it as Verified, and returns its SHA. When the
// branch moved since ExpectedHeadOid it returns an error matching
// ErrStaleHead; a protected branch gives a *ProtectedError.
func (c *Client) CommitOnBranch(ctx context.Context, spec CommitSpec) (string, error) {
	if spec.Owner == "" || spec.Repo == "" || spec.Branch == "" || strings.TrimSpace(spec.Message) == "" {
		return "", &inputError{msg: "commit: owner, repository, branch and message are required"}
	}
	expected := spec.ExpectedHeadOid
	if spec.BaseOid != "" {
		if err := c.pointBranch(ctx, spec.Owner, spec.Repo, spec.Branch, spec.BaseOid); err != nil {
			return "", err
		}
		if expected == "" {
			expected = spec.BaseOid
		}
	}
	if expected == "" {
		return "", &inputError{msg: "commit: the expected head commit is required"}
	}
	headline, body, _ := strings.Cut(strings.TrimSpace(spec.Message), "\n")
	input := githubv4.CreateCommitOnBranchInput{
		Branch: githubv4.CommittableBranch{
			RepositoryNameWithOwner: githubv4.NewString(githubv4.String(spec.Owner + "/" + spec.Repo)),
			BranchName:              githubv4.NewString(githubv4.String(spec.Branch)),
		},
		Message:         githubv4.CommitMessage{Headline: githubv4.String(strings.TrimSpace(headline))},
		ExpectedHeadOid: githubv4.GitObjectID(expected),
		FileChanges:     fileChanges(spec),
	}
	if b := strings.TrimSpace(body); b != "" {
		input.Message.Body = githubv4.NewString(githubv4.String(b))
	}
	var m struct {
		CreateCommitOnBranch struct {
			Commit struct {
				Oid githubv4.GitObjectID
			}
		} `graphql:"createCommitOnBranch(input: $input)"`
	}
	err := c.mutate(ctx, "createCommitOnBranch", &m, input)
	var ge *GraphQLError
	if errors.As(err, &ge) {
		switch {
		case ge.HasType("STALE_DATA") || ge.Contains("Expected branch to point to"):
			return "", fmt.Errorf("committing on %s/%s branch %q at %.12s: %w", spec.Owner, spec.Repo, spec.Branch, expected, ErrStaleHead)
		case ge.HasType("BRANCH_PROTECTION_RULE_VIOLATION"):
			return "", &ProtectedError{Branch: spec.Branch, Message: messages(ge)}
		case ge.Contains("Repository rule violations found"):
			return "", &ProtectedError{Branch: spec.Branch, Ruleset: true, Message: messages(ge)}
		}
	}
	if err != nil {
		return "", fmt.Errorf("committing on %s/%s branch %q: %w", spec.Owner, spec.Repo, spec.Branch, err)
	}
	sha := string(m.CreateCommitOnBranch.Commit.Oid)
	c.logf("GitHub created commit %.12s on %s (verified)", sha, spec.Branch)
	return sha, nil
}

func messages(ge *GraphQLError) string {
	var out []string
	for _, e := range ge.Errors {
		out = append(out, strings.TrimSpace(e.Message))
	}
	return strings.Join(out, "; ")
}

// fileChanges lists additions sorted by path, so requests are deterministic.
func fileChanges(spec CommitSpec) *githubv4.FileChanges {
	fc := &githubv4.FileChanges{}
	if len(spec.Additions) > 0 {
		paths := make([]string, 0, len(spec.Additions))
		for p := range spec.Additions {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		adds := make([]githubv4.FileAddition, 0, len(paths))
		for _, p := range paths {
			adds = append(adds, githubv4.FileAddition{Path: githubv4.String(p),
				Contents: githubv4.Base64String(base64.StdEncoding.EncodeToString(spec.Additions[p]))})
		}
		fc.Additions = &adds
	}
	if len(spec.Deletions) > 0 {
		dels := make([]githubv4.FileDeletion, 0, len(spec.Deletions))
		for _, p := range slices.Sorted(slices.Values(spec.Deletions)) {
			dels = append(dels, githubv4.FileDeletion{Path: githubv4.String(p)})
		}
		fc.Deletions = &dels
	}
	return fc
}

// pointBranch creates refs/heads/branch at sha, or force-moves it there.
func (c *Client) pointBranch(ctx context.Context, owner, repo, branch, sha string) error {
	ref := &gh.Reference{Ref: gh.String("refs/heads/" + branch), Object: &gh.GitObject{SHA: gh.String(sha)}}
	_, _, err := c.rest.Git.CreateRef(ctx, owner, repo, ref)
	if err == nil {
		return nil
	}
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return apiError(fmt.Sprintf("creating branch %q", branch), err)
	}
	if !strings.Contains(er.Message, "Reference already exists") {
		return refError(branch, "creating", err, er)
	}
	if _, _, err := c.rest.Git.UpdateRef(ctx, owner, repo, ref, true); err != nil {
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity {
			return refError(branch, "resetting", err, er)
		}
		return apiError(fmt.Sprintf("resetting branch %q", branch), err)
	}
	c.logf("reset branch %s to %.12s", branch, sha)
	return nil
}

func refError(branch, doing string, err error, er *gh.ErrorResponse) error {
	switch {
	case strings.Contains(er.Message, "Repository rule violations found"):
		return &ProtectedError{Branch: branch, Ruleset: true, Message: er.Message}
	case strings.Contains(er.Message, "Protected branch update failed"):
		return &ProtectedError{Branch: branch, Message: er.Message}
	}
	return apiError(fmt.Sprintf("%s branch %q", doing, branch), err)
}

// BranchHead returns the commit a branch points at (ErrBranchNotFound when
// it does not exist).
func (c *Client) BranchHead(ctx context.Context, owner, repo, branch string) (string, error) {
	ref, _, err := c.rest.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if err != nil {
		var er *gh.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			return "", fmt.Errorf("reading branch %q of %s/%s: %w", branch, owner, repo, ErrBranchNotFound)
		}
		return "", apiError(fmt.Sprintf("reading branch %q", branch), err)
	}
	return ref.GetObject().GetSHA(), nil
}

// BranchRules returns the types of the ruleset rules that apply to a branch
// ("pull_request", "required_status_checks", "merge_queue" ...). It needs
// no admin permission; classic branch protection is not listed there, so
// an empty answer does not prove the branch is unprotected.
func (c *Client) BranchRules(ctx context.Context, owner, repo, branch string) ([]string, error) {
	// Decoded here rather than with go-github's RepositoryRule, which
	// refuses rule types it does not know (merge_queue, ...).
	req, err := c.rest.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/rules/branches/%s", owner, repo, branch), nil)
	if err != nil {
		return nil, fmt.Errorf("building the rules request for %q: %w", branch, err)
	}
	var rules []struct {
		Type string `json:"type"`
	}
	var raw json.RawMessage
	if _, err := c.rest.Do(ctx, req, &raw); err != nil {
		return nil, apiError(fmt.Sprintf("reading the rules for branch %q", branch), err)
	}
	if err := json.Unmarshal(raw, &rules); err != nil {
		return nil, fmt.Errorf("decoding the rules for branch %q: %w", branch, err)
	}
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		if !slices.Contains(out, r.Type) {
			out = append(out, r.Type)
		}
	}
	return out, nil
}
