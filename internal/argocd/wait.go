package argocd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/parallel"
)

// WaitSpec says what to wait for. Zero durations take the defaults shown.
type WaitSpec struct {
	Apps     []AppRef
	Revision string // our commit, a full SHA
	RepoURL  string // our repository: picks the source of multi-source apps; "" = the only source
	Refresh  string // "normal" (default, ""), "hard" or "none"
	Sync     bool   // request a sync of Revision for apps without auto-sync

	// Contains reports whether ours is in the history of rev (git
	// ancestry). Nil: only Revision itself counts.
	Contains func(ctx context.Context, rev, ours string) (bool, error)

	// Keeps reports whether rev, a later commit that contains ours, still
	// holds our image values. False: a later change replaced them and Argo
	// CD applies that one, so the wait ends with a *SupersededError. Nil:
	// every such commit counts as keeping them.
	Keeps func(ctx context.Context, rev string) (bool, error)

	// Images returns the image references we set that an application must
	// run (kustomize's newName:newTag@digest). When it returns any,
	// "deployed" also needs the cluster to agree: every live container
	// whose desired image is one of them runs it (managed-resources), and
	// status.summary.images, where it lists images, holds it. Nil: the
	// status alone decides.
	Images func(app AppRef) []string

	StatusInterval    time.Duration // a status line through Logf; 12s
	PollInterval      time.Duration // GET period when the stream does not work; 3s
	ResyncInterval    time.Duration // GET period while the stream works; 30s
	RequestTimeout    time.Duration // bound of one GET or POST; 30s
	RefreshTimeout    time.Duration // bound of the refresh GET (it blocks until reconciled); 30s
	FirstEventTimeout time.Duration // a stream with no event by then is buffered; 10s
	IdleTimeout       time.Duration // a stream silent that long (no keepalive) is dead; 45s
	ReconnectMin      time.Duration // first reconnect delay; 250ms
	ReconnectMax      time.Duration // longest reconnect delay; 10s
}

var fullSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

func (s *WaitSpec) normalize() error {
	if len(s.Apps) == 0 {
		return badInput("no Argo CD application to wait for: set argocd-apps")
	}
	if !fullSHA.MatchString(s.Revision) {
		return badInput(fmt.Sprintf("revision %q is not a full commit SHA", s.Revision))
	}
	switch s.Refresh {
	case "":
		s.Refresh = "normal"
	case "normal", "hard", "none":
	default:
		return badInput(fmt.Sprintf("argocd-refresh %q is not normal, hard or none", s.Refresh))
	}
	for _, d := range []struct {
		p   *time.Duration
		def time.Duration
	}{
		{&s.StatusInterval, 12 * time.Second}, {&s.PollInterval, 3 * time.Second},
		{&s.ResyncInterval, 30 * time.Second}, {&s.RequestTimeout, 30 * time.Second},
		{&s.RefreshTimeout, 30 * time.Second}, {&s.FirstEventTimeout, 10 * time.Second},
		{&s.IdleTimeout, 45 * time.Second}, {&s.ReconnectMin, 250 * time.Millisecond},
		{&s.ReconnectMax, 10 * time.Second},
	} {
		if *d.p <= 0 {
			*d.p = d.def
		}
	}
	return nil
}

// Wait waits, for every application in parallel, until Argo CD has applied
// spec.Revision (or a commit whose history contains it) and the application
// is healthy, as Ready decides. It refreshes first (unless Refresh is
// "none"), requests a sync when spec.Sync is set, then follows the watch
// stream, re-reading the application now and then and polling where the
// stream does not work. ctx bounds the whole wait.
//
// It returns one status per application, in the order of spec.Apps, and an
// error when any did not deploy: *DeployError (failed, or timed out with
// the last status), *AppNotFoundError, *AuthError, or a bad-input error.
// The first failure stops the wait for the others.
func (c *Client) Wait(ctx context.Context, spec WaitSpec) ([]AppStatus, error) {
	if err := spec.normalize(); err != nil {
		return nil, err
	}
	out, errs := parallel.Each(ctx, len(spec.Apps), func(ctx context.Context, i int) (AppStatus, error) {
		w := &waiter{c: c, spec: &spec, ref: spec.Apps[i], start: c.now(), contains: map[string]bool{}, keeps: map[string]bool{}, repoURL: spec.RepoURL}
		return w.run(ctx)
	})
	return out, errors.Join(errs...)
}

