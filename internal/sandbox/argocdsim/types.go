package argocdsim

// The JSON shapes of Argo CD's v1alpha1.Application, as far as the
// simulator fills them. Field names and nesting follow Argo CD's API.

type application struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   objectMeta `json:"metadata"`
	Spec       appSpec    `json:"spec"`
	Status     appStatus  `json:"status"`
	Operation  *operation `json:"operation,omitempty"`
}

type objectMeta struct {
	Name              string `json:"name"`
	Namespace         string `json:"namespace"`
	UID               string `json:"uid"`
	ResourceVersion   string `json:"resourceVersion"`
	Generation        int64  `json:"generation"`
	CreationTimestamp string `json:"creationTimestamp"`
}

type appSpec struct {
	Project     string      `json:"project"`
	Source      source      `json:"source"`
	Destination destination `json:"destination"`
	SyncPolicy  *syncPolicy `json:"syncPolicy,omitempty"`
}

type source struct {
	RepoURL        string `json:"repoURL"`
	Path           string `json:"path"`
	TargetRevision string `json:"targetRevision"`
}

type destination struct {
	Server    string `json:"server"`
	Namespace string `json:"namespace,omitempty"`
}

type syncPolicy struct {
	Automated *automated `json:"automated,omitempty"`
}

type automated struct {
	Prune    bool `json:"prune,omitempty"`
	SelfHeal bool `json:"selfHeal,omitempty"`
}

type appStatus struct {
	Resources      []resourceStatus `json:"resources,omitempty"`
	Sync           syncStatus       `json:"sync"`
	Health         healthStatus     `json:"health"`
	History        []revisionHist   `json:"history,omitempty"`
	Conditions     []condition      `json:"conditions,omitempty"`
	ReconciledAt   string           `json:"reconciledAt,omitempty"`
	OperationState *operationState  `json:"operationState,omitempty"`
	SourceType     string           `json:"sourceType,omitempty"`
	Summary        summary          `json:"summary"`
	ControllerNS   string           `json:"controllerNamespace,omitempty"`
}

type resourceStatus struct {
	Group     string        `json:"group,omitempty"`
	Version   string        `json:"version"`
	Kind      string        `json:"kind"`
	Namespace string        `json:"namespace,omitempty"`
	Name      string        `json:"name"`
	Status    string        `json:"status"`
	Health    *healthStatus `json:"health,omitempty"`
}

type syncStatus struct {
	Status     string     `json:"status"`
	ComparedTo comparedTo `json:"comparedTo"`
	Revision   string     `json:"revision,omitempty"`
}

type comparedTo struct {
	Source      source      `json:"source"`
	Destination destination `json:"destination"`
}

type healthStatus struct {
	Status             string `json:"status"`
	Message            string `json:"message,omitempty"`
	LastTransitionTime string `json:"lastTransitionTime,omitempty"`
}

type revisionHist struct {
	ID              int64  `json:"id"`
	Revision        string `json:"revision"`
	DeployStartedAt string `json:"deployStartedAt"`
	DeployedAt      string `json:"deployedAt"`
	Source          source `json:"source"`
}

type condition struct {
	Type               string `json:"type"`
	Message            string `json:"message"`
	LastTransitionTime string `json:"lastTransitionTime,omitempty"`
}

type operation struct {
	Sync        *syncOperation `json:"sync,omitempty"`
	InitiatedBy initiatedBy    `json:"initiatedBy"`
}

type initiatedBy struct {
	Username  string `json:"username,omitempty"`
	Automated bool   `json:"automated,omitempty"`
}

type syncOperation struct {
	Revision    string   `json:"revision,omitempty"`
	Prune       bool     `json:"prune,omitempty"`
	SyncOptions []string `json:"syncOptions,omitempty"`
}

type operationState struct {
	Operation  operation   `json:"operation"`
	Phase      string      `json:"phase"`
	Message    string      `json:"message,omitempty"`
	SyncResult *syncResult `json:"syncResult,omitempty"`
	StartedAt  string      `json:"startedAt"`
	FinishedAt string      `json:"finishedAt,omitempty"`
}

type syncResult struct {
	Resources []resourceResult `json:"resources,omitempty"`
	Revision  string           `json:"revision"`
	Source    source           `json:"source"`
}

type resourceResult struct {
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	HookPhase string `json:"hookPhase,omitempty"`
	SyncPhase string `json:"syncPhase,omitempty"`
}

type summary struct {
	Images []string `json:"images,omitempty"`
}

// syncRequest is applicationApplicationSyncRequest.
type syncRequest struct {
	Name         string `json:"name"`
	AppNamespace string `json:"appNamespace"`
	Revision     string `json:"revision"`
	Prune        bool   `json:"prune"`
	DryRun       bool   `json:"dryRun"`
	SyncOptions  *struct {
		Items []string `json:"items"`
	} `json:"syncOptions"`
}

// apiError is the grpc-gateway error body.
type apiError struct {
	Error   string `json:"error"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}
