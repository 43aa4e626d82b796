package argocd

import "time"

// Application is the subset of Argo CD's v1alpha1.Application that the
// readiness rule and the status report read.
type Application struct {
	Metadata  ObjectMeta `json:"metadata"`
	Spec      AppSpec    `json:"spec"`
	Status    AppStatusV `json:"status"`
	Operation *Operation `json:"operation,omitempty"`
}

// ObjectMeta names an Application.
type ObjectMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// AppSpec is the desired state: one source, or several (multi-source).
type AppSpec struct {
	Project    string      `json:"project,omitempty"`
	Source     *Source     `json:"source,omitempty"`
	Sources    []Source    `json:"sources,omitempty"`
	SyncPolicy *SyncPolicy `json:"syncPolicy,omitempty"`
}

// Source is where an application's manifests come from.
type Source struct {
	RepoURL        string `json:"repoURL"`
	Path           string `json:"path,omitempty"`
	TargetRevision string `json:"targetRevision,omitempty"`
	Ref            string `json:"ref,omitempty"`
}

// SyncPolicy tells whether Argo CD syncs on its own.
type SyncPolicy struct {
	Automated *struct{} `json:"automated,omitempty"`
}

// AppStatusV is Argo CD's ApplicationStatus (named so to leave AppStatus to
// the outcome of Wait).
type AppStatusV struct {
	Sync           SyncStatus      `json:"sync"`
	Health         HealthStatus    `json:"health"`
	OperationState *OperationState `json:"operationState,omitempty"`
	ReconciledAt   *time.Time      `json:"reconciledAt,omitempty"`
	Conditions     []Condition     `json:"conditions,omitempty"`
	Resources      []Resource      `json:"resources,omitempty"`
	Summary        Summary         `json:"summary,omitempty"`
}

// SyncStatus is the result of the last comparison with Git.
type SyncStatus struct {
	Status    string   `json:"status"`
	Revision  string   `json:"revision,omitempty"`
	Revisions []string `json:"revisions,omitempty"`
}

// HealthStatus is an aggregated or per-resource health.
type HealthStatus struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// Operation is the sync requested and not yet picked up or finished.
type Operation struct {
	Sync *SyncOperation `json:"sync,omitempty"`
}

// SyncOperation names the revision(s) a sync is for.
type SyncOperation struct {
	Revision  string   `json:"revision,omitempty"`
	Revisions []string `json:"revisions,omitempty"`
}

// OperationState is the state of the current or last operation.
type OperationState struct {
	Operation  Operation   `json:"operation"`
	Phase      string      `json:"phase"`
	Message    string      `json:"message,omitempty"`
	StartedAt  *time.Time  `json:"startedAt,omitempty"`
	FinishedAt *time.Time  `json:"finishedAt,omitempty"`
	SyncResult *SyncResult `json:"syncResult,omitempty"`
}

// SyncResult is what the last sync applied.
type SyncResult struct {
	Revision  string           `json:"revision,omitempty"`
	Revisions []string         `json:"revisions,omitempty"`
	Resources []ResourceResult `json:"resources,omitempty"`
}

// ResourceResult is the outcome of a sync for one resource.
type ResourceResult struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status,omitempty"`
	Message   string `json:"message,omitempty"`
}

// Condition is an application condition such as ComparisonError.
type Condition struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Resource is one managed Kubernetes resource with its sync and health.
type Resource struct {
	Group     string        `json:"group,omitempty"`
	Version   string        `json:"version,omitempty"`
	Kind      string        `json:"kind"`
	Namespace string        `json:"namespace,omitempty"`
	Name      string        `json:"name"`
	Status    string        `json:"status,omitempty"`
	Health    *HealthStatus `json:"health,omitempty"`
}

// Summary lists the images of the application's resources.
type Summary struct {
	Images []string `json:"images,omitempty"`
}

// Phases, sync and health statuses, and condition types as Argo CD spells them.
const (
	PhaseRunning     = "Running"
	PhaseTerminating = "Terminating"
	PhaseFailed      = "Failed"
	PhaseError       = "Error"
	PhaseSucceeded   = "Succeeded"

	SyncSynced    = "Synced"
	SyncOutOfSync = "OutOfSync"

	HealthHealthy     = "Healthy"
	HealthProgressing = "Progressing"
	HealthDegraded    = "Degraded"

	CondComparisonError  = "ComparisonError"
	CondInvalidSpecError = "InvalidSpecError"
	CondSyncError        = "SyncError"
)
