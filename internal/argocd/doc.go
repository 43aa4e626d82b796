// Package argocd confirms a deploy in Argo CD: it asks Argo CD to look at
// Git now (refresh), watches the application through the server-sent event
// stream (falling back to polling), and decides with the pure function Ready
// whether exactly our commit, or a later one whose history contains it, is
// applied and healthy.
//
// The client speaks Argo CD's REST API over net/http with its own small
// types for the fields it reads; it never imports Argo CD's Go module.
// Git ancestry is injected by the caller (WaitSpec.Contains), so this
// package neither runs git nor imports os/exec.
package argocd
