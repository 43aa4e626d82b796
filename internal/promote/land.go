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
// head already has our images, it stops with done=true (nothing to land).
func (l *lander) attempt(ctx context.Context, base string, try func() error) (done bool, err error) {
	r := l.p.retry
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = r.Initial, r.Max
	n := 0
	_, err = backoff.Retry(ctx, func() (struct{}, error) {
		n++
		l.res.Attempts = n
		if n > 1 {
			nothing, err := l.refresh(ctx, base)
			if err != nil {
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
		if err != nil && !retryable(err) {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, err
	},
		backoff.WithBackOff(b),
		backoff.WithMaxTries(r.Attempts),
		backoff.WithMaxElapsedTime(r.MaxElapsed),
		backoff.WithNotify(func(err error, next time.Duration) {
			l.p.logf("attempt %d/%d failed: %v; fetching the new head and re-applying the edit in %s", n, r.Attempts, err, next.Round(time.Millisecond))
		}),
	)
	if err != nil && retryable(err) {
		err = &hintError{err: fmt.Errorf("landing after %d attempts: %w", n, err), hint: "other changes kept landing first; run again"}
	}
	return done, err
}

// refresh fetches base again and re-runs the edit on its new head. It
// reports true when nothing is left to change there.
func (l *lander) refresh(ctx context.Context, base string) (bool, error) {
	snap, err := l.p.repo.Fetch(ctx, base)
	if err != nil {
		return false, fmt.Errorf("fetching branch %q again: %w", base, err)
	}
	edit, err := l.p.edit(snap, l.req, l.res)
	if err != nil {
		return false, err
	}
	l.snap, l.edit = snap, edit
	if len(edit.Files) == 0 {
		l.p.logf("%s already has our images: nothing to land", short(snap.Head()))
		return true, nil
	}
	if l.cfg.ValidateOverlays {
		if err := l.p.validate(l.validator, snap, edit); err != nil {
			return false, err
		}
	}
	return false, nil
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
	if sha == "" || l.madeOn != l.snap.Head() {
		if sha, err = l.snap.Commit(l.files(), msg, Author{Name: l.cfg.AuthorName, Email: l.cfg.AuthorEmail}); err != nil {
			return "", fmt.Errorf("making the commit: %w", err)
		}
		l.made, l.madeOn = sha, l.snap.Head()
	}
	if force {
		err = l.snap.PushForce(ctx, sha, target)
	} else {
		err = l.snap.Push(ctx, sha, target)
	}
	if err != nil {
		return "", fmt.Errorf("pushing %s to %q: %w", short(sha), target, err)
	}
	return sha, nil
}

// landPush lands on the branch itself, retrying lost races with a re-edit.
func (l *lander) landPush(ctx context.Context) error {
	branch := l.res.Branch
	done, err := l.attempt(ctx, branch, func() error {
		sha, err := l.commit(ctx, branch, false)
		if err != nil {
			return err
		}
		l.res.CommitSHA, l.res.Revision, l.res.LandedBy = sha, sha, LandedByPush
		return nil
	})
	if done {
		l.res.Changed = false
	}
	return err
}
