package githubsim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RepoSettings are the per-repository switches of the simulator.
type RepoSettings struct {
	// DefaultBranch is reported as the repository's default branch ("main" when empty).
	DefaultBranch string
	// AutoMergeAllowed is Settings > General > Allow auto-merge.
	AutoMergeAllowed bool
	// Protected lists branches that refuse direct updates (createCommitOnBranch,
	// ref updates) and need a pull request.
	Protected []string
	// Ruleset makes the protection a repository ruleset (rules endpoint lists
	// the rules; errors say "Repository rule violations found") instead of
	// classic branch protection (BRANCH_PROTECTION_RULE_VIOLATION).
	Ruleset bool
	// RequiredChecks names the status checks protected branches require; while
	// they do not pass, pull requests into a protected branch are BLOCKED.
	RequiredChecks []string
	// ChecksNeverStart models workflows that never start (events made with
	// GITHUB_TOKEN): the head commit has no status rollup until checks pass.
	ChecksNeverStart bool
	// MergeQueue turns on a merge queue for every protected branch.
	MergeQueue bool
	// MergeQueueMethod is the queue's merge method: MERGE, SQUASH or REBASE (MERGE when empty).
	MergeQueueMethod string
	// OptionalChecksFail makes a non-required check fail: a pull request that
	// is otherwise mergeable reports UNSTABLE instead of CLEAN.
	OptionalChecksFail bool
	// DeleteBranchOnMerge is Settings > General > Automatically delete head
	// branches: the head branch is deleted when its pull request merges.
	DeleteBranchOnMerge bool
	// UnknownReads is how many first reads of a new pull request's
	// mergeStateStatus answer UNKNOWN, as GitHub does while it computes mergeability.
	UnknownReads int
}

type repoState struct {
	id       int
	owner    string
	name     string
	git      bare
	set      RepoSettings
	passing  bool
	pulls    []*pull
	queue    []*pull
	verified map[string]bool
	statuses map[string][]*statusRec // commit statuses by SHA, oldest first
	runs     map[string][]*runRec    // check runs by SHA, oldest first
}

type autoMerge struct {
	method    string
	enabledAt time.Time
	headline  string
	body      string
}

type pull struct {
	id        int
	number    int
	title     string
	body      string
	head      string
	base      string
	draft     bool
	closed    bool
	merged    bool
	mergeSHA  string
	headAt    string // head sha when merged or closed
	labels    []string
	reviewers []string
	auto      *autoMerge
	queuedAt  time.Time
	inQueue   bool
	unknown   int
	created   time.Time
	updated   time.Time
	closedAt  time.Time
	mergedAt  time.Time
	events    []event
}

// event is a timeline item the simulator records.
type event struct {
	kind   string // AUTO_MERGE_DISABLED_EVENT, CLOSED_EVENT, REMOVED_FROM_MERGE_QUEUE_EVENT
	at     time.Time
	actor  string
	reason string
	code   string
}

func (r *repoState) fullName() string { return r.owner + "/" + r.name }

func (r *repoState) defaultBranch() string {
	if r.set.DefaultBranch == "" {
		return "main"
	}
	return r.set.DefaultBranch
}

func (r *repoState) protected(branch string) bool { return slices.Contains(r.set.Protected, branch) }

func (r *repoState) hasQueue(branch string) bool { return r.set.MergeQueue && r.protected(branch) }

func (r *repoState) queueMethod() string {
	if r.set.MergeQueueMethod == "" {
		return "MERGE"
	}
	return strings.ToUpper(r.set.MergeQueueMethod)
}

func (r *repoState) pull(number int) *pull {
	for _, p := range r.pulls {
		if p.number == number {
			return p
		}
	}
	return nil
}

// nodeID is the GraphQL ID of a pull request.
func (p *pull) nodeID(r *repoState) string { return fmt.Sprintf("PR_sim%d_%d", r.id, p.number) }

// headSHA is the pull request's current head commit.
func (r *repoState) headSHA(ctx context.Context, p *pull) string {
	if p.closed && p.headAt != "" {
		return p.headAt
	}
	return r.git.resolve(ctx, "refs/heads/"+p.head)
}

// checksBlock reports whether required checks hold the pull request back:
// not all passed on its head (SetChecksPassing passes them all).
func (r *repoState) checksBlock(ctx context.Context, p *pull) bool {
	return r.protected(p.base) && len(r.set.RequiredChecks) > 0 && !r.passing && !r.requiredPass(r.headSHA(ctx, p))
}

