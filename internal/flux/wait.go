package flux

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/gitops-promote/gitops-promote/internal/parallel"
)

// WaitSpec says what to wait for. Zero durations take the defaults shown.
type WaitSpec struct {
	Refs     []Ref
	Revision string // our commit, a full SHA
	// Reconcile requests a reconcile of each source, then each
	// Kustomization, as `flux reconcile ks NAME --with-source` does.
	Reconcile bool

	// Contains reports whether ours is in the history of rev (git
	// ancestry). Nil: only Revision itself counts.
	Contains func(ctx context.Context, rev, ours string) (bool, error)
	// Keeps reports whether rev, a later commit containing ours, still
	// holds our image values. Nil: every such commit keeps them.
	Keeps func(ctx context.Context, rev string) (bool, error)

	StatusInterval time.Duration // a status line through logf; 12s
	PollInterval   time.Duration // GET period while the watch does not work; 2s
	ResyncInterval time.Duration // GET period while the watch works; 30s
	RequestTimeout time.Duration // bound of one GET or PATCH; 30s
	ReconnectMin   time.Duration // first reconnect delay of the watch; 250ms
	ReconnectMax   time.Duration // longest reconnect delay; 10s
}

var fullSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

func (s *WaitSpec) normalize() error {
	if len(s.Refs) == 0 {
		return badInput("flux-kustomizations: no Kustomization to wait for")
	}
	if !fullSHA.MatchString(s.Revision) {
		return badInput(fmt.Sprintf("revision %q is not a full commit SHA", s.Revision))
	}
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{
		{&s.StatusInterval, 12 * time.Second}, {&s.PollInterval, 2 * time.Second},
		{&s.ResyncInterval, 30 * time.Second}, {&s.RequestTimeout, 30 * time.Second},
		{&s.ReconnectMin, 250 * time.Millisecond}, {&s.ReconnectMax, 10 * time.Second},
	} {
		if *d.p <= 0 {
			*d.p = d.def
		}
	}
	return nil
}

// Status is where one Kustomization stood when the wait ended.
type Status struct {
	Ref         Ref
	State       State
	Reason      string
	Ready       string // the Ready condition's status: True, False, Unknown, "" (none)
	ReadyReason string // its reason
	Applied     string // lastAppliedRevision
	Attempted   string // lastAttemptedRevision
	Elapsed     time.Duration
}

// Line is a one-line summary for progress output.
func (s Status) Line() string {
	return fmt.Sprintf("%s: %s, Ready=%s (%s), applied %s", s.Ref, s.State, orUnknown(s.Ready), orUnknown(s.ReadyReason), orNone(shortRev(s.Applied)))
}

// Wait waits, for every Kustomization in parallel, until Flux has applied
// spec.Revision (or a later commit that contains it and keeps our image
// values) and the Kustomization is Ready, as Ready decides. With
// spec.Reconcile it first asks the source, then the Kustomization, to
// reconcile now. It follows both objects through the watch API (from the
// resourceVersion it read, reconnecting; polling while the watch does not
// work). ctx bounds the whole wait.
//
// It returns one status per Kustomization, in the order of spec.Refs, and
// an error when any did not deploy: *DeployError (failed, suspended, or
// timed out with the last status), *SupersededError, *NotFoundError, or a
// bad-input error. The first failure stops the wait for the others.
func (c *Client) Wait(ctx context.Context, spec WaitSpec) ([]Status, error) {
	if err := spec.normalize(); err != nil {
		return nil, err
	}
	// One token for the whole wait: Kustomizations sharing a source ask it
	// with the same value, so none waits for a request another overwrote.
	token := ""
	if spec.Reconcile {
		token = c.now().UTC().Format(time.RFC3339Nano)
	}
	rel := &relations{spec: &spec, known: map[string]Relation{}}
	out, errs := parallel.Each(ctx, len(spec.Refs), func(ctx context.Context, i int) (Status, error) {
		w := &waiter{c: c, spec: &spec, ref: spec.Refs[i], token: token, rel: rel, start: c.now()}
		return w.run(ctx)
	})
	return out, errors.Join(errs...)
}

// relations finds out, through git, how commits stand to ours; answers
// are kept, errors are not (the next snapshot asks again).
type relations struct {
	spec  *WaitSpec
	mu    sync.Mutex
	known map[string]Relation
}