// waiter follows one application.
type waiter struct {
	c        *Client
	spec     *WaitSpec
	ref      AppRef
	start    time.Time
	last     *Application
	verdict  Verdict
	lastErr  error
	contains map[string]bool
	keeps    map[string]bool
	repoURL  string // spec.RepoURL; "" once a single source is known to differ

	syncPending    bool
	syncTries      int
	refreshPending bool // the refresh failed; the next GET asks for it again
	streaming      bool // the watch delivers events: re-read only every ResyncInterval
}

func (w *waiter) run(ctx context.Context) (AppStatus, error) {
	app, err := w.first(ctx)
	if err != nil {
		return w.status(), err
	}
	if done, err := w.take(ctx, app); done || err != nil {
		return w.status(), err
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	events := make(chan streamMsg)
	go w.c.watch(sctx, w.ref, w.spec, events)

	poll := time.NewTimer(w.spec.PollInterval)
	defer poll.Stop()
	tick := time.NewTicker(w.spec.StatusInterval)
	defer tick.Stop()
	for {
		var app *Application
		select {
		case <-ctx.Done():
			return w.status(), w.timeout(ctx)
		case m := <-events:
			app, err = w.onStream(m, poll)
		case <-poll.C:
			app, err = w.onPoll(ctx, poll)
		case <-tick.C:
			err = w.onTick(ctx)
		}
		if err != nil {
			return w.status(), err
		}
		if done, err := w.take(ctx, app); done || err != nil {
			return w.status(), err
		}
	}
}

// take observes a snapshot (nil: none), requesting the sync first when
// this is the first snapshot and spec.Sync is set.
func (w *waiter) take(ctx context.Context, app *Application) (bool, error) {
	if app == nil {
		return false, nil
	}
	if w.last == nil {
		w.last = app
		if done, err := w.observe(ctx, app); done || err != nil {
			return done, err
		}
		if w.spec.Sync {
			return false, w.requestSync(ctx)
		}
		return false, nil
	}
	return w.observe(ctx, app)
}

// onStream handles a message of the watch: an event, or the stream going
// down (poll meanwhile) or away for good.
func (w *waiter) onStream(m streamMsg, poll *time.Timer) (*Application, error) {
	switch m.state {
	case streamFatal:
		return nil, m.err
	case streamDown, streamUnsupported:
		if m.err != nil {
			w.lastErr = m.err
		}
		if w.streaming {
			w.streaming = false
			poll.Reset(w.spec.PollInterval)
		}
		return nil, nil
	}
	if !w.streaming {
		w.streaming = true
		poll.Reset(w.spec.ResyncInterval)
	}
	return m.app, nil
}

// onPoll re-reads the application: the safety net while streaming, the
// source of truth while not. It carries a refresh that did not complete.
func (w *waiter) onPoll(ctx context.Context, poll *time.Timer) (*Application, error) {
	defer func() {
		if w.streaming {
			poll.Reset(w.spec.ResyncInterval)
		} else {
			poll.Reset(w.spec.PollInterval)
		}
	}()
	refresh := ""
	if w.refreshPending {
		refresh = w.spec.Refresh
	}
	app, err := w.get(ctx, refresh)
	switch {
	case err == nil:
		if refresh != "" {
			w.refreshPending = false
		}
		return app, nil
	case fatal(err):
		return nil, err
	case ctx.Err() != nil:
		return nil, w.timeout(ctx)
	}
	w.lastErr = err
	return nil, nil
}

// onTick logs the status line and asks again for a sync Argo CD could not
// take yet.
func (w *waiter) onTick(ctx context.Context) error {
	w.c.logf("argocd: %s (%s)", w.status().Line(), w.verdict.Reason)
	if w.syncPending {
		return w.requestSync(ctx)
	}
	return nil
}

// first asks Argo CD to refresh and returns the application; a refresh
// that does not finish in time, or a temporary error, is logged and
// returns nil so that the watch takes over.
func (w *waiter) first(ctx context.Context) (*Application, error) {
	if w.spec.Refresh != "none" {
		w.c.logf("argocd: %s: asking Argo CD to look at Git now (refresh=%s)", w.ref, w.spec.Refresh)
		app, passing, err := w.firstGet(ctx, w.spec.Refresh)
		if !passing {
			return app, err
		}
		w.refreshPending = true
		w.c.logf("argocd: %s: refresh did not complete (%v); watching, and asking again with the next read", w.ref, w.lastErr)
	}
	app, passing, err := w.firstGet(ctx, "")
	if !passing {
		return app, err
	}
	return nil, nil
}

// firstGet reads the application once. passing is true for an error the watch can ride
// out (kept in lastErr); otherwise app or err is the answer to return.
func (w *waiter) firstGet(ctx context.Context, refresh string) (app *Application, passing bool, err error) {
	app, err = w.get(ctx, refresh)
	switch {
	case err == nil:
		return app, false, nil
	case fatal(err):
		return nil, false, err
	case ctx.Err() != nil:
		return nil, false, w.timeout(ctx)
	}
	w.lastErr = err
	return nil, true, nil
}

// get reads the application, with ?refresh= when refresh is not "".
func (w *waiter) get(ctx context.Context, refresh string) (*Application, error) {
	timeout := w.spec.RequestTimeout
	q := url.Values{}
	if refresh != "" {
		q.Set("refresh", refresh)
		timeout = w.spec.RefreshTimeout
	}
	if w.ref.Namespace != "" {
		q.Set("appNamespace", w.ref.Namespace)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var app Application
	err := w.c.do(rctx, http.MethodGet, "/api/v1/applications/"+url.PathEscape(w.ref.Name), q, nil, &app)
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden {
			return nil, &AppNotFoundError{App: w.ref, err: apiErr}
		}
		if rctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("reading application %s: no answer within %s", w.ref, timeout)
		}
		err = w.c.permanent(err, http.MethodGet, "/api/v1/applications/"+url.PathEscape(w.ref.Name), "an Argo CD Application as JSON")
		return nil, fmt.Errorf("reading application %s: %w", w.ref, err)
	}
	return &app, nil
}

