package promote

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/image"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

// The pull request path when pipelines meet: every run that finds the
// promotion branch holding a pending pull request rebuilds it on the current
// base with the pull request's image values and its own (the later value of
// one image wins), and pushes it with a lease on the head it read. The
// branch is ours only when its head carries our marker trailers.

// ErrBranchNotFound marks a Fetch of a branch that does not exist.
var ErrBranchNotFound = errors.New("the branch does not exist")

// ErrRefused marks a GitHub API error that refused the token or its
// permissions (401, 403 that is not a rate limit).
var ErrRefused = errors.New("GitHub refused the token")

// BranchDeleter is offered by GitHub adapters that can delete a branch
// still at sha: the pull request branch this run created, when GitHub then
// refused to open its pull request.
type BranchDeleter interface {
	DeleteBranch(ctx context.Context, branch, sha string) error
}

// Trailers on every commit the tool makes on its pull request branch.
const (
	// TrailerKey names the promotion branch the commit was made for: the
	// tool's marker of its own commits.
	TrailerKey = "Gitops-Promote-Key"
	// TrailerBase is the base head the commit was built on.
	TrailerBase = "Gitops-Promote-Base"
	// TrailerChange is one image value the pull request sets: "<image> <new> <file>".
	TrailerChange = "Gitops-Promote-Change"
)

// PRInfo is the newest pull request from a head branch into a base, in any state.
type PRInfo struct {
	Number  int
	URL     string
	State   string // open, closed or merged
	HeadSHA string // its head commit (the last one, when closed or merged)
}

// PRFinder is offered by GitHub adapters that can look up the newest pull
// request of a branch (one cheap request, which also checks the token before
// anything is pushed).
type PRFinder interface {
	FindPR(ctx context.Context, base, head string) (*PRInfo, error)
}

// HeadMessager is offered by snapshots that can read their head commit's message.
type HeadMessager interface {
	HeadMessage() (string, error)
}

// LeasePusher is offered by snapshots that can set another branch to a
// commit only while it is still at the head the caller read ("" = absent);
// otherwise the push is marked ErrNonFastForward.
type LeasePusher interface {
	PushLease(ctx context.Context, sha, branch, lease string) error
}

// Replacement is one of our image values that a later change replaced.
type Replacement struct {
	File, Image string
	Ours        string // the value we set
	Theirs      string // the value that replaced it
	Commit      string // the commit that carries their value
}

// prChange is one image value recorded in a TrailerChange.
type prChange struct{ File, Image, New string }

// prBranchState is what the promotion branch holds when a run starts.
type prBranchState struct {
	head    string     // "" when the branch does not exist
	ours    bool       // the head carries our marker for this branch
	base    string     // the base recorded in the head
	pending []prChange // the values of a pull request not merged or closed yet
	pr      *PRInfo
}

// ForeignBranchError means the pull request branch holds a commit the tool
// did not make: it is never force-updated.
type ForeignBranchError struct {
	Branch, Commit, Subject string
	named                   bool // the person named the branch with pr-branch
}

// Error implements error.
func (e *ForeignBranchError) Error() string {
	return fmt.Sprintf("pull request branch %q holds commit %s (%q), which gitops-promote did not make; refusing to overwrite it",
		e.Branch, short(e.Commit), e.Subject)
}

// Hint says what to do.
func (e *ForeignBranchError) Hint() string {
	if e.named {
		return "give pr-branch a branch name of its own (or leave it empty for the generated one); gitops-promote only updates branches whose commits it made"
	}
	return "someone pushed to the promotion branch: merge or close its pull request and delete the branch, then run again"
}

// BadInput reports an input at fault when the person named the branch.
func (e *ForeignBranchError) BadInput() bool { return e.named }

func prTrailers(key, base string, changes []kustomize.Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n%s: %s\n", TrailerKey, key, TrailerBase, base)
	for _, c := range changes {
		fmt.Fprintf(&b, "%s: %s %s %s\n", TrailerChange, c.Image, c.New, c.File)
	}
	return b.String()
}

