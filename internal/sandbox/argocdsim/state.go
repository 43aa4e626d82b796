package argocdsim

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// appState is the controller's view of one application.
type appState struct {
	cfg         App
	uid         string
	created     time.Time
	reconcileMu sync.Mutex // one reconcile at a time

	// Guarded by Server.mu.
	rv           int64
	revision     string    // compared: head of the branch at the last reconcile
	desired      *manifest // at revision
	live         *manifest // applied by the last successful sync
	syncStatus   string
	rollout      string // Progressing, Healthy or Degraded for rollout kinds
	rolloutMsg   string
	rolloutSeq   int
	conditions   []condition
	reconciledAt time.Time
	op           *operation
	opState      *operationState
	history      []revisionHist
	failure      Failure
	failMsg      string
	failedAuto   string // auto-sync does not retry a revision whose sync failed
	deployedAt   map[string]time.Time
	subs         map[*subscriber]struct{}
}

type subscriber struct {
	ch   chan []byte // MODIFIED events, already encoded
	gone chan struct{}
}

func (s *Server) newApp(ctx context.Context, a App) (*appState, error) {
	if a.Namespace == "" {
		a.Namespace = s.cfg.controllerNS
	}
	if a.Project == "" {
		a.Project = "default"
	}
	if a.Name == "" || a.BareRepoDir == "" || a.TargetRevision == "" {
		return nil, fmt.Errorf("app %q: Name, BareRepoDir and TargetRevision are required", a.Name)
	}
	head, err := resolve(ctx, a.BareRepoDir, "refs/heads/"+a.TargetRevision)
	if err != nil {
		return nil, fmt.Errorf("app %q: %w", a.Name, err)
	}
	m, err := s.renderCached(ctx, a.BareRepoDir, head, a.Path, false)
	if err != nil {
		return nil, fmt.Errorf("app %q: rendering %s at %s: %w", a.Name, a.Path, head, err)
	}
	now := s.now()
	st := &appState{
		cfg: a, uid: uuid(), created: now, rv: 1,
		revision: head, desired: m, live: m, syncStatus: "Synced", rollout: "Healthy",
		reconciledAt: now, deployedAt: map[string]time.Time{head: time.Now()},
		subs: map[*subscriber]struct{}{},
	}
	st.opState = &operationState{
		Operation: operation{Sync: &syncOperation{Revision: head}, InitiatedBy: initiatedBy{Automated: a.AutoSync, Username: initiator(a.AutoSync)}},
		Phase:     "Succeeded", Message: "successfully synced (all tasks run)",
		StartedAt: stamp(now), FinishedAt: stamp(now),
		SyncResult: &syncResult{Revision: head, Source: st.source(), Resources: resultsFor(m, "Synced", "")},
	}
	st.history = []revisionHist{{ID: 0, Revision: head, DeployStartedAt: stamp(now), DeployedAt: stamp(now), Source: st.source()}}
	return st, nil
}

func initiator(auto bool) string {
	if auto {
		return ""
	}
	return "admin"
}

func uuid() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (a *appState) source() source {
	return source{RepoURL: a.cfg.RepoURL, Path: a.cfg.Path, TargetRevision: a.cfg.TargetRevision}
}

// reconcile compares the head of the tracked branch with the live state,
// as the application controller does on a poll or a refresh, and starts
// an auto-sync when OutOfSync.
func (s *Server) reconcile(ctx context.Context, a *appState, hard bool) {
	a.reconcileMu.Lock()
	defer a.reconcileMu.Unlock()
	head, err := resolve(ctx, a.cfg.BareRepoDir, "refs/heads/"+a.cfg.TargetRevision)
	var m *manifest
	if err == nil {
		m, err = s.renderCached(ctx, a.cfg.BareRepoDir, head, a.cfg.Path, hard)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	now := s.now()
	a.reconciledAt = now
	if err == nil && a.failure == ComparisonError {
		err = fmt.Errorf("%s", orDefault(a.failMsg, "`kustomize build .` failed exit status 1: Error: accumulating resources: ..."))
	}
	if err != nil {
		if head != "" {
			a.revision = head
		}
		a.syncStatus = "Unknown"
		a.setCondition("ComparisonError", "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "+err.Error(), now)
		s.changed(a)
		return
	}
	a.dropCondition("ComparisonError")
	a.revision, a.desired = head, m
	if a.live != nil && a.live.digest == m.digest {
		a.syncStatus = "Synced"
	} else {
		a.syncStatus = "OutOfSync"
	}
	if a.syncStatus == "OutOfSync" && a.cfg.AutoSync && a.op == nil && a.failedAuto != head && !a.lastSucceeded(head) {
		s.startOp(a, head, true)
	}
	s.changed(a)
}

func (a *appState) lastSucceeded(rev string) bool {
	return a.opState != nil && a.opState.Phase == "Succeeded" && a.opState.SyncResult != nil && a.opState.SyncResult.Revision == rev
}

// startOp records a sync operation and finishes it after the sync
// duration. Called with s.mu held.
//
// As the real controller (v3.2.11) does, the operation is first set with
// status.operationState null (the previous operation's state is cleared),
// and the state says Running only in a later update.
func (s *Server) startOp(a *appState, rev string, auto bool) {
	a.op = &operation{Sync: &syncOperation{Revision: rev}, InitiatedBy: initiatedBy{Automated: auto, Username: initiator(auto)}}
	a.opState = nil
	op := a.op
	s.cfg.logf("argocdsim: %s: sync of %s requested", a.cfg.Name, rev)
	s.after(s.cfg.syncDuration/4, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ctx.Err() != nil || a.op != op {
			return
		}
		a.opState = &operationState{Operation: *op, Phase: "Running", Message: "waiting for healthy state of apps/Deployment", StartedAt: stamp(s.now())}
		s.cfg.logf("argocdsim: %s: sync of %s running", a.cfg.Name, rev)
		s.changed(a)
	})
	s.after(s.cfg.syncDuration, func() { s.finishOp(a, rev, auto) })
}

