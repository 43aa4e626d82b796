// Package promote is the pipeline of gitops-promote: validate the images,
// fetch the branch head, edit the overlays on it (internal/kustomize), build
// them, land the commit (push; on a lost race re-fetch and re-run the semantic
// edit; on a protected branch in auto mode, a pull request with auto-merge),
// wait for the merge, and confirm the revision in Argo CD.
//
// It imports config, kustomize and image only. The git remote, GitHub and
// Argo CD are reached through the small interfaces declared here ([Repo],
// [Snapshot], [GitHub], [ArgoCD]); cmd/gitops-promote injects adapters over
// internal/gitrepo, internal/github and internal/argocd. Adapters mark their
// errors with [Mark] so the pipeline can tell a lost race ([ErrNonFastForward],
// [ErrStaleData]) and a protected branch ([ErrProtected]) from the rest.
package promote