func (r *relations) of(ctx context.Context, sha string) (Relation, error) {
	if sha == "" {
		return Unrelated, nil
	}
	if sha == r.spec.Revision {
		return Ours, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rel, ok := r.known[sha]; ok {
		return rel, nil
	}
	if r.spec.Contains == nil {
		return Unrelated, nil
	}
	ok, err := r.spec.Contains(ctx, sha, r.spec.Revision)
	if err != nil {
		return Unrelated, fmt.Errorf("checking whether %s contains %s: %w", sha[:7], r.spec.Revision[:7], err)
	}
	rel := Unrelated
	if ok {
		rel = Descendant
		if r.spec.Keeps != nil {
			keeps, err := r.spec.Keeps(ctx, sha)
			if err != nil {
				return Unrelated, fmt.Errorf("checking whether %s keeps our image values: %w", sha[:7], err)
			}
			if !keeps {
				rel = Replaced
			}
		}
	}
	r.known[sha] = rel
	return rel, nil
}

// waiter follows one Kustomization and its source.
type waiter struct {
	c     *Client
	spec  *WaitSpec
	ref   Ref
	token string
	rel   *relations
	start time.Time

	ks      *Kustomization
	src     *GitRepository
	srcRef  Ref
	ksRV    string
	srcRV   string
	asked   bool // the Kustomization was asked to reconcile
	verdict Verdict
	lastErr error
	said    string // the last reason logged
}

// event is what a watch goroutine reports.
type event struct {
	obj  *unstructured.Unstructured // an object as it is now; nil with up/err
	gone bool                       // the object was deleted
	up   bool                       // the watch (re)connected
	err  error                      // the watch went down (nil: it ended normally)
	dead bool                       // the watch cannot work here: poll only
}

func (w *waiter) run(ctx context.Context) (Status, error) {
	for {
		err := w.first(ctx)
		if err == nil {
			break
		}
		if fatal(err) {
			return w.status(), err
		}
		if ctx.Err() != nil {
			return w.status(), w.timeout(ctx)
		}
		if w.lastErr == nil {
			w.c.logf("flux: %s: %v; trying again every %s", w.ref, err, w.spec.PollInterval)
		}
		w.lastErr = err
		if !sleep(ctx, w.spec.PollInterval) {
			return w.status(), w.timeout(ctx)
		}
	}
	if done, err := w.evaluate(ctx); done || err != nil {
		return w.status(), err
	}
	if w.token != "" {
		w.c.logf("flux: %s: requesting a reconcile of GitRepository %s, then of the Kustomization (as flux reconcile ks --with-source)", w.ref, w.srcRef)
		if err := w.request(ctx, GitRepositoryResource, "GitRepository", w.srcRef); err != nil {
			return w.status(), err
		}
	}

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	ksEvents, srcEvents := make(chan event), make(chan event)
	go w.c.watch(wctx, KustomizationResource, w.ref, w.ksRV, w.spec, ksEvents)
	go w.c.watch(wctx, GitRepositoryResource, w.srcRef, w.srcRV, w.spec, srcEvents)
	var live [2]bool // the watch of the Kustomization [0] and of the source [1] delivers

	poll := time.NewTimer(w.spec.PollInterval)
	defer poll.Stop()
	tick := time.NewTicker(w.spec.StatusInterval)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return w.status(), w.timeout(ctx)
		case e := <-ksEvents:
			err = w.onEvent(e, true, &live[0], poll)
		case e := <-srcEvents:
			err = w.onEvent(e, false, &live[1], poll)
		case <-poll.C:
			err = w.reread(ctx)
			if live[0] && live[1] {
				poll.Reset(w.spec.ResyncInterval)
			} else {
				poll.Reset(w.spec.PollInterval)
			}
		case <-tick.C:
			w.c.logf("flux: %s (%s)", w.status().Line(), w.verdict.Reason)
			continue
		}
		if err != nil {
			return w.status(), err
		}
		if done, err := w.evaluate(ctx); done || err != nil {
			return w.status(), err
		}
	}
}

// first reads the Kustomization and its source.
func (w *waiter) first(ctx context.Context) error {
	if err := w.getKS(ctx); err != nil {
		return err
	}
	if k := w.ks.Spec.SourceRef.Kind; k != "GitRepository" {
		return &hintError{
			msg:  fmt.Sprintf("Flux Kustomization %s applies a %s source (%s): only GitRepository sources carry the git commit to confirm", w.ref, k, w.ks.Spec.SourceRef.Name),
			hint: "leave this Kustomization out of flux-kustomizations, or confirm it through the commit statuses Flux posts (status-contexts)",
		}
	}
	w.srcRef = w.ks.Source()
	return w.getSource(ctx)
}

