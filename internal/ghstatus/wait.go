package ghstatus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/github"
)

// Spec says what Wait waits for.
type Spec struct {
	Want
	Revision string // our commit, full SHA
	Branch   string // the branch the puller tracks; "" for the default branch
	// Keeps reports whether a later commit still holds our image values
	// (false: superseded); nil counts every later commit as keeping them.
	Keeps func(ctx context.Context, rev string) (bool, error)
}

// Result is where the wait ended.
type Result struct {
	Verdict
	Elapsed time.Duration
}

// WaitError is a wait that ended without deployed: a failure, a later
// change that superseded ours, or the deadline (Outcome Waiting).
type WaitError struct {
	Outcome Outcome
	Msg     string
	hint    string
	err     error // ctx.Err() on a timeout
}

// Error implements error.
func (e *WaitError) Error() string { return e.Msg }

// Hint says what a person can do.
func (e *WaitError) Hint() string { return e.hint }

// Unwrap returns the context's error on a timeout.
func (e *WaitError) Unwrap() error { return e.err }

// Superseded reports whether a later change replaced our image values: the
// run's superseded outcome (exit 0), not a failure.
func (e *WaitError) Superseded() bool { return e.Outcome == Superseded }

// Wait reads GitHub until Decide says deployed, failed or superseded, or
// ctx ends. It reads every interval (5 s, growing by half to 30 s; back to
// 5 s when GitHub shows something new). Warnings (an on-sync-succeeded
// context) are logged once.
func (c *Client) Wait(ctx context.Context, spec Spec) (Result, error) {
	start := c.now()
	if len(spec.Contexts) == 0 && spec.Environment == "" {
		return Result{}, errors.New("waiting for GitHub: no status-contexts and no deployment-environment")
	}
	if spec.Branch == "" {
		repo, _, err := c.rest.Repositories.Get(ctx, c.owner, c.repo)
		if err != nil {
			return Result{}, apiError("reading the default branch of "+c.owner+"/"+c.repo, permContents, err)
		}
		spec.Branch = repo.GetDefaultBranch()
	}
	r := &reader{c: c, spec: spec, keeps: map[string]Keep{}}
	interval := c.interval
	var (
		last     View
		verdict  Verdict
		warned   []string
		progress string
	)
	for {
		v, _, err := r.view(ctx)
		if err != nil && ctx.Err() == nil {
			return Result{Verdict: verdict, Elapsed: c.now().Sub(start)}, err
		}
		if err == nil {
			if changed(last, v) {
				interval = c.interval
			}
			last = v
			verdict = Decide(spec.Want, v)
			for _, w := range verdict.Warnings {
				if !slices.Contains(warned, w) {
					warned = append(warned, w)
					c.logf("warning: %s", w)
				}
			}
			res := Result{Verdict: verdict, Elapsed: c.now().Sub(start)}
			switch verdict.Outcome {
			case Deployed:
				return res, nil
			case Failed:
				return res, &WaitError{Outcome: Failed, Msg: verdict.Reason,
					hint: "the puller reported the failure to GitHub; look at the link, fix the change and promote again"}
			case Superseded:
				return res, &WaitError{Outcome: Superseded, Msg: verdict.Reason,
					hint: "a later change replaced our images; nothing to do unless ours should win"}
			}
			if p := Timeout(spec.Want, v, verdict); p != progress {
				progress = p
				c.logf("GitHub: waiting: %s", p)
			}
		}
		if err := c.sleep(ctx, interval); err != nil {
			return Result{Verdict: verdict, Elapsed: c.now().Sub(start)}, &WaitError{
				Outcome: Waiting, err: err,
				Msg:  fmt.Sprintf("after %s: %s", c.now().Sub(start).Round(time.Second), Timeout(spec.Want, last, verdict)),
				hint: TimeoutHint(spec.Want),
			}
		}
		interval = min(interval*3/2, c.maxInterval)
	}
}

// changed reports whether GitHub shows something new: another later
// commit, or another signal.
func changed(a, b View) bool {
	count := func(v View) (n int) {
		n = len(v.Ours.Signals)
		for _, c := range v.Later {
			n += len(c.Signals)
		}
		return n
	}
	return len(a.Later) != len(b.Later) || count(a) != count(b)
}

func idempotentCtx(ctx context.Context) context.Context { return github.Idempotent(ctx) }