// finishOp applies rev (or fails as scripted), then reconciles as Argo CD
// does right after an operation.
func (s *Server) finishOp(a *appState, rev string, auto bool) {
	m, rerr := s.renderCached(s.ctx, a.cfg.BareRepoDir, rev, a.cfg.Path, false)
	s.mu.Lock()
	if s.ctx.Err() != nil || a.op == nil {
		s.mu.Unlock()
		return
	}
	now := s.now()
	if a.opState == nil { // a sync shorter than the step to Running
		a.opState = &operationState{Operation: *a.op, Phase: "Running", StartedAt: stamp(now)}
	}
	a.opState.FinishedAt = stamp(now)
	a.op = nil
	msg := ""
	if a.failure == SyncFailed {
		msg = orDefault(a.failMsg, "Deployment.apps \""+a.cfg.Name+"\" is invalid: spec.template.spec.containers[0].image: Required value")
	} else if rerr != nil {
		msg = rerr.Error()
	}
	if msg != "" {
		a.opState.Phase = "Failed"
		a.opState.Message = "one or more objects failed to apply, reason: " + msg
		a.opState.SyncResult = &syncResult{Revision: rev, Source: a.source(), Resources: resultsFor(m, "SyncFailed", msg)}
		if auto {
			a.failedAuto = rev
			a.setCondition("SyncError", "Failed sync attempt to "+rev+": "+a.opState.Message, now)
		}
		s.cfg.logf("argocdsim: %s: sync of %s failed", a.cfg.Name, rev)
		s.changed(a)
		s.mu.Unlock()
		return
	}
	a.opState.Phase = "Succeeded"
	a.opState.Message = "successfully synced (all tasks run)"
	a.opState.SyncResult = &syncResult{Revision: rev, Source: a.source(), Resources: resultsFor(m, "Synced", "configured")}
	a.dropCondition("SyncError")
	changedLive := a.live == nil || a.live.digest != m.digest
	a.live = m
	a.history = append(a.history, revisionHist{ID: int64(len(a.history)), Revision: rev, DeployStartedAt: a.opState.StartedAt, DeployedAt: stamp(now), Source: a.source()})
	s.cfg.logf("argocdsim: %s: sync of %s succeeded", a.cfg.Name, rev)
	// The real controller first reports the operation Succeeded while sync is still
	// OutOfSync and health as before; the next reconcile says Synced, Progressing.
	s.changed(a)
	if changedLive && hasRollout(m) {
		a.rollout, a.rolloutMsg = "Progressing", "Waiting for rollout to finish: 0 of 1 updated replicas are available..."
		a.rolloutSeq++
		seq := a.rolloutSeq
		s.after(s.cfg.rolloutDelay, func() { s.finishRollout(a, seq) })
	}
	s.mu.Unlock()
	s.reconcile(s.ctx, a, false)
}

// finishRollout ends a rollout Healthy, or Degraded as scripted.
func (s *Server) finishRollout(a *appState, seq int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.rolloutSeq != seq {
		return
	}
	if a.failure == Degraded {
		a.rollout, a.rolloutMsg = "Degraded", orDefault(a.failMsg, fmt.Sprintf("Deployment %q exceeded its progress deadline", firstRollout(a.live)))
	} else {
		a.rollout, a.rolloutMsg = "Healthy", ""
	}
	a.reconciledAt = s.now()
	s.cfg.logf("argocdsim: %s: rollout %s", a.cfg.Name, a.rollout)
	s.changed(a)
}

func hasRollout(m *manifest) bool { return firstRollout(m) != "" }

func firstRollout(m *manifest) string {
	if m == nil {
		return ""
	}
	for _, r := range m.resources {
		if _, rollout := hasHealth(r.Kind); rollout {
			return r.Name
		}
	}
	return ""
}

