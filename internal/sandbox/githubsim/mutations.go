package githubsim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"
)

type committableBranch struct {
	BranchName              *string
	ID                      *graphql.ID
	RepositoryNameWithOwner *string
}

type commitMessage struct {
	Body     *string
	Headline string
}

type fileAddition struct {
	Contents base64String
	Path     string
}

type fileDeletion struct{ Path string }

type fileChanges struct {
	Additions []fileAddition
	Deletions []fileDeletion
}

type createCommitInput struct {
	Branch           committableBranch
	ClientMutationId *string
	ExpectedHeadOid  gitObjectID
	FileChanges      *fileChanges
	Message          commitMessage
}

type createCommitPayload struct {
	clientMutationID *string
	commit           *commitResolver
	ref              *refResolver
}

func (p *createCommitPayload) ClientMutationId() *string { return p.clientMutationID }
func (p *createCommitPayload) Commit() *commitResolver   { return p.commit }
func (p *createCommitPayload) Ref() *refResolver         { return p.ref }

// CreateCommitOnBranch commits file changes on a branch the way GitHub
// does: against expectedHeadOid (STALE_DATA when the branch moved), refused
// on protected branches, signed by GitHub (recorded as verified).
func (q *rootResolver) CreateCommitOnBranch(ctx context.Context, args struct{ Input createCommitInput }) (*createCommitPayload, error) {
	in := args.Input
	if in.Branch.RepositoryNameWithOwner == nil || in.Branch.BranchName == nil {
		return nil, gqlErr("UNPROCESSABLE", "A branch must be identified by repositoryNameWithOwner and branchName.")
	}
	r, ok := q.s.repos[*in.Branch.RepositoryNameWithOwner]
	if !ok {
		return nil, gqlErr("NOT_FOUND", "Could not resolve to a Repository with the name '%s'.", *in.Branch.RepositoryNameWithOwner)
	}
	branch := *in.Branch.BranchName
	ref := "refs/heads/" + branch
	head := r.git.resolve(ctx, ref)
	if head == "" {
		return nil, gqlErr("NOT_FOUND", "Could not resolve to a Ref with the name '%s'.", ref)
	}
	if r.protected(branch) {
		if r.set.Ruleset {
			return nil, gqlErr("UNPROCESSABLE", "Repository rule violations found\n\nChanges must be made through a pull request.\n\n")
		}
		return nil, gqlErr("BRANCH_PROTECTION_RULE_VIOLATION", "Changes must be made through a pull request.")
	}
	if string(in.ExpectedHeadOid) != head {
		return nil, gqlErr("STALE_DATA", "Expected branch to point to %q but it did not. Pull and try again.", string(in.ExpectedHeadOid))
	}
	var changes []fileChange
	seen := map[string]bool{}
	if fc := in.FileChanges; fc != nil {
		for _, d := range fc.Deletions {
			seen[d.Path] = true
			changes = append(changes, fileChange{path: d.Path, delete: true})
		}
		for _, a := range fc.Additions {
			if seen[a.Path] {
				return nil, gqlErr("UNPROCESSABLE", "Path %q is listed more than once in fileChanges.", a.Path)
			}
			seen[a.Path] = true
			data, err := decodeContents(a.Path, a.Contents)
			if err != nil {
				return nil, err
			}
			changes = append(changes, fileChange{path: a.Path, content: data})
		}
	}
	tree, err := r.git.applyChanges(ctx, head, changes)
	if err != nil {
		var pm errPathMissing
		if errors.As(err, &pm) {
			return nil, gqlErr("UNPROCESSABLE", "A path was requested for deletion which does not exist as of commit oid `%s`: %s", head, pm.path)
		}
		return nil, err
	}
	msg := in.Message.Headline
	if in.Message.Body != nil && *in.Message.Body != "" {
		msg += "\n\n" + *in.Message.Body
	}
	sha, err := r.git.commitTree(ctx, q.s.identity(), tree, msg+"\n", head)
	if err != nil {
		return nil, err
	}
	if err := r.git.updateRef(ctx, ref, sha, head); err != nil {
		return nil, gqlErr("STALE_DATA", "Expected branch to point to %q but it did not. Pull and try again.", head)
	}
	r.verified[sha] = true
	q.s.logf("githubsim: createCommitOnBranch %s %s -> %s (verified)", r.fullName(), branch, sha[:12])
	return &createCommitPayload{clientMutationID: in.ClientMutationId, commit: &commitResolver{s: q.s, r: r, sha: sha}, ref: &refResolver{name: branch}}, nil
}

// pullByNodeID finds a pull request from its GraphQL ID.
func (s *Server) pullByNodeID(id graphql.ID) (*repoState, *pull, error) {
	notFound := gqlErr("NOT_FOUND", "Could not resolve to a node with the global id of '%s'", string(id))
	rest, ok := strings.CutPrefix(string(id), "PR_sim")
	if !ok {
		return nil, nil, notFound
	}
	repoID, number, ok := strings.Cut(rest, "_")
	if !ok {
		return nil, nil, notFound
	}
	n, err := strconv.Atoi(number)
	if err != nil {
		return nil, nil, notFound
	}
	for _, r := range s.repos {
		if strconv.Itoa(r.id) == repoID {
			if p := r.pull(n); p != nil {
				return r, p, nil
			}
		}
	}
	return nil, nil, notFound
}

type mergeInput struct {
	AuthorEmail      *string
	ClientMutationId *string
	CommitBody       *string
	CommitHeadline   *string
	ExpectedHeadOid  *gitObjectID
	MergeMethod      string
	PullRequestId    graphql.ID
}

