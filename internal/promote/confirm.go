package promote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
	"github.com/gitops-promote/gitops-promote/internal/parallel"
)

// Confirmer is one way of learning that the cluster applied a revision:
// Argo CD's API, the statuses a puller writes back to GitHub, Flux's
// Kustomizations. A run may combine several; every one must confirm.
// cmd/gitops-promote builds each from the inputs that ask for it.
type Confirmer interface {
	// Name names the puller in messages and the report, e.g. "Argo CD".
	Name() string
	// Confirm waits until every target of the confirmer applied
	// spec.Revision, or a later commit of spec.Branch that contains it and
	// still holds our image values, and is healthy. It returns where each
	// target stood, also with an error. ctx bounds the wait.
	Confirm(ctx context.Context, spec ConfirmSpec) ([]AppStatus, error)
}

// Preflighter is a [Confirmer] that can tell before anything lands that its
// targets cannot confirm the edit (an Argo CD application that does not
// deploy the edited overlay): its error then has BadInput() true, and the
// run ends at exit 2 with nothing written.
type Preflighter interface {
	Preflight(ctx context.Context, spec PreflightSpec) error
}

// PreflightSpec is what a [Preflighter] checks against.
type PreflightSpec struct {
	RepoURL string // our repository
	Branch  string // the branch the edit lands on
	// Files are the kustomization files the edit changes (slash paths from
	// the repository root); Overlays the folders the request resolved to.
	Files, Overlays []string
	// FS reads the branch head the edit was made on.
	FS fs.FS
}

// ConfirmSpec says what a [Confirmer] waits for.
type ConfirmSpec struct {
	Revision string             // our commit on Branch
	Branch   string             // the branch the puller tracks
	RepoURL  string             // our repository
	Changes  []kustomize.Change // the image values we set
	// Contains reports whether ours is in the history of rev (git
	// ancestry); nil when no repository is known: then only Revision counts.
	Contains func(ctx context.Context, rev, ours string) (bool, error)
	// Keeps reports whether rev, a later commit that contains Revision,
	// still holds every image value in Changes (false: a later change
	// replaced ours, the run is superseded). Nil when it cannot be told.
	Keeps func(ctx context.Context, rev string) (bool, error)
}

// RevReader is a [Repo] that can read one commit of a branch's history, not
// only its head. The pipeline uses it for [ConfirmSpec.Keeps].
type RevReader interface {
	FetchRev(ctx context.Context, branch, rev string) (Snapshot, error)
}

// WithConfirmer adds a way of confirming; Run and Wait ask every one given.
func WithConfirmer(c Confirmer) Option {
	return func(p *Pipeline) { p.confirmers = append(p.confirmers, c) }
}

// confirmersFor returns every confirmer the run asks: those given with
// WithConfirmer, and Argo CD through WithArgoCD when argocd-apps is set.
func (p *Pipeline) confirmersFor(cfg *config.Config) []Confirmer {
	out := append([]Confirmer(nil), p.confirmers...)
	if p.argo != nil && len(cfg.ArgoCDApps) > 0 {
		out = append(out, &argoConfirmer{a: p.argo, cfg: cfg})
	}
	return out
}

