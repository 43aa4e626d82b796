package main

import (
	"context"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/ghstatus"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

// FetchRev makes repoAdapter a promote.RevReader: the pipeline reads a
// later commit to tell whether it still holds our image values.
func (a repoAdapter) FetchRev(ctx context.Context, branch, rev string) (promote.Snapshot, error) {
	s, err := a.r.FetchRev(ctx, branch, rev)
	if err != nil {
		return nil, markGit(err)
	}
	return snapAdapter{s: s}, nil
}

// statusConfirmer is a promote.Confirmer over a ghstatus.Client: it waits
// for the commit statuses, check runs or deployment the puller writes back
// to GitHub (status-contexts, deployment-environment).
type statusConfirmer struct {
	c    *ghstatus.Client
	want ghstatus.Want
}

func (s *statusConfirmer) Name() string { return "GitHub" }

func (s *statusConfirmer) Confirm(ctx context.Context, spec promote.ConfirmSpec) ([]promote.AppStatus, error) {
	res, err := s.c.Wait(ctx, ghstatus.Spec{Want: s.want, Revision: spec.Revision, Branch: spec.Branch, Keeps: spec.Keeps})
	out := make([]promote.AppStatus, 0, len(res.Targets))
	for _, t := range res.Targets {
		out = append(out, promote.AppStatus{App: t.Name, Result: t.Outcome.String(), Revision: t.Commit, Elapsed: res.Elapsed})
	}
	return out, err
}

// Preflight reads GitHub once as the wait will, so a token without
// statuses, checks or deployments read permission ends the run at exit 2
// before anything lands.
func (s *statusConfirmer) Preflight(ctx context.Context, spec promote.PreflightSpec) error {
	return s.c.Check(ctx, s.want, spec.Branch)
}

// statusOption returns the GitHub-status confirmer when status-contexts or
// deployment-environment ask for it, nil otherwise.
func statusOption(cfg *config.Config, logf func(string, ...any)) (promote.Option, error) {
	if len(cfg.StatusContexts) == 0 && cfg.DeploymentEnvironment == "" {
		return nil, nil
	}
	owner, name, err := ownerRepo(cfg)
	if err != nil {
		return nil, err
	}
	c, err := ghstatus.New(cfg.GitHubAPIURL, cfg.Token, owner, name, ghstatus.WithLogf(logf))
	if err != nil {
		return nil, err
	}
	return promote.WithConfirmer(&statusConfirmer{c: c, want: ghstatus.Want{Contexts: cfg.StatusContexts, Environment: cfg.DeploymentEnvironment}}), nil
}