func (w *waiter) getKS(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, w.spec.RequestTimeout)
	defer cancel()
	u, err := w.c.get(rctx, KustomizationResource, "Kustomization", w.ref)
	if err != nil {
		return err
	}
	return w.takeKS(u)
}

func (w *waiter) getSource(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, w.spec.RequestTimeout)
	defer cancel()
	u, err := w.c.get(rctx, GitRepositoryResource, "GitRepository", w.srcRef)
	if err != nil {
		var nf *NotFoundError
		if errors.As(err, &nf) && !nf.Forbidden {
			return &DeployError{Status: w.failedStatus(fmt.Sprintf("its source GitRepository %s does not exist", w.srcRef))}
		}
		return err
	}
	return w.takeSource(u)
}

func (w *waiter) takeKS(u *unstructured.Unstructured) error {
	ks, err := decode[Kustomization](u)
	if err != nil {
		return err
	}
	w.ks, w.ksRV = ks, u.GetResourceVersion()
	return nil
}

func (w *waiter) takeSource(u *unstructured.Unstructured) error {
	g, err := decode[GitRepository](u)
	if err != nil {
		return err
	}
	w.src, w.srcRV = g, u.GetResourceVersion()
	return nil
}

// onEvent takes one message of a watch; live says whether that watch
// delivers (while one does not, the waiter polls every PollInterval).
func (w *waiter) onEvent(e event, isKS bool, live *bool, poll *time.Timer) error {
	switch {
	case e.obj != nil && isKS:
		*live = true
		return w.takeKS(e.obj)
	case e.obj != nil:
		*live = true
		return w.takeSource(e.obj)
	case e.gone && isKS:
		return &NotFoundError{Kind: "Kustomization", Ref: w.ref}
	case e.gone:
		return &DeployError{Status: w.failedStatus(fmt.Sprintf("its source GitRepository %s was deleted", w.srcRef))}
	case e.up:
		*live = true
	default:
		if e.err != nil {
			w.lastErr = e.err
		}
		if *live {
			*live = false
			poll.Reset(w.spec.PollInterval)
		}
	}
	return nil
}

// fatal reports whether reading again cannot help: a missing or
// forbidden object, refused credentials, a failed verdict, bad input.
func fatal(err error) bool {
	var (
		nf *NotFoundError
		de *DeployError
		he *hintError
		ie *inputError
	)
	return errors.As(err, &nf) || errors.As(err, &de) || errors.As(err, &he) || errors.As(err, &ie)
}

// reread GETs both objects (the polling path, and the resync while the
// watch works). Errors other than a missing object are kept for the
// timeout message and retried.
func (w *waiter) reread(ctx context.Context) error {
	for _, get := range []func(context.Context) error{w.getKS, w.getSource} {
		if err := get(ctx); err != nil {
			if fatal(err) {
				return err
			}
			if ctx.Err() != nil {
				return nil // the loop reports the timeout
			}
			w.lastErr = err
		}
	}
	return nil
}

// evaluate asks the Kustomization to reconcile once the source handled our
// request, then applies the rule to what is known now.
func (w *waiter) evaluate(ctx context.Context) (bool, error) {
	if w.token != "" && !w.asked && w.src != nil && handled(w.src.Status.LastHandledReconcileAt, w.token) && w.src.Status.LastHandledReconcileAt != "" {
		if err := w.request(ctx, KustomizationResource, "Kustomization", w.ref); err != nil {
			return true, err
		}
		w.asked = true
	}
	snap := Snapshot{Kustomization: w.ks, Source: w.src, Token: w.token, Relations: map[string]Relation{}}
	for _, rev := range []string{w.ks.Status.LastAppliedRevision, w.ks.Status.LastAttemptedRevision, w.src.ArtifactRevision()} {
		sha := RevisionSHA(rev)
		r, err := w.rel.of(ctx, sha)
		if err != nil {
			w.lastErr = err
		}
		if sha != "" {
			snap.Relations[sha] = r
		}
	}
	w.verdict = Ready(snap)
	if w.verdict.Reason != w.said && w.verdict.State == Waiting {
		w.c.logf("flux: %s: waiting: %s", w.ref, w.verdict.Reason)
		w.said = w.verdict.Reason
	}
	switch w.verdict.State {
	case Deployed:
		w.c.logf("flux: %s: deployed (%s) after %s", w.ref, w.verdict.Reason, w.elapsed().Round(100*time.Millisecond))
		return true, nil
	case Failed:
		return true, &DeployError{Status: w.status()}
	case Superseded:
		return true, &SupersededError{Status: w.status()}
	}
	return false, nil
}

