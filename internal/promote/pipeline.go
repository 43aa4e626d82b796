package promote

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

// Observer hears the phases of a run: the runner renders ::group:: per
// phase, a terminal shows progress.
type Observer interface {
	PhaseStart(phase Phase)
	PhaseEnd(phase Phase, d time.Duration, err error)
}

// Retry shapes the landing attempts after lost races and network faults:
// jittered exponential backoff from Initial up to Max between attempts. They
// are bounded by time: the landing budget, which is the run's timeout (the
// context Run lands under), and MaxElapsed when it is set and shorter.
// Attempts, when not 0, also caps the count (tests use it; the default has
// no cap, so many pipelines racing on one branch all land within the time).
type Retry struct {
	Attempts   uint
	Initial    time.Duration
	Max        time.Duration
	MaxElapsed time.Duration
}

// defaultRetry retries until the landing budget is spent.
var defaultRetry = Retry{Initial: 250 * time.Millisecond, Max: 5 * time.Second}

// DefaultRetry returns the default landing retry policy: 250ms growing to
// 5s between attempts (each jittered by half), no cap on the count, until
// the landing budget (timeout) is spent.
func DefaultRetry() Retry { return defaultRetry }

// budget is how long attempts may go on under ctx: until its deadline, or
// MaxElapsed when that is shorter; 0 means no bound but ctx.
func (r Retry) budget(ctx context.Context) time.Duration {
	d := r.MaxElapsed
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); d <= 0 || left < d {
			d = max(left, time.Nanosecond)
		}
	}
	return d
}

// Pipeline runs promotions over injected adapters.
type Pipeline struct {
	repo Repo
	gh   GitHub
	argo ArgoCD
	// confirmers are the ways of confirming given with WithConfirmer.
	confirmers []Confirmer
	logf       func(format string, args ...any)
	observer   Observer
	retry      Retry
	now        func() time.Time
}

// Option configures a Pipeline.
type Option func(*Pipeline)

// WithGitHub gives the pipeline the GitHub API (pull requests, API commits).
// Without it only landing by push exists.
func WithGitHub(gh GitHub) Option { return func(p *Pipeline) { p.gh = gh } }

// WithArgoCD gives the pipeline Argo CD for the confirmation.
func WithArgoCD(a ArgoCD) Option { return func(p *Pipeline) { p.argo = a } }

// WithLogf reports progress, one line per event.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(p *Pipeline) { p.logf = logf }
}

// WithObserver hears the start and end of every phase.
func WithObserver(o Observer) Option { return func(p *Pipeline) { p.observer = o } }

// WithRetry sets the landing retry policy (tests use short intervals).
func WithRetry(r Retry) Option { return func(p *Pipeline) { p.retry = r } }

// WithClock sets the clock used for the phase timings.
func WithClock(now func() time.Time) Option { return func(p *Pipeline) { p.now = now } }