type prPayload struct {
	clientMutationID *string
	pr               *prResolver
}

func (p *prPayload) ClientMutationId() *string { return p.clientMutationID }
func (p *prPayload) PullRequest() *prResolver  { return p.pr }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// EnablePullRequestAutoMerge turns on auto-merge as GitHub does: refused
// when the repository does not allow it or when the pull request could be
// merged now ("Pull request is in clean status"); on a merge-queue branch a
// mergeable pull request joins the queue at once.
func (q *rootResolver) EnablePullRequestAutoMerge(ctx context.Context, args struct{ Input mergeInput }) (*prPayload, error) {
	in := args.Input
	r, p, err := q.s.pullByNodeID(in.PullRequestId)
	if err != nil {
		return nil, err
	}
	refuse := func(msg string) error { return gqlErr("UNPROCESSABLE", "Pull request %s", msg) }
	switch {
	case p.merged:
		return nil, refuse("Pull request is already merged")
	case p.closed:
		return nil, refuse("Pull request is closed")
	case p.draft:
		return nil, refuse("Pull request is in draft state")
	}
	if in.ExpectedHeadOid != nil && string(*in.ExpectedHeadOid) != r.headSHA(ctx, p) {
		return nil, refuse("Head branch was modified. Review and try the merge again.")
	}
	method := in.MergeMethod
	if method == "" {
		method = "MERGE"
	}
	state := r.mergeState(ctx, p, false)
	if r.hasQueue(p.base) {
		if mergeableNow(state) {
			q.s.enqueue(r, p)
		} else {
			p.auto = &autoMerge{method: r.queueMethod(), enabledAt: q.s.now()}
		}
		return &prPayload{clientMutationID: in.ClientMutationId, pr: &prResolver{s: q.s, r: r, p: p}}, nil
	}
	if !r.set.AutoMergeAllowed {
		return nil, refuse("Auto merge is not allowed for this repository")
	}
	switch state {
	case "CLEAN", "HAS_HOOKS":
		return nil, refuse("Pull request is in clean status")
	case "UNSTABLE":
		return nil, refuse("Pull request is in unstable status")
	}
	p.auto = &autoMerge{method: method, enabledAt: q.s.now(), headline: deref(in.CommitHeadline), body: deref(in.CommitBody)}
	q.s.settle(ctx, r, false)
	return &prPayload{clientMutationID: in.ClientMutationId, pr: &prResolver{s: q.s, r: r, p: p}}, nil
}

// MergePullRequest merges now, or refuses in GitHub's words when the base
// branch's protection or merge queue forbids it.
func (q *rootResolver) MergePullRequest(ctx context.Context, args struct{ Input mergeInput }) (*prPayload, error) {
	in := args.Input
	r, p, err := q.s.pullByNodeID(in.PullRequestId)
	if err != nil {
		return nil, err
	}
	if state := r.mergeState(ctx, p, false); state == "DIRTY" {
		return nil, gqlErr("UNPROCESSABLE", "Pull Request is not mergeable")
	}
	if me := q.s.checkMergeAllowed(r, p); me != nil {
		return nil, gqlErr(me.typ, "%s", me.msg)
	}
	expected := ""
	if in.ExpectedHeadOid != nil {
		expected = string(*in.ExpectedHeadOid)
	}
	if err := q.s.merge(ctx, r, p, in.MergeMethod, deref(in.CommitHeadline), deref(in.CommitBody), expected); err != nil {
		var me *mergeError
		if errors.As(err, &me) {
			return nil, gqlErr(me.typ, "%s", me.msg)
		}
		return nil, err
	}
	return &prPayload{clientMutationID: in.ClientMutationId, pr: &prResolver{s: q.s, r: r, p: p}}, nil
}

type enqueueInput struct {
	ClientMutationId *string
	ExpectedHeadOid  *gitObjectID
	Jump             *bool
	PullRequestId    graphql.ID
}

type enqueuePayload struct {
	clientMutationID *string
	entry            *entryResolver
}

func (p *enqueuePayload) ClientMutationId() *string       { return p.clientMutationID }
func (p *enqueuePayload) MergeQueueEntry() *entryResolver { return p.entry }

// EnqueuePullRequest adds a pull request to its base branch's merge queue.
func (q *rootResolver) EnqueuePullRequest(ctx context.Context, args struct{ Input enqueueInput }) (*enqueuePayload, error) {
	in := args.Input
	r, p, err := q.s.pullByNodeID(in.PullRequestId)
	if err != nil {
		return nil, err
	}
	if p.closed {
		return nil, gqlErr("UNPROCESSABLE", "Pull request is closed")
	}
	if !r.hasQueue(p.base) {
		return nil, gqlErr("UNPROCESSABLE", "The base branch %s does not use a merge queue", p.base)
	}
	if in.ExpectedHeadOid != nil && string(*in.ExpectedHeadOid) != r.headSHA(ctx, p) {
		return nil, gqlErr("UNPROCESSABLE", "Head branch was modified. Review and try the merge again.")
	}
	if state := r.mergeState(ctx, p, false); !mergeableNow(state) {
		return nil, gqlErr("UNPROCESSABLE", "%s", fmt.Sprintf("Pull request is not mergeable: %s", strings.ToLower(state)))
	}
	q.s.enqueue(r, p)
	return &enqueuePayload{clientMutationID: in.ClientMutationId, entry: &entryResolver{s: q.s, r: r, p: p}}, nil
}