// fatal reports whether waiting longer cannot help.
func fatal(err error) bool {
	var authErr *AuthError
	var nf *AppNotFoundError
	var he *hintError
	var pe *PermanentError
	return errors.As(err, &authErr) || errors.As(err, &nf) || errors.As(err, &he) || errors.As(err, &pe)
}

// observe records a snapshot and applies Ready; done is true when deployed.
func (w *waiter) observe(ctx context.Context, app *Application) (bool, error) {
	w.last = app
	if err := w.checkSource(app); err != nil {
		return false, err
	}
	rev := app.Revision(w.repoURL)
	contains := w.descends(ctx, rev)
	if contains && !w.keepsOurs(ctx, rev) {
		return false, &SupersededError{App: w.ref, Revision: rev, Ours: w.spec.Revision}
	}
	w.verdict = Ready(app, w.spec.Revision, contains)
	if w.verdict.State == Waiting && !contains {
		w.verdict.Reason = w.notYet(app, rev)
	}
	if w.verdict.State == Deployed && w.spec.Images != nil {
		if images := w.spec.Images(w.ref); len(images) > 0 {
			v, err := w.liveVerdict(ctx, app, images)
			if err != nil {
				return false, err
			}
			w.verdict = v
		}
	}
	switch w.verdict.State {
	case Deployed:
		w.c.logf("argocd: %s: deployed (%s) after %s", w.ref, w.verdict.Reason, w.elapsed().Round(time.Second))
		return true, nil
	case Failed:
		return false, &DeployError{Status: w.status(), Unready: app.Unready(), Conditions: app.conditionLines(), lastError: w.lastErr}
	}
	if w.nothingWillSync(ctx, app, rev) {
		return false, &hintError{
			msg: fmt.Sprintf("Argo CD application %s has auto-sync off and shows %s OutOfSync: nothing will sync it, so it would wait until the timeout",
				w.ref, short(rev)),
			hint: "set argocd-sync: true to request the sync, or turn on auto-sync for the application (spec.syncPolicy.automated)",
		}
	}
	return false, nil
}