// New returns a pipeline over repo (nil is allowed for Wait without an
// ancestry check).
func New(repo Repo, opts ...Option) *Pipeline {
	p := &Pipeline{repo: repo, logf: func(string, ...any) {}, retry: defaultRetry, now: time.Now}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

// phase runs fn as one phase: observer calls and the timing in res.
func (p *Pipeline) phase(res *Result, ph Phase, fn func() error) error {
	if p.observer != nil {
		p.observer.PhaseStart(ph)
	}
	start := p.now()
	err := fn()
	d := p.now().Sub(start)
	res.Timings = append(res.Timings, Timing{Phase: ph, Duration: d})
	if p.observer != nil {
		p.observer.PhaseEnd(ph, d, err)
	}
	return err
}

// Run promotes per cfg (validated by config for the run verb): edit on the
// branch head, validate, land, wait for the merge, confirm in Argo CD. The
// Result holds what happened, also when the error is not nil.
func (p *Pipeline) Run(ctx context.Context, cfg *config.Config) (*Result, error) {
	res := &Result{DryRun: cfg.DryRun, Branch: cfg.Branch}
	req, err := Request(cfg)
	if err != nil {
		return res, err
	}
	// The landing budget: timeout bounds fetching, validating and landing
	// with their retries; the merge and the confirmation get a timeout of
	// their own below.
	parent := ctx
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	var snap Snapshot
	err = p.phase(res, PhaseFetch, func() error {
		if res.Branch == "" {
			b, err := p.repo.DefaultBranch(ctx)
			if err != nil {
				return fmt.Errorf("finding the default branch: %w", err)
			}
			res.Branch = b
			p.logf("branch: %s (the repository's default)", b)
		}
		snap, err = p.repo.Fetch(ctx, res.Branch)
		if err != nil {
			return fmt.Errorf("fetching branch %q: %w", res.Branch, err)
		}
		return nil
	})
	if err != nil {
		return res, timedOut(err, cfg)
	}
	var edit *kustomize.Result
	if err := p.phase(res, PhaseEdit, func() error {
		edit, err = p.edit(snap, req, res)
		return err
	}); err != nil {
		return res, err
	}
	if len(edit.Files) == 0 {
		p.logf("nothing to change: every image is already set on %s", short(snap.Head()))
		return res, nil
	}
	// One validator for the run: a retry after a lost race rebuilds only the overlays whose
	// inputs changed on the new head.
	validator := kustomize.NewValidator(validatorOptions(cfg)...)
	if cfg.ValidateOverlays {
		if err := p.phase(res, PhaseValidate, func() error { return p.validate(validator, snap, edit, res) }); err != nil {
			return res, err
		}
	}
	if err := p.preflight(ctx, cfg, res, snap.FS()); err != nil {
		return res, err
	}
	if cfg.DryRun {
		p.logf("dry run: nothing landed")
		return res, nil
	}

	l := &lander{p: p, cfg: cfg, req: req, res: res, snap: snap, edit: edit, validator: validator}
	if err := p.phase(res, PhaseLand, func() error { return l.land(ctx) }); err != nil {
		return res, err
	}
	if !res.Changed {
		return res, nil
	}

	tctx, cancel := context.WithTimeout(parent, cfg.Timeout)
	defer cancel()
	if res.LandedBy == LandedByPullRequest && !res.Merged && cfg.WaitForMerge {
		if err := p.phase(res, PhaseMerge, func() error { return l.waitMerged(tctx) }); err != nil {
			return res, err
		}
	}
	if len(p.confirmersFor(cfg)) == 0 || res.Superseded {
		return res, nil
	}
	if res.Revision == "" {
		p.logf("pull request #%d is not merged yet: no revision to confirm", res.PullRequestNumber)
		return res, nil
	}
	err = p.phase(res, PhaseConfirm, func() error { return p.confirm(tctx, cfg, &req, res) })
	return res, err
}

// edit runs the semantic edit on snap and records the changes in res.
func (p *Pipeline) edit(snap Snapshot, req kustomize.Request, res *Result) (*kustomize.Result, error) {
	edit, err := kustomize.Edit(snap.FS(), req)
	if err != nil {
		return nil, fmt.Errorf("editing the overlays at %s: %w", short(snap.Head()), err)
	}
	for _, w := range edit.Warnings {
		p.logf("warning: %s", w)
	}
	res.Base = snap.Head()
	res.Changed = len(edit.Files) > 0
	res.Changes, res.Files, res.Warnings = edit.Changes, edit.Files, edit.Warnings
	res.Rendered = nil // validate renders this edit's change
	for _, c := range edit.Changes {
		p.logf("%s: %s %s -> %s", c.File, c.Image, orNone(c.Old), c.New)
	}
	return edit, nil
}

// validate builds every overlay whose kustomization was edited, and keeps
// the rendered change (those builds against the files before) in res.
func (p *Pipeline) validate(v *kustomize.Validator, snap Snapshot, edit *kustomize.Result, res *Result) error {
	var overlays []string
	for _, f := range edit.Files {
		if d := path.Dir(f.Path); !slices.Contains(overlays, d) {
			overlays = append(overlays, d)
		}
	}
	rendered, skipped, err := v.RenderDiff(snap.FS(), edit.Files, overlays)
	if err != nil {
		return fmt.Errorf("validating the edited overlays: %w", err)
	}
	res.Rendered = rendered
	for _, s := range skipped {
		p.logf("warning: %v", s)
	}
	p.logf("kustomize build passed for %d %s", len(overlays), plural(len(overlays), "overlay"))
	return nil
}

// Wait confirms cfg.Revision with every confirmer (the wait verb), with git
// ancestry when the pipeline has a repository.
func (p *Pipeline) Wait(ctx context.Context, cfg *config.Config) (*Result, error) {
	res := &Result{Revision: cfg.Revision, Branch: cfg.Branch}
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if p.repo != nil && res.Branch == "" {
		b, err := p.repo.DefaultBranch(tctx)
		if err != nil {
			return res, fmt.Errorf("finding the default branch: %w", err)
		}
		res.Branch = b
	}
	err := p.phase(res, PhaseConfirm, func() error { return p.confirm(tctx, cfg, nil, res) })
	return res, err
}

// timedOut adds what to do to an error that the landing budget ended.
func timedOut(err error, cfg *config.Config) error {
	var h interface{ Hint() string }
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &h) {
		return err
	}
	return &hintError{err: err, hint: fmt.Sprintf("the git server did not answer within timeout (%s): check repository-url and the network, or give a longer timeout", cfg.Timeout)}
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// validatorOptions: validation is offline unless validate-remote is set.
func validatorOptions(cfg *config.Config) []kustomize.ValidatorOption {
	if cfg.ValidateRemote {
		return []kustomize.ValidatorOption{kustomize.WithRemote()}
	}
	return nil
}