// parseTrailers reads our trailers from a commit message.
func parseTrailers(msg string) (key, base string, changes []prChange) {
	for line := range strings.SplitSeq(msg, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch k {
		case TrailerKey:
			key = v
		case TrailerBase:
			base = v
		case TrailerChange:
			f := strings.SplitN(v, " ", 3)
			if len(f) == 3 {
				changes = append(changes, prChange{Image: f[0], New: f[1], File: f[2]})
			}
		}
	}
	return key, base, changes
}

func subjectOf(msg string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return s
}

// readPRBranch looks up the branch's newest pull request (checking the token
// before anything is pushed) and reads the branch head: whose it is, and
// which image values its pull request holds while it is pending.
func (l *lander) readPRBranch(ctx context.Context, base, branch string) (*prBranchState, error) {
	st := &prBranchState{}
	if f, ok := l.p.gh.(PRFinder); ok {
		pr, err := f.FindPR(ctx, base, branch)
		if err != nil {
			return nil, err // the adapter's error names the branch already
		}
		st.pr = pr
	}
	snap, err := l.p.repo.Fetch(ctx, branch)
	if errors.Is(err, ErrBranchNotFound) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetching pull request branch %q: %w", branch, err)
	}
	st.head = snap.Head()
	hm, ok := snap.(HeadMessager)
	if !ok { // no way to tell: the branch is ours, as before markers existed
		st.ours = true
		return st, nil
	}
	msg, err := hm.HeadMessage()
	if err != nil {
		return nil, err
	}
	key, recorded, changes := parseTrailers(msg)
	finished := st.pr != nil && st.pr.HeadSHA == st.head && st.pr.State != "open"
	if key != branch && finished {
		// The last head of a merged or closed pull request (made before these
		// markers, say): its commits stay with that pull request, so reusing
		// the branch loses nothing.
		st.ours = true
		return st, nil
	}
	if key != branch {
		return nil, &ForeignBranchError{Branch: branch, Commit: st.head, Subject: subjectOf(msg), named: l.cfg.PRBranch != ""}
	}
	st.ours, st.base = true, recorded
	if !finished {
		// Open, or pushed by a run that has not opened its pull request yet.
		st.pending = changes
	}
	return st, nil
}

// desired is the pull request's values with ours on top (ours win).
func desired(pending []prChange, ours []kustomize.Change) []prChange {
	out := slices.Clone(pending)
	for _, c := range ours {
		i := slices.IndexFunc(out, func(p prChange) bool { return p.File == c.File && p.Image == c.Image })
		if i >= 0 {
			out[i].New = c.New
		} else {
			out = append(out, prChange{File: c.File, Image: c.Image, New: c.New})
		}
	}
	return out
}

// refFor turns a recorded value back into an image argument.
func refFor(c prChange) (image.Ref, error) {
	ref, err := image.Parse(c.New)
	if err != nil {
		return image.Ref{}, fmt.Errorf("re-applying %s in %s: %w", c.New, c.File, err)
	}
	if ref.Name != c.Image {
		ref.NewName = ref.Name
	}
	ref.Name = c.Image
	return ref, nil
}

// replay sets every value in want on the snapshot, one overlay at a time:
// the files to write and the changes against its head.
func replay(snap Snapshot, want []prChange) (*kustomize.Result, error) {
	var dirs []string
	refs := map[string][]image.Ref{}
	for _, c := range want {
		ref, err := refFor(c)
		if err != nil {
			return nil, err
		}
		d := path.Dir(c.File)
		if _, ok := refs[d]; !ok {
			dirs = append(dirs, d)
		}
		refs[d] = append(refs[d], ref)
	}
	out := &kustomize.Result{}
	for _, d := range dirs {
		r, err := kustomize.Edit(snap.FS(), kustomize.Request{Overlays: []string{d}, Images: refs[d]})
		if err != nil {
			return nil, fmt.Errorf("re-applying the pull request's images on %s: %w", short(snap.Head()), err)
		}
		out.Files = append(out.Files, r.Files...)
		out.Changes = append(out.Changes, r.Changes...)
		out.Overlays = append(out.Overlays, r.Overlays...)
	}
	return out, nil
}