// mergeState computes mergeStateStatus the way GitHub reports it.
func (r *repoState) mergeState(ctx context.Context, p *pull, count bool) string {
	if p.closed {
		return "UNKNOWN"
	}
	if p.unknown > 0 {
		if count {
			p.unknown--
		}
		return "UNKNOWN"
	}
	if p.draft {
		return "DRAFT"
	}
	base := r.git.resolve(ctx, "refs/heads/"+p.base)
	head := r.headSHA(ctx, p)
	if base == "" || head == "" {
		return "UNKNOWN"
	}
	if _, ok, err := r.git.mergeTree(ctx, base, head); err != nil || !ok {
		return "DIRTY"
	}
	if r.checksBlock(ctx, p) {
		return "BLOCKED"
	}
	if r.set.OptionalChecksFail {
		return "UNSTABLE"
	}
	return "CLEAN"
}

// mergeableNow reports whether GitHub would merge a pull request in this
// mergeStateStatus without waiting for anything.
func mergeableNow(state string) bool {
	return state == "CLEAN" || state == "HAS_HOOKS" || state == "UNSTABLE"
}

// rollupState is the head commit's status rollup: "" for none (checks never started).
func (r *repoState) rollupState(ctx context.Context, p *pull) string {
	if st := rollupOf(r.items(r.headSHA(ctx, p))); st != "" && !r.passing {
		return st
	}
	if len(r.set.RequiredChecks) == 0 {
		return "SUCCESS"
	}
	if r.passing {
		return "SUCCESS"
	}
	if r.set.ChecksNeverStart {
		return ""
	}
	return "PENDING"
}

// mergeError is a refusal to merge, with the GraphQL error type GitHub uses.
type mergeError struct {
	typ    string
	msg    string
	status int // REST status
}

func (e *mergeError) Error() string { return e.msg }

// merge lands a pull request on its base with the given method, for real.
func (s *Server) merge(ctx context.Context, r *repoState, p *pull, method, headline, body, expectedHead string) error {
	if p.merged {
		return &mergeError{typ: "UNPROCESSABLE", msg: "Pull request is already merged", status: 405}
	}
	if p.closed {
		return &mergeError{typ: "UNPROCESSABLE", msg: "Pull request is closed", status: 405}
	}
	if p.draft {
		return &mergeError{typ: "UNPROCESSABLE", msg: "Pull request is in draft state", status: 405}
	}
	base := r.git.resolve(ctx, "refs/heads/"+p.base)
	head := r.headSHA(ctx, p)
	if expectedHead != "" && expectedHead != head {
		return &mergeError{typ: "UNPROCESSABLE", msg: "Head branch was modified. Review and try the merge again.", status: 409}
	}
	var (
		newSHA string
		err    error
	)
	switch strings.ToUpper(method) {
	case "", "MERGE":
		newSHA, err = s.mergeCommit(ctx, r, p, base, head, headline, body)
	case "SQUASH":
		newSHA, err = s.squashCommit(ctx, r, p, base, head, headline, body)
	case "REBASE":
		newSHA, err = s.rebaseCommits(ctx, r, base, head)
	default:
		return &mergeError{typ: "UNPROCESSABLE", msg: fmt.Sprintf("Merge method %q is not a valid method", method), status: 422}
	}
	if err != nil {
		return err
	}
	if err := r.git.updateRef(ctx, "refs/heads/"+p.base, newSHA, base); err != nil {
		return &mergeError{typ: "UNPROCESSABLE", msg: "Base branch was modified. Review and try the merge again.", status: 409}
	}
	now := s.now()
	p.merged, p.closed, p.mergeSHA, p.headAt = true, true, newSHA, head
	p.mergedAt, p.closedAt, p.updated = now, now, now
	p.auto, p.inQueue = nil, false
	r.queue = slices.DeleteFunc(r.queue, func(q *pull) bool { return q == p })
	s.logf("githubsim: merged %s#%d into %s as %s (%s)", r.fullName(), p.number, p.base, newSHA[:12], strings.ToLower(method))
	if r.set.DeleteBranchOnMerge {
		// GitHub deletes the head branch once the pull request merged.
		if err := r.git.deleteRef(ctx, "refs/heads/"+p.head, head); err != nil {
			s.logf("githubsim: deleting branch %s after the merge: %v", p.head, err)
		}
	}
	return nil
}

func conflict() error {
	return &mergeError{typ: "UNPROCESSABLE", msg: "Pull Request is not mergeable", status: 405}
}

func (s *Server) mergeCommit(ctx context.Context, r *repoState, p *pull, base, head, headline, body string) (string, error) {
	tree, ok, err := r.git.mergeTree(ctx, base, head)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", conflict()
	}
	if headline == "" {
		headline = fmt.Sprintf("Merge pull request #%d from %s/%s", p.number, r.owner, p.head)
		if body == "" {
			body = p.title
		}
	}
	return r.git.commitTree(ctx, s.identity(), tree, message(headline, body), base, head)
}