// request annotates an object with our token.
func (w *waiter) request(ctx context.Context, gvr schema.GroupVersionResource, kind string, ref Ref) error {
	rctx, cancel := context.WithTimeout(ctx, w.spec.RequestTimeout)
	defer cancel()
	return w.c.requestReconcile(rctx, gvr, kind, ref, w.token)
}

func (w *waiter) elapsed() time.Duration { return w.c.now().Sub(w.start) }

func (w *waiter) status() Status {
	s := Status{Ref: w.ref, State: w.verdict.State, Reason: w.verdict.Reason, Elapsed: w.elapsed()}
	if w.ks != nil {
		if c := w.ks.Condition("Ready"); c != nil {
			s.Ready, s.ReadyReason = c.Status, c.Reason
		}
		s.Applied, s.Attempted = w.ks.Status.LastAppliedRevision, w.ks.Status.LastAttemptedRevision
	}
	return s
}

func (w *waiter) failedStatus(reason string) Status {
	w.verdict = Verdict{State: Failed, Reason: reason}
	return w.status()
}

func (w *waiter) timeout(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err() // another Kustomization failed, or the caller gave up
	}
	st := w.status()
	if st.Reason == "" {
		st.Reason = "no status read yet"
	}
	return &DeployError{Status: st, TimedOut: true, lastError: w.lastErr, cause: ctx.Err()}
}

// watch follows one object through the watch API from rv, reconnecting
// with backoff, and reports on out until ctx ends. A watch the API refuses
// for good (forbidden, not supported) reports dead: the waiter polls.
func (c *Client) watch(ctx context.Context, gvr schema.GroupVersionResource, ref Ref, rv string, spec *WaitSpec, out chan<- event) {
	send := func(e event) bool {
		select {
		case out <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = spec.ReconnectMin, spec.ReconnectMax
	sel := fields.OneTermEqualSelector("metadata.name", ref.Name).String()
	for ctx.Err() == nil {
		wi, err := c.resource(gvr, ref.Namespace).Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			dead := apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err) || apierrors.IsNotAcceptable(err)
			if !send(event{err: fmt.Errorf("watching %s: %w", ref, err), dead: dead}) || dead {
				return
			}
			if !sleep(ctx, b.NextBackOff()) {
				return
			}
			continue
		}
		if !send(event{up: true}) {
			wi.Stop()
			return
		}
		var delivered bool
		rv, delivered = c.drain(ctx, wi, ref, rv, send, b)
		wi.Stop()
		if !delivered && !sleep(ctx, b.NextBackOff()) {
			return // a watch that ends at once is not retried in a busy loop
		}
	}
}

// drain reads one watch until it ends and returns the resourceVersion to
// continue from ("" after 410 Gone: the next watch starts from now, with
// the object's current state first), and whether it delivered anything.
func (c *Client) drain(ctx context.Context, wi watch.Interface, ref Ref, rv string, send func(event) bool, b *backoff.ExponentialBackOff) (next string, delivered bool) {
	for {
		var (
			e  watch.Event
			ok bool
		)
		select {
		case <-ctx.Done():
			return rv, delivered
		case e, ok = <-wi.ResultChan():
		}
		if !ok {
			return rv, delivered
		}
		switch e.Type {
		case watch.Added, watch.Modified, watch.Deleted:
			u, isU := e.Object.(*unstructured.Unstructured)
			if !isU || u.GetName() != ref.Name {
				continue
			}
			b.Reset()
			delivered = true
			if v := u.GetResourceVersion(); v != "" {
				rv = v
			}
			ev := event{obj: u}
			if e.Type == watch.Deleted {
				ev = event{gone: true}
			}
			if !send(ev) {
				return rv, delivered
			}
		case watch.Bookmark:
			if u, isU := e.Object.(*unstructured.Unstructured); isU && u.GetResourceVersion() != "" {
				rv, delivered = u.GetResourceVersion(), true
			}
		case watch.Error:
			err := apierrors.FromObject(e.Object)
			if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
				return "", true
			}
			send(event{err: fmt.Errorf("watching %s: %w", ref, err)})
			return rv, false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}