func sameValues(a []prChange, b []kustomize.Change) bool {
	if len(a) != len(b) {
		return false
	}
	for _, c := range b {
		if !slices.Contains(a, prChange{File: c.File, Image: c.Image, New: c.New}) {
			return false
		}
	}
	return true
}

// landPR puts our change on the promotion branch together with what its
// pending pull request already holds, opens or reuses the one pull request,
// and asks to merge it.
func (l *lander) landPR(ctx context.Context) error {
	if l.p.gh == nil {
		return &inputError{msg: "mode: a pull request needs the GitHub API (a github.com repository-url, a runner, or github-api-url)"}
	}
	branch := l.res.Branch
	prBranch := l.cfg.PRBranch
	if prBranch == "" {
		prBranch = PRBranch(branch, l.cfg.Overlays)
	}
	l.res.PRBranch = prBranch
	var all *kustomize.Result
	created := false // this run created the branch (it did not exist)
	done, err := l.attempt(ctx, branch, func() error {
		var err error
		all, created, err = l.putOnPRBranch(ctx, prBranch)
		return err
	})
	if done {
		l.res.Changed = false
	}
	if err != nil || done {
		return err
	}
	_, title, body, err := texts(l.cfg, TemplateData{Changes: all.Changes, Branch: branch})
	if err != nil {
		return err
	}
	pr, err := l.p.gh.EnsurePR(ctx, PRSpec{Base: branch, Head: prBranch, Title: title, Body: body, Changes: all.Changes, Labels: l.cfg.PRLabels, Reviewers: l.cfg.PRReviewers, HeadSHA: l.res.CommitSHA, Rendered: l.res.Rendered})
	if err != nil {
		if d, ok := l.p.gh.(BranchDeleter); ok && created && errors.Is(err, ErrRefused) {
			if derr := d.DeleteBranch(ctx, prBranch, l.res.CommitSHA); derr != nil {
				l.p.logf("could not delete branch %s after GitHub refused the pull request: %v", prBranch, derr)
			}
		}
		return err // the adapter's error names the pull request or the branch already
	}
	l.pr = pr
	l.res.PullRequestNumber, l.res.PullRequestURL = pr.Number, pr.URL
	if !l.cfg.AutoMerge {
		return nil
	}
	out, err := l.p.gh.Merge(ctx, pr, l.res.CommitSHA, string(l.cfg.MergeMethod), true)
	var moved *HeadMovedError
	if errors.As(err, &moved) {
		// A later run joined in between: it asks to merge its head; the wait judges it.
		l.p.logf("pull request #%d moved on to %s before auto-merge was asked: the later run asks for it", pr.Number, short(moved.Head))
		return nil
	}
	if err != nil {
		return err // the adapter's error names the pull request already
	}
	if out.Merged {
		l.res.Merged, l.res.Revision = true, out.SHA
		return l.checkMerged(ctx)
	}
	return nil
}

// putOnPRBranch makes one attempt: read the branch, rebuild it on the
// current base with the pending values and ours, push with a lease. It
// returns every change the pull request now holds, and whether the branch
// was created by this push.
func (l *lander) putOnPRBranch(ctx context.Context, prBranch string) (*kustomize.Result, bool, error) {
	st, err := l.readPRBranch(ctx, l.res.Branch, prBranch)
	if err != nil {
		return nil, false, err
	}
	all, err := l.buildOnPRBranch(ctx, st, prBranch)
	return all, err == nil && st.head == "", err
}

