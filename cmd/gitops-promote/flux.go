package main

import (
	"context"

	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/flux"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

// fluxConfirmer is a promote.Confirmer over a flux.Client for the
// Kustomizations of flux-kustomizations.
type fluxConfirmer struct {
	c         *flux.Client
	refs      []flux.Ref
	reconcile bool
}

func (f *fluxConfirmer) Name() string { return "Flux" }

func (f *fluxConfirmer) Confirm(ctx context.Context, s promote.ConfirmSpec) ([]promote.AppStatus, error) {
	got, err := f.c.Wait(ctx, flux.WaitSpec{
		Refs: f.refs, Revision: s.Revision, Reconcile: f.reconcile, Contains: s.Contains, Keeps: s.Keeps,
	})
	out := make([]promote.AppStatus, 0, len(got))
	for _, st := range got {
		if st.Ref.Name == "" {
			continue
		}
		a := promote.AppStatus{App: st.Ref.String(), Result: st.State.String(), Health: st.ReadyReason, Elapsed: st.Elapsed}
		if st.Ready != "" {
			a.Sync = "Ready=" + st.Ready
		}
		if a.Revision = flux.RevisionSHA(st.Applied); a.Revision == "" {
			a.Revision = st.Applied
		}
		out = append(out, a)
	}
	return out, err
}

// fluxOption builds the Flux confirmer from flux-kustomizations, reaching
// the API through kubeconfig / kube-context or the in-cluster service
// account; ok is false when no Kustomization is given.
func fluxOption(cfg *config.Config, getenv func(string) string, logf func(string, ...any)) (opt promote.Option, ok bool, err error) {
	if len(cfg.FluxKustomizations) == 0 {
		return nil, false, nil
	}
	refs, err := flux.ParseRefs(cfg.FluxKustomizations)
	if err != nil {
		return nil, false, err
	}
	c, err := flux.New(flux.WithKubeconfig(cfg.Kubeconfig), flux.WithContext(cfg.KubeContext), flux.WithLogf(logf), flux.WithGetenv(getenv))
	if err != nil {
		return nil, false, err
	}
	return promote.WithConfirmer(&fluxConfirmer{c: c, refs: refs, reconcile: cfg.FluxReconcile}), true, nil
}