// nothingWillSync reports an application without auto-sync that has compared our commit (or a
// descendant), is OutOfSync and has no operation, while we were not asked to sync it.
func (w *waiter) nothingWillSync(ctx context.Context, app *Application, rev string) bool {
	if w.spec.Sync || (app.Spec.SyncPolicy != nil && app.Spec.SyncPolicy.Automated != nil) {
		return false
	}
	if app.Status.Sync.Status != SyncOutOfSync || app.Operation != nil {
		return false
	}
	if op := app.Status.OperationState; op != nil && (op.Phase == PhaseRunning || op.Phase == PhaseTerminating) {
		return false
	}
	return w.descends(ctx, rev)
}

// checkSource refuses an application that does not track our repository.
func (w *waiter) checkSource(app *Application) error {
	if len(app.Spec.Sources) > 0 {
		if w.spec.RepoURL == "" {
			if len(app.Spec.Sources) > 1 {
				return &hintError{msg: fmt.Sprintf("Argo CD application %s has %d sources and no repository URL was given to pick ours", w.ref, len(app.Spec.Sources)),
					hint: "set repository-url to the config repository's git URL"}
			}
			return nil
		}
		if app.SourceIndex(w.spec.RepoURL) < 0 {
			return w.notOurs(app)
		}
		return nil
	}
	if w.repoURL != "" && app.Spec.Source != nil && !SameRepo(app.Spec.Source.RepoURL, w.repoURL) {
		// A mirror or another URL of the same repository has the same
		// commits: warn once and go by the only source's revision.
		w.c.logf("argocd: %s: warning: the application deploys from %s, not %s; checking its revision anyway",
			w.ref, app.Spec.Source.RepoURL, w.repoURL)
		w.repoURL = ""
	}
	return nil
}

func (w *waiter) notOurs(app *Application) error {
	var repos []string
	if app.Spec.Source != nil {
		repos = append(repos, app.Spec.Source.RepoURL)
	}
	for _, s := range app.Spec.Sources {
		repos = append(repos, s.RepoURL)
	}
	return &hintError{
		msg:  fmt.Sprintf("Argo CD application %s deploys from %s, not from %s", w.ref, strings.Join(repos, ", "), w.spec.RepoURL),
		hint: "list in argocd-apps only applications whose source is the config repository",
	}
}

// descends reports whether rev is ours or contains it; answers are cached,
// errors are not (a later check may succeed).
func (w *waiter) descends(ctx context.Context, rev string) bool {
	if rev == "" {
		return false
	}
	if rev == w.spec.Revision || (len(rev) >= 7 && len(rev) < len(w.spec.Revision) && strings.HasPrefix(w.spec.Revision, strings.ToLower(rev))) {
		return true // ours, or ours abbreviated
	}
	if w.spec.Contains == nil || !fullSHA.MatchString(rev) {
		return false
	}
	if v, ok := w.contains[rev]; ok {
		return v
	}
	ok, err := w.spec.Contains(ctx, rev, w.spec.Revision)
	if err != nil {
		w.lastErr = fmt.Errorf("checking whether %s contains %s: %w", short(rev), short(w.spec.Revision), err)
		w.c.logf("argocd: %s: %v", w.ref, w.lastErr)
		return false
	}
	w.contains[rev] = ok
	return ok
}

// keepsOurs reports whether rev, ours or a descendant, still holds our
// image values; answers are cached. Not knowing (an error) counts as yes:
// the live check after the sync still looks at the images.
func (w *waiter) keepsOurs(ctx context.Context, rev string) bool {
	if w.spec.Keeps == nil || !fullSHA.MatchString(rev) || rev == w.spec.Revision {
		return true
	}
	if v, ok := w.keeps[rev]; ok {
		return v
	}
	ok, err := w.spec.Keeps(ctx, rev)
	if err != nil {
		w.c.logf("argocd: %s: could not tell whether %s keeps our images: %v", w.ref, short(rev), err)
		return true
	}
	w.keeps[rev] = ok
	return ok
}

