// Command gitops-promote sets container images in kustomize overlays of a
// config repository, lands the commit on the branch the cluster tracks (by
// push, or through a pull request with auto-merge where the branch is
// protected) and waits in Argo CD until exactly that commit is applied and
// healthy.
//
// Verbs:
//
//	gitops-promote run   [flags]   what the GitHub Action runs (INPUT_* in a runner)
//	gitops-promote edit  [flags]   edit a local folder, print the diff
//	gitops-promote wait  [flags]   confirm a given --revision in Argo CD
//
// Flags carry the input names of the Action (--images, --overlays,
// --argocd-apps, ...); list flags repeat and take newline-separated values.
// Exit codes: 0 success (changed or not), 2 bad input, 1 anything else.
package main