func (s *Server) squashCommit(ctx context.Context, r *repoState, p *pull, base, head, headline, body string) (string, error) {
	tree, ok, err := r.git.mergeTree(ctx, base, head)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", conflict()
	}
	if headline == "" {
		headline = fmt.Sprintf("%s (#%d)", p.title, p.number)
		if body == "" {
			commits, err := r.git.revList(ctx, base, head)
			if err != nil {
				return "", err
			}
			var lines []string
			for _, c := range commits {
				info, err := r.git.readCommit(ctx, c)
				if err != nil {
					return "", err
				}
				lines = append(lines, "* "+strings.TrimSpace(info.message))
			}
			body = strings.Join(lines, "\n\n")
		}
	}
	id := s.identity()
	// GitHub credits a squash to the pull request's author.
	if commits, err := r.git.revList(ctx, base, head); err == nil && len(commits) > 0 {
		if info, err := r.git.readCommit(ctx, commits[0]); err == nil {
			id.authorName, id.authorEmail = info.authorName, info.authorEmail
		}
	}
	return r.git.commitTree(ctx, id, tree, message(headline, body), base)
}

func (s *Server) rebaseCommits(ctx context.Context, r *repoState, base, head string) (string, error) {
	commits, err := r.git.revList(ctx, base, head)
	if err != nil {
		return "", err
	}
	onto := base
	for _, c := range commits {
		info, err := r.git.readCommit(ctx, c)
		if err != nil {
			return "", err
		}
		if len(info.parents) > 1 {
			return "", &mergeError{typ: "UNPROCESSABLE", msg: "This branch can't be rebased", status: 405}
		}
		tree, ok, err := r.git.cherryPickTree(ctx, onto, c)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", &mergeError{typ: "UNPROCESSABLE", msg: "This branch can't be rebased", status: 405}
		}
		id := s.identity()
		id.authorName, id.authorEmail = info.authorName, info.authorEmail
		onto, err = r.git.commitTree(ctx, id, tree, info.message, onto)
		if err != nil {
			return "", err
		}
	}
	return onto, nil
}

func message(headline, body string) string {
	if body == "" {
		return headline + "\n"
	}
	return headline + "\n\n" + body + "\n"
}

// settle runs what GitHub does on its own when requirements are met:
// merges pull requests with auto-merge enabled and processes the merge queue.
func (s *Server) settle(ctx context.Context, r *repoState, runQueue bool) {
	for _, p := range r.pulls {
		if p.closed || p.auto == nil || p.draft {
			continue
		}
		if !mergeableNow(r.mergeState(ctx, p, false)) {
			continue
		}
		if r.hasQueue(p.base) {
			s.enqueue(r, p)
			continue
		}
		a := p.auto
		if err := s.merge(ctx, r, p, a.method, a.headline, a.body, ""); err != nil {
			s.logf("githubsim: auto-merge of %s#%d failed: %v", r.fullName(), p.number, err)
		}
	}
	if !runQueue {
		return
	}
	for len(r.queue) > 0 {
		p := r.queue[0]
		if !r.passing && !r.requiredPass(r.headSHA(ctx, p)) {
			return
		}
		if err := s.merge(ctx, r, p, r.queueMethod(), "", "", ""); err != nil {
			s.logf("githubsim: merge queue dropped %s#%d: %v", r.fullName(), p.number, err)
			s.dequeue(r, p)
			p.events = append(p.events, event{kind: "REMOVED_FROM_MERGE_QUEUE_EVENT", at: s.now(), actor: "github-merge-queue", reason: err.Error()})
		}
	}
}

func (s *Server) enqueue(r *repoState, p *pull) {
	if p.inQueue {
		return
	}
	p.inQueue, p.queuedAt, p.auto = true, s.now(), nil
	r.queue = append(r.queue, p)
}

func (s *Server) dequeue(r *repoState, p *pull) {
	p.inQueue, p.auto = false, nil
	r.queue = slices.DeleteFunc(r.queue, func(q *pull) bool { return q == p })
}

// close closes a pull request without merging it, as actor.
func (s *Server) close(ctx context.Context, r *repoState, p *pull, actor string) {
	if p.closed {
		return
	}
	p.headAt = r.headSHA(ctx, p)
	p.closed, p.closedAt = true, s.now()
	if p.inQueue {
		s.dequeue(r, p)
	}
	if p.auto != nil {
		p.auto = nil
		p.events = append(p.events, event{kind: "AUTO_MERGE_DISABLED_EVENT", at: p.closedAt, actor: actor, reason: "pull request was closed", code: "PULL_REQUEST_CLOSED"})
	}
	p.events = append(p.events, event{kind: "CLOSED_EVENT", at: p.closedAt, actor: actor})
}
