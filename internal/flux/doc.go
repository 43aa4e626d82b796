// Package flux confirms a deploy that Flux applies: it asks Flux to
// reconcile now the way `flux reconcile ks NAME --with-source` does
// (annotating the GitRepository, then the Kustomization, with
// reconcile.fluxcd.io/requestedAt), follows both objects through the
// Kubernetes watch API (falling back to polling), and decides with the pure
// function Ready whether exactly our commit, or a later one whose history
// contains it and keeps our image values, is applied and Ready.
//
// It speaks to the Kubernetes API through client-go's dynamic client with
// its own small types for the fields it reads; it never imports Flux's Go
// modules. Git ancestry is injected by the caller (WaitSpec.Contains and
// WaitSpec.Keeps), so this package runs no git.
package flux