func (l *lander) buildOnPRBranch(ctx context.Context, st *prBranchState, prBranch string) (*kustomize.Result, error) {
	want := desired(st.pending, l.edit.Changes)
	all, err := replay(l.snap, want)
	if err != nil {
		return nil, err
	}
	if len(st.pending) > 0 {
		l.p.logf("pull request branch %s holds %d pending %s: adding ours on top, rebuilt on %s",
			prBranch, len(st.pending), plural(len(st.pending), "change"), short(l.snap.Head()))
	}
	if st.ours && st.head != "" && st.base == l.snap.Head() && sameValues(st.pending, all.Changes) {
		l.p.logf("pull request branch %s already holds our images at %s", prBranch, short(st.head))
		l.res.CommitSHA, l.res.LandedBy = st.head, LandedByPullRequest
		return all, nil
	}
	if l.cfg.ValidateOverlays && len(st.pending) > 0 {
		if err := l.p.validate(l.validator, l.snap, all, l.res); err != nil {
			return nil, err
		}
	}
	msg, _, _, err := texts(l.cfg, TemplateData{Changes: all.Changes, Branch: l.res.Branch})
	if err != nil {
		return nil, err
	}
	msg = strings.TrimRight(msg, "\n") + "\n\n" + prTrailers(prBranch, l.snap.Head(), all.Changes)
	files := make([]File, len(all.Files))
	for i, f := range all.Files {
		files[i] = File{Path: f.Path, Content: f.After}
	}
	sha, err := l.pushPRCommit(ctx, st, prBranch, msg, files)
	if err != nil {
		return nil, err
	}
	l.res.CommitSHA, l.res.LandedBy = sha, LandedByPullRequest
	return all, nil
}

// pushPRCommit makes the commit on the base head and moves the pull request
// branch to it, only from the head read (a lease). Through the API a pending
// branch gets the commit on top of its head (expectedHeadOid is the lease).
func (l *lander) pushPRCommit(ctx context.Context, st *prBranchState, prBranch, msg string, files []File) (string, error) {
	if l.cfg.CommitMethod == config.CommitAPI {
		spec := CommitSpec{Branch: prBranch, ExpectedHead: st.head, Message: msg, Files: files}
		if st.head == "" || len(st.pending) == 0 {
			spec.BaseOid, spec.ExpectedHead = l.snap.Head(), l.snap.Head()
		}
		sha, err := l.p.gh.CommitOnBranch(ctx, spec)
		if err != nil {
			return "", fmt.Errorf("committing on %q through the API: %w", prBranch, err)
		}
		l.p.logf("committed %s on %s through the API", short(sha), prBranch)
		return sha, nil
	}
	sha, err := l.snap.Commit(files, msg, Author{Name: l.cfg.AuthorName, Email: l.cfg.AuthorEmail})
	if err != nil {
		return "", fmt.Errorf("making the commit: %w", err)
	}
	if lp, ok := l.snap.(LeasePusher); ok {
		err = lp.PushLease(ctx, sha, prBranch, st.head)
	} else {
		err = l.snap.PushForce(ctx, sha, prBranch)
	}
	if err != nil {
		return "", fmt.Errorf("pushing %s to %q: %w", short(sha), prBranch, err)
	}
	return sha, nil
}

// waitMerged waits until the pull request is merged: the merge commit is
// the revision, once the branch shows our images. When a later run moved
// the pull request's head on, the wait goes on while that head still
// carries our values; a later value of one of our images ends the run as
// superseded (not an error).
func (l *lander) waitMerged(ctx context.Context) error {
	head := l.res.CommitSHA
	for {
		sha, err := l.p.gh.WaitMerged(ctx, l.pr, head)
		var moved *HeadMovedError
		if errors.As(err, &moved) && moved.Head != "" && moved.Head != head {
			reps, known := l.judgeHead(ctx, moved.Head)
			if len(reps) > 0 {
				l.supersede(reps)
				return nil
			}
			why := "it still carries our images"
			if !known {
				why = "the merge result is checked for our images"
			}
			l.p.logf("pull request #%d moved on to %s: waiting for it to merge (%s)", l.pr.Number, short(moved.Head), why)
			head = moved.Head
			continue
		}
		if err != nil {
			return err // the adapter's error names the pull request already
		}
		l.res.Merged, l.res.Revision = true, sha
		return l.checkMerged(ctx)
	}
}

