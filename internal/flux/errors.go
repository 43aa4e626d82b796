package flux

import (
	"fmt"
	"strings"
)

// DeployError is a Kustomization that failed or timed out: its last status.
type DeployError struct {
	Status    Status
	TimedOut  bool
	lastError error
	cause     error
}

// Error gives the reason and the last status.
func (e *DeployError) Error() string {
	var b strings.Builder
	if e.TimedOut {
		fmt.Fprintf(&b, "timed out waiting for Flux Kustomization %s", e.Status.Ref)
	} else {
		fmt.Fprintf(&b, "Flux Kustomization %s failed", e.Status.Ref)
	}
	if e.Status.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Status.Reason)
	}
	if e.lastError != nil {
		fmt.Fprintf(&b, "; last error: %v", e.lastError)
	}
	return b.String()
}

// Unwrap returns the context error of a timeout.
func (e *DeployError) Unwrap() error { return e.cause }

// Hint names what a person should do.
func (e *DeployError) Hint() string {
	switch {
	case e.TimedOut:
		return "look at the Kustomization (flux get ks -A, kubectl describe kustomization); raise timeout if the rollout is just slow"
	case strings.Contains(e.Status.Reason, "suspended"):
		return "resume it (flux resume ks NAME), or leave it out of flux-kustomizations while it is paused on purpose"
	}
	return "look at the Kustomization and its source (flux get ks -A, flux events), fix the manifests or the cluster, and promote again"
}

// SupersededError means a later commit that contains ours replaced our
// image values before Flux applied ours: ours will never be deployed as
// such. Superseded() tells callers that want to treat it as the
// `superseded` outcome rather than a failure.
type SupersededError struct {
	Status Status
}

// Error names the Kustomization and the later commit.
func (e *SupersededError) Error() string {
	return fmt.Sprintf("Flux Kustomization %s: superseded: %s", e.Status.Ref, e.Status.Reason)
}

// Superseded reports true.
func (e *SupersededError) Superseded() bool { return true }

// NotFoundError is a Kustomization or source the API does not have (or
// the identity may not read: the hint says both).
type NotFoundError struct {
	Kind string // Kustomization or GitRepository
	Ref  Ref
	// Forbidden is set when the API answered 403 rather than 404.
	Forbidden bool
	err       error
}

// Error names the object.
func (e *NotFoundError) Error() string {
	if e.Forbidden {
		return fmt.Sprintf("Flux %s %s may not be read with these credentials: %v", e.Kind, e.Ref, e.err)
	}
	return fmt.Sprintf("Flux %s %s does not exist", e.Kind, e.Ref)
}

// Unwrap returns the API error.
func (e *NotFoundError) Unwrap() error { return e.err }

// Hint names the fix.
func (e *NotFoundError) Hint() string {
	if e.Forbidden {
		return "grant the identity get, list and watch on kustomizations.kustomize.toolkit.fluxcd.io and gitrepositories.source.toolkit.fluxcd.io (and patch for flux-reconcile)"
	}
	return "check the name and namespace in flux-kustomizations ([namespace/]name, namespace default flux-system) and the kube-context"
}

// hintError is an error with what to do about it.
type hintError struct {
	msg, hint string
	err       error
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }

type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// BadInput marks the error as the person's input.
func (e *inputError) BadInput() bool { return true }

func badInput(msg string) error { return &inputError{msg: msg} }