func resultsFor(m *manifest, status, msg string) []resourceResult {
	if m == nil {
		return nil
	}
	out := make([]resourceResult, 0, len(m.resources))
	for _, r := range m.resources {
		text := msg
		if msg == "configured" {
			kind := strings.ToLower(r.Kind)
			if r.Group != "" {
				kind += "." + r.Group
			}
			text = kind + "/" + r.Name + " configured"
		}
		out = append(out, resourceResult{Group: r.Group, Version: r.Version, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Status: status, Message: text, HookPhase: "Running", SyncPhase: "Sync"})
	}
	return out
}

func (a *appState) setCondition(typ, msg string, now time.Time) {
	for i := range a.conditions {
		if a.conditions[i].Type == typ {
			a.conditions[i].Message = msg
			return
		}
	}
	a.conditions = append(a.conditions, condition{Type: typ, Message: msg, LastTransitionTime: stamp(now)})
}

func (a *appState) dropCondition(typ string) {
	out := a.conditions[:0]
	for _, c := range a.conditions {
		if c.Type != typ {
			out = append(out, c)
		}
	}
	a.conditions = out
}

// changed bumps the resource version, records a deploy and tells the
// watchers. Called with s.mu held.
func (s *Server) changed(a *appState) {
	a.rv++
	app := a.snapshot()
	if app.Status.Sync.Status == "Synced" && app.Status.Health.Status == "Healthy" && a.op == nil {
		if _, ok := a.deployedAt[a.revision]; !ok {
			a.deployedAt[a.revision] = time.Now()
		}
	}
	data, err := json.Marshal(map[string]any{"result": map[string]any{"type": "MODIFIED", "application": app}})
	if err != nil {
		return
	}
	for sub := range a.subs {
		select {
		case sub.ch <- data:
		default: // a watcher that does not read: drop it, it will reconnect
			delete(a.subs, sub)
			close(sub.gone)
		}
	}
}

// snapshot renders the application as Argo CD's API shows it. Called
// with s.mu held.
func (a *appState) snapshot() application {
	app := application{
		APIVersion: "argoproj.io/v1alpha1", Kind: "Application",
		Metadata: objectMeta{Name: a.cfg.Name, Namespace: a.cfg.Namespace, UID: a.uid,
			ResourceVersion: strconv.FormatInt(a.rv, 10), Generation: a.rv, CreationTimestamp: stamp(a.created)},
		Spec: appSpec{Project: a.cfg.Project, Source: a.source(),
			Destination: destination{Server: "https://kubernetes.default.svc", Namespace: a.cfg.DestNamespace}},
		Operation: a.op,
	}
	if a.cfg.AutoSync {
		app.Spec.SyncPolicy = &syncPolicy{Automated: &automated{Prune: true, SelfHeal: true}}
	}
	st := &app.Status
	st.Sync = syncStatus{Status: a.syncStatus, Revision: a.revision, ComparedTo: comparedTo{Source: a.source(), Destination: app.Spec.Destination}}
	st.ReconciledAt = stamp(a.reconciledAt)
	st.OperationState = a.opState
	st.History = a.history
	st.Conditions = a.conditions
	st.SourceType = "Kustomize"
	st.ControllerNS = "argocd"
	if a.live != nil {
		st.Summary.Images = a.live.images
	}
	st.Resources, st.Health = a.resources()
	return app
}

// resources lists the desired resources with their sync status and the
// health of what is live, and the application's aggregated health.
func (a *appState) resources() ([]resourceStatus, healthStatus) {
	m := a.desired
	if m == nil {
		m = a.live
	}
	if m == nil {
		return nil, healthStatus{Status: "Missing"}
	}
	liveHas := map[string]string{}
	if a.live != nil {
		for i, r := range a.live.resources {
			liveHas[resKey(r)] = a.live.hashes[i]
		}
	}
	worst := "Healthy"
	msg := ""
	out := make([]resourceStatus, 0, len(m.resources))
	for i, r := range m.resources {
		r.Status = "Synced"
		h, inLive := liveHas[resKey(r)]
		if !inLive || h != m.hashes[i] {
			r.Status = "OutOfSync"
		}
		assessed, rollout := hasHealth(r.Kind)
		switch {
		case !inLive && assessed:
			r.Health = &healthStatus{Status: "Missing"}
		case rollout:
			r.Health = &healthStatus{Status: a.rollout, Message: a.rolloutMsg}
		case assessed:
			r.Health = &healthStatus{Status: "Healthy"}
		}
		if r.Health != nil && rank(r.Health.Status) > rank(worst) {
			worst, msg = r.Health.Status, r.Health.Message
		}
		out = append(out, r)
	}
	return out, healthStatus{Status: worst, Message: msg}
}

func resKey(r resourceStatus) string {
	return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name
}

// rank orders health as Argo CD does when aggregating: the worst wins.
func rank(h string) int {
	switch h {
	case "Healthy":
		return 0
	case "Suspended":
		return 1
	case "Progressing":
		return 2
	case "Missing":
		return 3
	case "Degraded":
		return 4
	default:
		return 5
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