// judgeHead reads the pull request branch at head: the replacements of our
// values when a later run of ours changed them, and whether it could tell
// (a head it cannot read, or not marked by us, is judged after the merge).
func (l *lander) judgeHead(ctx context.Context, head string) ([]Replacement, bool) {
	snap, err := l.p.repo.Fetch(ctx, l.res.PRBranch)
	if err != nil || snap.Head() != head {
		return nil, false
	}
	hm, ok := snap.(HeadMessager)
	if !ok {
		return nil, false
	}
	msg, err := hm.HeadMessage()
	if err != nil {
		return nil, false
	}
	key, _, changes := parseTrailers(msg)
	if key != l.res.PRBranch {
		return nil, false
	}
	var reps []Replacement
	for _, c := range l.res.Changes {
		for _, p := range changes {
			if p.File == c.File && p.Image == c.Image && p.New != c.New {
				reps = append(reps, Replacement{File: c.File, Image: c.Image, Ours: c.New, Theirs: p.New, Commit: head})
			}
		}
	}
	return reps, true
}

// supersede ends the run without error: a later value of our image won.
func (l *lander) supersede(reps []Replacement) {
	l.res.Superseded, l.res.Replacements, l.res.Revision = true, reps, ""
	for _, r := range reps {
		l.p.logf("superseded: %s", r.String(l.res.PullRequestNumber))
	}
}

// String says which value replaced ours, and where.
func (r Replacement) String(pr int) string {
	where := "commit " + short(r.Commit)
	if pr > 0 {
		where += fmt.Sprintf(" (pull request #%d)", pr)
	}
	return fmt.Sprintf("%s in %s is %s, set by %s, replacing our %s; nothing of ours to deploy",
		r.Image, path.Dir(r.File), r.Theirs, where, r.Ours)
}

// checkMerged fetches the branch after the merge and re-runs our edit there:
// every image we set must still have our value, or Argo CD would confirm
// someone else's change under our name. A later value of one of our images
// is superseded (exit 0); our change missing altogether is an error. An
// entry whose value is ours but whose source moved since (promote-from)
// counts as ours.
func (l *lander) checkMerged(ctx context.Context) error {
	branch := l.res.Branch
	snap, err := l.p.repo.Fetch(ctx, branch)
	if err != nil {
		return fmt.Errorf("fetching %q to check the merge of pull request #%d: %w", branch, l.res.PullRequestNumber, err)
	}
	changed, err := lostValues(snap.FS(), l.req, l.res.Changes)
	if err != nil {
		return fmt.Errorf("checking the overlays at %s after the merge: %w", short(snap.Head()), err)
	}
	type key [2]string
	ours := map[key]kustomize.Change{}
	for _, c := range l.res.Changes {
		ours[key{c.File, c.Image}] = c
	}
	// A value that is neither ours nor what we replaced is a later run's:
	// superseded. Anything else means our change is not there at all.
	var lost []kustomize.Change
	var reps []Replacement
	for _, c := range changed {
		if want, ok := ours[key{c.File, c.Image}]; ok && c.Old != want.Old {
			reps = append(reps, Replacement{File: c.File, Image: c.Image, Ours: want.New, Theirs: c.Old, Commit: snap.Head()})
		} else {
			lost = append(lost, c)
		}
	}
	if len(lost) > 0 {
		return &replacedError{number: l.res.PullRequestNumber, merge: l.res.Revision, branch: branch, head: snap.Head(), lost: lost}
	}
	if len(reps) > 0 {
		l.supersede(reps)
		return nil
	}
	l.p.logf("checked: %s at %s holds our images", branch, short(snap.Head()))
	return nil
}