// preflight asks every confirmer that can check before landing.
func (p *Pipeline) preflight(ctx context.Context, cfg *config.Config, res *Result, fsys fs.FS) error {
	spec := PreflightSpec{RepoURL: cfg.RepositoryURL, Branch: res.Branch, FS: fsys}
	for _, f := range res.Files {
		spec.Files = append(spec.Files, f.Path)
	}
	var errs []error
	for _, c := range p.confirmersFor(cfg) {
		if pf, ok := c.(Preflighter); ok {
			if err := pf.Preflight(ctx, spec); err != nil {
				errs = append(errs, fmt.Errorf("checking %s before landing: %w", c.Name(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// confirm asks every confirmer at once for res.Revision; all must confirm.
// The first failure ends the others' waits.
func (p *Pipeline) confirm(ctx context.Context, cfg *config.Config, req *kustomize.Request, res *Result) error {
	confirmers := p.confirmersFor(cfg)
	if len(confirmers) == 0 {
		return errors.New("confirming: no way of confirming was configured")
	}
	spec := ConfirmSpec{Revision: res.Revision, Branch: res.Branch, RepoURL: cfg.RepositoryURL, Changes: res.Changes}
	if p.repo != nil && res.Branch != "" {
		branch := res.Branch
		spec.Contains = func(ctx context.Context, rev, ours string) (bool, error) {
			return p.repo.Contains(ctx, branch, rev, ours)
		}
		if rr, ok := p.repo.(RevReader); ok && req != nil && len(res.Changes) > 0 {
			r := *req
			spec.Keeps = func(ctx context.Context, rev string) (bool, error) {
				snap, err := rr.FetchRev(ctx, branch, rev)
				if err != nil {
					return false, fmt.Errorf("reading %s: %w", short(rev), err)
				}
				lost, err := lostValues(snap.FS(), r, res.Changes)
				return len(lost) == 0, err
			}
		}
	}
	statuses, errs := parallel.Each(ctx, len(confirmers), func(ctx context.Context, i int) ([]AppStatus, error) {
		st, err := confirmers[i].Confirm(ctx, spec)
		for j := range st {
			if st[j].Puller == "" {
				st[j].Puller = confirmers[i].Name()
			}
		}
		return st, err
	})
	res.Apps = nil
	for _, st := range statuses {
		res.Apps = append(res.Apps, st...)
	}
	superseded, failed := sortErrors(errs, func(i int, err error) error {
		return fmt.Errorf("confirming %s in %s: %w", short(res.Revision), confirmers[i].Name(), err)
	})
	if failed != nil {
		return failed
	}
	if len(superseded) > 0 {
		// A later change replaced our image values before the puller applied
		// ours: nothing of ours will be deployed, and nothing failed.
		res.Superseded = true
		for _, err := range superseded {
			res.SupersededBy = append(res.SupersededBy, err.Error())
			p.logf("superseded: %v", err)
		}
		return nil
	}
	res.Deployed = true
	return nil
}

// sortErrors sorts the errors of the confirmers: those that say a later
// change superseded ours (as they are), and the failures (each wrapped by
// wrap with its confirmer's index, joined).
func sortErrors(errs []error, wrap func(int, error) error) (superseded []error, failed error) {
	var failures []error
	for i, err := range errs {
		var s interface{ Superseded() bool }
		switch {
		case err == nil:
		case errors.As(err, &s) && s.Superseded():
			superseded = append(superseded, err)
		default:
			failures = append(failures, wrap(i, err))
		}
	}
	return superseded, errors.Join(failures...)
}

// lostValues re-runs our edit on fsys: the changes it would still make are
// the image values we set that fsys no longer holds.
func lostValues(fsys fs.FS, req kustomize.Request, ours []kustomize.Change) ([]kustomize.Change, error) {
	edit, err := kustomize.Edit(fsys, req)
	if err != nil {
		return nil, err
	}
	want := map[[2]string]string{}
	for _, c := range ours {
		want[[2]string{c.File, c.Image}] = c.New
	}
	var lost []kustomize.Change
	for _, c := range edit.Changes {
		if v, ok := want[[2]string{c.File, c.Image}]; !ok || c.Old != v {
			lost = append(lost, c)
		}
	}
	return lost, nil
}

// argoConfirmer is the [Confirmer] over an [ArgoCD] given with WithArgoCD,
// for the applications of argocd-apps.
type argoConfirmer struct {
	a   ArgoCD
	cfg *config.Config
}

func (c *argoConfirmer) Name() string { return "Argo CD" }

func (c *argoConfirmer) Confirm(ctx context.Context, s ConfirmSpec) ([]AppStatus, error) {
	return c.a.Wait(ctx, WaitSpec{
		Apps: c.cfg.ArgoCDApps, Revision: s.Revision, RepoURL: s.RepoURL,
		Refresh: string(c.cfg.ArgoCDRefresh), Sync: c.cfg.ArgoCDSync, Contains: s.Contains,
	})
}
