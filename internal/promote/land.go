package promote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

// lander lands one edit: by push, or through the pull request path.
type lander struct {
	p    *Pipeline
	cfg  *config.Config
	req  kustomize.Request
	res  *Result
	snap Snapshot
	edit *kustomize.Result
	// validator remembers the builds of this run, so a retry rebuilds only what changed.
	validator *kustomize.Validator
	pr        *PR
	// made is the git commit last made for the edit, on the snapshot head
	// madeOn: the pull request path reuses the commit a refused push made.
	made, madeOn string
	// gen counts the snapshots fetched for this landing; madeGen is the one
	// made was made on. A commit is only pushed from the snapshot that made
	// it, even when a fetch after a network fault finds the same head.
	gen, madeGen int
	// unsure are the pushes that failed in a way that leaves the outcome
	// open (a cut, a time-out, a lost answer): the branch may hold them.
	unsure []unsurePush
	// landed is the push of unsure that a later read of the branch found
	// there (the branch at it, or at a commit built on it).
	landed *unsurePush
}

// unsurePush is a commit whose push may have landed, with the edit it holds.
type unsurePush struct {
	sha  string
	base string
	edit *kustomize.Result
}

// land pushes (push, auto) and falls back to the pull request path (auto on
// a protected branch) or goes there at once (pull-request).
func (l *lander) land(ctx context.Context) error {
	if l.cfg.Mode == config.ModePullRequest {
		return l.landPR(ctx)
	}
	err := l.landPush(ctx)
	if err == nil || !errors.Is(err, ErrProtected) {
		return err
	}
	if l.cfg.Mode == config.ModePush {
		return &hintError{err: err, hint: fmt.Sprintf("%s is protected: use mode: pull-request (or auto) to land through a pull request", l.res.Branch)}
	}
	if l.p.gh == nil {
		return &hintError{err: err, hint: "mode auto lands a protected branch through a pull request, which needs the GitHub API and a token: give token (and github-api-url where the repository is not on github.com), or change the protection"}
	}
	l.p.logf("%s is protected: landing through a pull request", l.res.Branch)
	return l.landPR(ctx)
}

// retryable reports whether err is a lost race or a passing fault.
func retryable(err error) bool {
	if errors.Is(err, ErrNonFastForward) || errors.Is(err, ErrStaleData) {
		return true
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// attempt runs try with the retry policy. Before every attempt after the
// first it fetches the new head and re-runs the semantic edit; when the new
// head already has our images, it stops with done=true (nothing to land, or
// l.landed: an earlier push whose answer was lost landed after all).
// Attempts go on, with jittered backoff, until ctx's deadline (the landing
// budget, timeout) or the policy's own bounds.
func (l *lander) attempt(ctx context.Context, base string, try func() error) (done bool, err error) {
	r := l.p.retry
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = r.Initial, r.Max
	start, n := time.Now(), 0
	opts := []backoff.RetryOption{
		backoff.WithBackOff(b),
		backoff.WithMaxElapsedTime(r.budget(ctx)),
		backoff.WithNotify(func(err error, next time.Duration) {
			l.p.logf("attempt %d failed: %v; fetching the new head and re-applying the edit in %s", n, err, next.Round(time.Millisecond))
		}),
	}
	if r.Attempts > 0 {
		opts = append(opts, backoff.WithMaxTries(r.Attempts))
	}
	var last error // the last attempt's own error: ctx's ends the loop without it
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		n++
		l.res.Attempts = n
		if n > 1 {
			nothing, err := l.refresh(ctx, base)
			if err != nil {
				last = err
				if retryable(err) {
					return struct{}{}, err
				}
				return struct{}{}, backoff.Permanent(err)
			}
			if nothing {
				done = true
				return struct{}{}, nil
			}
		}
		err := try()
		if err != nil {
			last = err
			if !retryable(err) {
				return struct{}{}, backoff.Permanent(err)
			}
		}
		return struct{}{}, err
	}, opts...)
	if err != nil && (retryable(err) || ctx.Err() != nil) {
		if last != nil && !errors.Is(err, last) {
			err = fmt.Errorf("%w (then the time for landing ran out)", last)
		}
		err = l.gaveUp(err, time.Since(start))
	}
	return done, err
}

// gaveUp says why landing stopped once the budget is spent: lost races, a
// push whose outcome stayed unknown, or the network. Never bad input.
func (l *lander) gaveUp(err error, took time.Duration) error {
	n, took := l.res.Attempts, took.Round(100*time.Millisecond)
	branch := l.res.Branch
	switch {
	case len(l.unsure) > 0:
		u := l.unsure[len(l.unsure)-1]
		return &hintError{
			err:  fmt.Errorf("landing on %q: could not tell whether commit %s landed (%d %s in %s): %w", branch, short(u.sha), n, plural(n, "attempt"), took, err),
			hint: fmt.Sprintf("look at branch %s: if its history holds %s the change landed, otherwise run again", branch, short(u.sha)),
		}
	case errors.Is(err, ErrNonFastForward) || errors.Is(err, ErrStaleData):
		return &hintError{
			err:  fmt.Errorf("landing on %q: other changes kept landing first (%d %s in %s): %w", branch, n, plural(n, "attempt"), took, err),
			hint: "other changes kept landing first; run again, or give a longer timeout (it bounds the landing too)",
		}
	}
	return &hintError{
		err:  fmt.Errorf("landing on %q: gave up after %d %s in %s: %w", branch, n, plural(n, "attempt"), took, err),
		hint: "the git server failed or did not answer in time: check repository-url and the network, or give a longer timeout; the run can be retried safely",
	}
}

