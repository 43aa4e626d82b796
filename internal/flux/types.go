package flux

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The resources this package reads, at the API versions Flux 2.x serves.
var (
	// KustomizationResource is kustomize.toolkit.fluxcd.io/v1 kustomizations.
	KustomizationResource = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
	// GitRepositoryResource is source.toolkit.fluxcd.io/v1 gitrepositories.
	GitRepositoryResource = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
)

// RequestedAtAnnotation is the annotation `flux reconcile` sets to ask a
// Flux object to reconcile now; the controller echoes its value in
// status.lastHandledReconcileAt once it has.
const RequestedAtAnnotation = "reconcile.fluxcd.io/requestedAt"

// DefaultNamespace is the namespace of a Kustomization named without one.
const DefaultNamespace = "flux-system"

// Ref names a Kustomization.
type Ref struct {
	Namespace string
	Name      string
}

// String returns "namespace/name".
func (r Ref) String() string { return r.Namespace + "/" + r.Name }

var dnsName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// ParseRefs parses the flux-kustomizations input: entries that may each
// hold several newline-separated "[namespace/]name" lines (namespace
// default flux-system); blank lines are skipped. A malformed or repeated
// entry is a bad-input error naming it.
func ParseRefs(entries []string) ([]Ref, error) {
	var (
		out  []Ref
		errs []string
		seen = map[Ref]bool{}
	)
	for _, e := range entries {
		for line := range strings.SplitSeq(e, "\n") {
			s := strings.TrimSpace(line)
			if s == "" {
				continue
			}
			ns, name, found := strings.Cut(s, "/")
			if !found {
				ns, name = DefaultNamespace, s
			}
			r := Ref{Namespace: ns, Name: name}
			switch {
			case !dnsName.MatchString(ns) || !dnsName.MatchString(name) || len(name) > 253 || strings.Contains(name, "/"):
				errs = append(errs, fmt.Sprintf("flux-kustomizations: got %q, want [namespace/]name in lower case (namespace default flux-system)", s))
			case seen[r]:
				errs = append(errs, fmt.Sprintf("flux-kustomizations: lists %q twice", r))
			default:
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	if len(errs) > 0 {
		return nil, badInput(strings.Join(errs, "\n"))
	}
	if len(out) == 0 {
		return nil, badInput("flux-kustomizations: no Kustomization to wait for; give [namespace/]name, one per line")
	}
	return out, nil
}

// Condition is one entry of status.conditions.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"` // True, False, Unknown
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Meta is the part of metadata this package reads.
type Meta struct {
	Name            string            `json:"name"`
	Namespace       string            `json:"namespace"`
	ResourceVersion string            `json:"resourceVersion,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
}

// SourceRef is a Kustomization's spec.sourceRef.
type SourceRef struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"` // "" = the Kustomization's
}

// Kustomization holds the fields of a kustomize.toolkit.fluxcd.io/v1
// Kustomization the readiness rule reads.
type Kustomization struct {
	Metadata Meta `json:"metadata"`
	Spec     struct {
		Suspend   bool      `json:"suspend,omitempty"`
		Path      string    `json:"path,omitempty"`
		SourceRef SourceRef `json:"sourceRef"`
	} `json:"spec"`
	Status struct {
		Conditions             []Condition `json:"conditions,omitempty"`
		LastAppliedRevision    string      `json:"lastAppliedRevision,omitempty"`
		LastAttemptedRevision  string      `json:"lastAttemptedRevision,omitempty"`
		LastHandledReconcileAt string      `json:"lastHandledReconcileAt,omitempty"`
	} `json:"status"`
}

// Ref returns the Kustomization's name.
func (k *Kustomization) Ref() Ref { return Ref{Namespace: k.Metadata.Namespace, Name: k.Metadata.Name} }

// Source returns the namespace and name of the Kustomization's source.
func (k *Kustomization) Source() Ref {
	ns := k.Spec.SourceRef.Namespace
	if ns == "" {
		ns = k.Metadata.Namespace
	}
	return Ref{Namespace: ns, Name: k.Spec.SourceRef.Name}
}

// Condition returns the condition of type t, or nil.
func (k *Kustomization) Condition(t string) *Condition { return find(k.Status.Conditions, t) }

// GitRepository holds the fields of a source.toolkit.fluxcd.io/v1
// GitRepository the readiness rule reads.
type GitRepository struct {
	Metadata Meta `json:"metadata"`
	Spec     struct {
		Suspend bool   `json:"suspend,omitempty"`
		URL     string `json:"url,omitempty"`
		Ref     struct {
			Branch string `json:"branch,omitempty"`
		} `json:"ref"`
	} `json:"spec"`
	Status struct {
		Conditions []Condition `json:"conditions,omitempty"`
		Artifact   *struct {
			Revision string `json:"revision,omitempty"`
		} `json:"artifact,omitempty"`
		LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`
	} `json:"status"`
}

// Condition returns the condition of type t, or nil.
func (g *GitRepository) Condition(t string) *Condition { return find(g.Status.Conditions, t) }

// ArtifactRevision returns status.artifact.revision, or "".
func (g *GitRepository) ArtifactRevision() string {
	if g.Status.Artifact == nil {
		return ""
	}
	return g.Status.Artifact.Revision
}

func find(cs []Condition, t string) *Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// decode converts an object of the dynamic client into one of ours.
func decode[T any](u *unstructured.Unstructured) (*T, error) {
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &out); err != nil {
		return nil, fmt.Errorf("decoding %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return &out, nil
}

var hexSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// RevisionSHA returns the commit SHA of a Flux source revision:
// "main@sha1:<hex>" (Flux 2.x), "main/<hex>" (older), or a bare SHA. It
// returns "" for anything else (an OCI digest, a bucket checksum).
func RevisionSHA(rev string) string {
	s := rev
	if i := strings.LastIndex(s, "sha1:"); i >= 0 {
		s = s[i+len("sha1:"):]
	} else if i := strings.LastIndex(s, "sha256:"); i >= 0 && strings.Contains(s, "@") {
		s = s[i+len("sha256:"):]
	} else if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	if hexSHA.MatchString(s) {
		return s
	}
	return ""
}