// requestSync asks Argo CD to sync our revision, unless the application
// syncs on its own or a descendant of ours is already what Argo CD
// compared (then that one, so as not to roll back a later commit).
func (w *waiter) requestSync(ctx context.Context) error {
	app := w.last
	if app == nil {
		w.syncPending = true
		return nil
	}
	w.syncPending = false
	if app.Spec.SyncPolicy != nil && app.Spec.SyncPolicy.Automated != nil {
		if w.syncTries == 0 {
			w.c.logf("argocd: %s: auto-sync is on; not requesting a sync", w.ref)
		}
		w.syncTries++
		return nil
	}
	cur := app.Revision(w.repoURL)
	if app.Status.Sync.Status == SyncSynced && w.descends(ctx, cur) {
		return nil // ours (or a descendant) is applied already: nothing to sync
	}
	if app.Operation != nil || (app.Status.OperationState != nil && app.Status.OperationState.Phase == PhaseRunning) {
		w.syncPending = true // Argo CD would answer "another operation is already in progress"
		return nil
	}
	rev := w.spec.Revision
	if cur != rev && w.descends(ctx, cur) {
		rev = cur
	}
	body := map[string]any{"name": w.ref.Name, "revision": rev, "prune": false, "dryRun": false}
	if i := app.SourceIndex(w.repoURL); i >= 0 && len(app.Spec.Sources) > 1 {
		delete(body, "revision")
		body["revisions"] = []string{rev}
		body["sourcePositions"] = []string{strconv.Itoa(i + 1)}
	}
	if w.ref.Namespace != "" {
		body["appNamespace"] = w.ref.Namespace
	}
	w.syncTries++
	rctx, cancel := context.WithTimeout(ctx, w.spec.RequestTimeout)
	defer cancel()
	err := w.c.do(rctx, http.MethodPost, "/api/v1/applications/"+url.PathEscape(w.ref.Name)+"/sync", nil, body, nil)
	var apiErr *APIError
	switch {
	case err == nil:
		w.c.logf("argocd: %s: sync of %s requested", w.ref, short(rev))
		return nil
	case errors.As(err, &apiErr) && strings.Contains(apiErr.Message, "another operation is already in progress"):
		w.c.logf("argocd: %s: another operation is in progress; will ask again", w.ref)
		w.syncPending = true
		return nil
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden:
		return &AppNotFoundError{App: w.ref, err: apiErr}
	case fatal(err):
		return err
	case errors.As(err, &apiErr) && !apiErr.Temporary():
		return fmt.Errorf("requesting a sync of %s to %s: %w", w.ref, short(rev), err)
	}
	w.lastErr = err
	w.syncPending = true
	return nil
}

func (w *waiter) elapsed() time.Duration { return w.c.now().Sub(w.start) }

func (w *waiter) status() AppStatus {
	return statusOf(w.ref, w.last, w.repoURL, w.verdict, w.elapsed())
}

func (w *waiter) timeout(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	e := &DeployError{Status: w.status(), TimedOut: true, lastError: w.lastErr, cause: ctx.Err()}
	if w.last != nil {
		e.Unready, e.Conditions = w.last.Unready(), w.last.conditionLines()
	}
	return e
}

// hintError is a plain failure with a what-to-do sentence.
type hintError struct{ msg, hint string }

func (e *hintError) Error() string { return e.msg }

// Hint names the fix.
func (e *hintError) Hint() string { return e.hint }

// notYet says why an application is not at our revision yet, naming the
// revision of our source (not another source's) and never two revisions
// that print alike.
func (w *waiter) notYet(app *Application, rev string) string {
	if rev == "" {
		if len(app.Spec.Sources) > 1 && w.repoURL != "" {
			return fmt.Sprintf("Argo CD has not reported a revision for the source from %s yet", w.repoURL)
		}
		return "Argo CD has not compared any revision yet"
	}
	got, ours := short(rev), short(w.spec.Revision)
	if got == ours {
		got, ours = rev, w.spec.Revision
	}
	return fmt.Sprintf("at revision %s, which does not contain %s yet", got, ours)
}