// refresh fetches base again and re-runs the edit on its new head. It
// reports true when nothing is left to change there.
func (l *lander) refresh(ctx context.Context, base string) (bool, error) {
	snap, err := l.p.repo.Fetch(ctx, base)
	if err != nil {
		return false, fmt.Errorf("fetching branch %q again: %w", base, err)
	}
	if landed, err := l.heldBy(ctx, base, snap.Head()); err != nil || landed {
		return landed, err
	}
	edit, err := l.p.edit(snap, l.req, l.res)
	if err != nil {
		return false, err
	}
	l.snap, l.edit = snap, edit
	l.gen++
	if len(edit.Files) == 0 {
		l.p.logf("%s already has our images: nothing to land", short(snap.Head()))
		return true, nil
	}
	if l.cfg.ValidateOverlays {
		if err := l.p.validate(l.validator, snap, edit, l.res); err != nil {
			return false, err
		}
	}
	return false, nil
}

// heldBy reads head, the branch's head now, for a push whose outcome was
// left open: head is that commit, or a commit whose history holds it, means
// it landed (l.landed). Anything else means it did not.
func (l *lander) heldBy(ctx context.Context, base, head string) (bool, error) {
	for i := range l.unsure {
		u := &l.unsure[i]
		ok := head == u.sha
		if !ok {
			var err error
			if ok, err = l.p.repo.Contains(ctx, base, head, u.sha); err != nil {
				return false, fmt.Errorf("reading whether %s holds %s, whose push got no answer: %w", short(head), short(u.sha), err)
			}
		}
		if ok {
			l.landed = u
			l.p.logf("%s is at %s, which holds %s: the push whose answer was lost landed", base, short(head), short(u.sha))
			return true, nil
		}
	}
	if len(l.unsure) > 0 {
		l.p.logf("%s is at %s, which does not hold %s: that push did not land", base, short(head), short(l.unsure[len(l.unsure)-1].sha))
		l.unsure = nil
	}
	return false, nil
}

// unclear reports whether a failed push may still have landed: a fault of
// the network or of time, not a refusal. An error with MayHaveLanded (the
// git adapter's network errors) says itself whether the push went out.
func unclear(err error) bool {
	if errors.Is(err, ErrNonFastForward) || errors.Is(err, ErrProtected) || errors.Is(err, ErrStaleData) {
		return false
	}
	var m interface{ MayHaveLanded() bool }
	if errors.As(err, &m) {
		return m.MayHaveLanded()
	}
	return retryable(err) || errors.Is(err, context.DeadlineExceeded)
}

// texts renders the commit message and the PR texts for the current edit.
func (l *lander) texts() (msg, title, body string, err error) {
	return texts(l.cfg, TemplateData{Changes: l.edit.Changes, Branch: l.res.Branch})
}

func (l *lander) files() []File {
	out := make([]File, len(l.edit.Files))
	for i, f := range l.edit.Files {
		out[i] = File{Path: f.Path, Content: f.After}
	}
	return out
}

// commit makes our commit on the current snapshot for target: with git
// (pushed by push, fast-forward only, or pushForce for our PR branch), or
// through the API.
func (l *lander) commit(ctx context.Context, target string, force bool) (string, error) {
	msg, _, _, err := l.texts()
	if err != nil {
		return "", err
	}
	if l.cfg.CommitMethod == config.CommitAPI {
		if l.p.gh == nil {
			return "", errors.New("commit-method api needs the GitHub API")
		}
		spec := CommitSpec{Branch: target, ExpectedHead: l.snap.Head(), Message: msg, Files: l.files()}
		if force {
			spec.BaseOid = l.snap.Head()
		}
		sha, err := l.p.gh.CommitOnBranch(ctx, spec)
		if err != nil {
			return "", fmt.Errorf("committing on %q through the API: %w", target, err)
		}
		l.p.logf("committed %s on %s through the API (base %s)", short(sha), target, short(l.snap.Head()))
		return sha, nil
	}
	sha := l.made
	if sha == "" || l.madeOn != l.snap.Head() || l.madeGen != l.gen {
		if sha, err = l.snap.Commit(l.files(), msg, Author{Name: l.cfg.AuthorName, Email: l.cfg.AuthorEmail}); err != nil {
			return "", fmt.Errorf("making the commit: %w", err)
		}
		l.made, l.madeOn, l.madeGen = sha, l.snap.Head(), l.gen
	}
	if force {
		err = l.snap.PushForce(ctx, sha, target)
	} else {
		err = l.snap.Push(ctx, sha, target)
	}
	if err != nil {
		// sha too: the caller decides whether the push may have landed.
		return sha, fmt.Errorf("pushing %s to %q: %w", short(sha), target, err)
	}
	return sha, nil
}

// landPush lands on the branch itself, retrying lost races with a re-edit.
func (l *lander) landPush(ctx context.Context) error {
	branch := l.res.Branch
	done, err := l.attempt(ctx, branch, func() error {
		sha, err := l.commit(ctx, branch, false)
		if err != nil {
			if sha != "" && unclear(err) {
				l.unsure = append(l.unsure, unsurePush{sha: sha, base: l.snap.Head(), edit: l.edit})
			}
			return err
		}
		l.res.CommitSHA, l.res.Revision, l.res.LandedBy = sha, sha, LandedByPush
		return nil
	})
	if done && l.landed != nil {
		// Report the edit that commit holds, as if its answer had come.
		u := l.landed
		l.edit = u.edit
		l.res.Base, l.res.Changed = u.base, true
		l.res.Changes, l.res.Files, l.res.Warnings = u.edit.Changes, u.edit.Files, u.edit.Warnings
		l.res.CommitSHA, l.res.Revision, l.res.LandedBy = u.sha, u.sha, LandedByPush
		return nil
	}
	if done {
		l.res.Changed = false
	}
	return err
}
