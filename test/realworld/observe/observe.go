// Package observe records what a client of the Argo CD API observes of an application (the
// events of its watch stream, the fields present, the answers to bad requests) in a form that
// can be compared between the real Argo CD and internal/sandbox/argocdsim, so the simulator
// cannot drift from the real thing.
package observe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// Event is one application state the stream delivered.
type Event struct {
	At           time.Duration  `json:"-"` // since the watch began (timing, never compared)
	Type         string         `json:"type"`
	Sync         string         `json:"sync"`
	Health       string         `json:"health"`
	Revision     string         `json:"revision"`
	OperationSet bool           `json:"operationSet"`
	OpPhase      string         `json:"opPhase"` // "" when status.operationState is null
	OpRevision   string         `json:"opRevision"`
	Raw          map[string]any `json:"-"`
}

// Watch follows GET /api/v1/stream/applications?name=app (Server-Sent Events) and hands each
// event to fn until fn answers true, ctx ends or the stream closes.
func Watch(ctx context.Context, base, token, app string, fn func(Event) bool) error {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/stream/applications?name="+url.QueryEscape(app), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("watching %s: %w", app, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("watching %s: %s: %s", app, resp.Status, b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue
		}
		var msg struct {
			Result struct {
				Type        string         `json:"type"`
				Application map[string]any `json:"application"`
			} `json:"result"`
		}
		if err := json.Unmarshal(bytes.TrimSpace(data), &msg); err != nil {
			return fmt.Errorf("watching %s: decoding an event: %w", app, err)
		}
		ev := FromApp(msg.Result.Application)
		ev.Type, ev.At = msg.Result.Type, time.Since(start)
		if fn(ev) {
			return nil
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("watching %s: %w", app, err)
	}
	return ctx.Err()
}

// FromApp reduces an application object to an Event.
func FromApp(app map[string]any) Event {
	s := func(path ...string) string {
		v, _ := dig(app, path...).(string)
		return v
	}
	ev := Event{
		Sync: s("status", "sync", "status"), Health: s("status", "health", "status"),
		Revision:     s("status", "sync", "revision"),
		OperationSet: dig(app, "operation") != nil,
		OpPhase:      s("status", "operationState", "phase"),
		OpRevision:   s("status", "operationState", "syncResult", "revision"),
		Raw:          app,
	}
	if ev.Revision == "" { // a multi-source application: the first source's revision
		if rs, ok := dig(app, "status", "sync", "revisions").([]any); ok && len(rs) > 0 {
			ev.Revision, _ = rs[0].(string)
		}
	}
	if ev.OpRevision == "" {
		if rs, ok := dig(app, "status", "operationState", "syncResult", "revisions").([]any); ok && len(rs) > 0 {
			ev.OpRevision, _ = rs[0].(string)
		}
	}
	return ev
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// DeployedAt reports whether ev is Argo CD's own "deployed" of rev: Synced and Healthy at rev
// with no operation in flight.
func (ev Event) DeployedAt(rev string) bool {
	return ev.Sync == "Synced" && ev.Health == "Healthy" && ev.Revision == rev && !ev.OperationSet &&
		(ev.OpPhase == "" || ev.OpPhase == "Succeeded")
}

// Moments are the points of a sync that the client's readiness rule depends on, in the order
// Argo CD shows them after a push and a refresh.
var Moments = []string{
	"operation set, operationState null",
	"operationState Running",
	"operationState Succeeded at ours while sync is OutOfSync",
	"Synced at ours, health Progressing",
	"Synced and Healthy at ours, no operation",
}

// MomentsOf lists, in order of first appearance, the Moments a sequence of events shows for a
// sync of ours.
func MomentsOf(evs []Event, ours string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, e := range evs {
		switch {
		case e.OperationSet && e.OpPhase == "":
			add(Moments[0])
		case e.OpPhase == "Running":
			add(Moments[1])
		case e.OpPhase == "Succeeded" && e.OpRevision == ours && e.Sync == "OutOfSync":
			add(Moments[2])
		case e.Sync == "Synced" && e.Revision == ours && e.Health == "Progressing":
			add(Moments[3])
		case e.DeployedAt(ours):
			add(Moments[4])
		}
	}
	return out
}

// Fields lists the JSON paths present in an application object (arrays as [], down to depth).
// Map keys that are data (labels, annotations) are cut at their parent.
func Fields(app map[string]any, depth int) []string {
	set := map[string]bool{}
	var walk func(prefix string, v any, d int)
	walk = func(prefix string, v any, d int) {
		if prefix != "" {
			set[prefix] = true
		}
		if d == 0 {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			if strings.HasSuffix(prefix, ".labels") || strings.HasSuffix(prefix, ".annotations") {
				return
			}
			for k, c := range t {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, c, d-1)
			}
		case []any:
			for _, c := range t {
				walk(prefix+"[]", c, d-1)
			}
		}
	}
	walk("", app, depth)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ClientFields are the paths of an application that internal/argocd reads: each present in
// the real Argo CD's answer must be present in the simulator's.
var ClientFields = []string{
	"metadata.name", "metadata.namespace",
	"spec.source.repoURL", "spec.source.targetRevision", "spec.source.path",
	"spec.syncPolicy.automated",
	"status.sync.status", "status.sync.revision", "status.sync.comparedTo",
	"status.health.status",
	"status.operationState.phase", "status.operationState.message", "status.operationState.startedAt",
	"status.operationState.finishedAt", "status.operationState.syncResult.revision",
	"status.operationState.syncResult.resources", "status.operationState.operation.sync.revision",
	"status.reconciledAt", "status.resources", "status.resources[].health", "status.resources[].kind",
	"status.resources[].name", "status.resources[].status", "status.summary", "status.history",
}

// Present is the subset of want that fields holds.
func Present(fields, want []string) []string {
	var out []string
	for _, w := range want {
		if slices.Contains(fields, w) {
			out = append(out, w)
		}
	}
	return out
}

// Answer is how the API answered one request a client can get wrong.
type Answer struct {
	Status  int    `json:"status"`  // 0: no answer (not even headers) within the wait
	Message string `json:"message"` // the body's "message"
}

// Answers are the answers to the requests of Probe.
type Answers struct {
	MissingApp      Answer `json:"missingApp"`      // GET of an application that does not exist
	NoToken         Answer `json:"noToken"`         // GET without a token
	BadToken        Answer `json:"badToken"`        // GET with a JWT Argo CD did not sign
	GarbageToken    Answer `json:"garbageToken"`    // GET with a token that is not a JWT
	BadPassword     Answer `json:"badPassword"`     // POST /api/v1/session with a wrong password
	MissingStream   Answer `json:"missingStream"`   // the stream of a missing application
	SessionHasToken bool   `json:"sessionHasToken"` // POST /api/v1/session with the right password answers a token
}

// Probe asks the API what clients get wrong: a missing application, no or a bad token, a wrong
// password, the stream of a missing application (waited for streamWait).
func Probe(ctx context.Context, base, token, user, password string, streamWait time.Duration) (Answers, error) {
	var a Answers
	var err error
	if a.MissingApp, err = call(ctx, http.MethodGet, base+"/api/v1/applications/no-such-app-realworld", token, nil); err != nil {
		return a, err
	}
	if a.NoToken, err = call(ctx, http.MethodGet, base+"/api/v1/applications/no-such-app-realworld", "", nil); err != nil {
		return a, err
	}
	bad := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl"
	if a.BadToken, err = call(ctx, http.MethodGet, base+"/api/v1/applications/no-such-app-realworld", bad, nil); err != nil {
		return a, err
	}
	if a.GarbageToken, err = call(ctx, http.MethodGet, base+"/api/v1/applications/no-such-app-realworld", "not-a-jwt", nil); err != nil {
		return a, err
	}
	if a.BadPassword, err = call(ctx, http.MethodPost, base+"/api/v1/session", "", map[string]string{"username": user, "password": password + "-wrong"}); err != nil {
		return a, err
	}
	good, err := callBody(ctx, http.MethodPost, base+"/api/v1/session", "", map[string]string{"username": user, "password": password})
	if err != nil {
		return a, err
	}
	a.SessionHasToken = strings.Contains(good, `"token":"`)
	sctx, cancel := context.WithTimeout(ctx, streamWait)
	defer cancel()
	a.MissingStream, err = call(sctx, http.MethodGet, base+"/api/v1/stream/applications?name=no-such-app-realworld", token, nil)
	if errors.Is(err, context.DeadlineExceeded) || sctx.Err() != nil {
		a.MissingStream, err = Answer{}, nil
	}
	return a, err
}

func call(ctx context.Context, method, u, token string, body any) (Answer, error) {
	status, b, err := do(ctx, method, u, token, body)
	if err != nil {
		return Answer{}, err
	}
	var m struct{ Message string }
	_ = json.Unmarshal(b, &m)
	return Answer{Status: status, Message: m.Message}, nil
}

func callBody(ctx context.Context, method, u, token string, body any) (string, error) {
	_, b, err := do(ctx, method, u, token, body)
	return string(b), err
}

// do makes one request; it answers the status and the body (up to 1 MiB).
func do(ctx context.Context, method, u, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && ctx.Err() == nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// Recording is what the client observed of one push scenario, stored as testdata.
type Recording struct {
	Source  string   `json:"source"`  // "Argo CD v3.2.11 on kube-apiserver v1.34.2" or "argocdsim"
	Moments []string `json:"moments"` // MomentsOf the stream after the push and refresh
	Fields  []string `json:"fields"`  // Present(Fields(final app), ClientFields)
	Events  []Event  `json:"events"`  // the stream's events, reduced (revisions as "prev"/"ours"/other)
	Answers Answers  `json:"answers"`
}

// Anonymize replaces revisions by "prev" and "ours" so recordings of two worlds compare.
func Anonymize(evs []Event, prev, ours string) []Event {
	name := func(r string) string {
		switch r {
		case "":
			return ""
		case ours:
			return "ours"
		case prev:
			return "prev"
		}
		return "other"
	}
	out := make([]Event, len(evs))
	for i, e := range evs {
		e.Revision, e.OpRevision, e.Raw = name(e.Revision), name(e.OpRevision), nil
		out[i] = e
	}
	return out
}

// Compare says how got (the simulator) differs from want (the real Argo CD): every moment
// the real one showed must appear, in the same order; every client field it had must be
// there; the answers to bad requests must have the same status (and message where the real
// one gave one).
func Compare(want, got Recording) []string {
	var diffs []string
	i := 0
	for _, m := range want.Moments {
		j := slices.Index(got.Moments[i:], m)
		if j < 0 {
			diffs = append(diffs, fmt.Sprintf("moment %q: the real Argo CD shows it (moments %q), the simulator does not in that order (moments %q)", m, want.Moments, got.Moments))
			continue
		}
		i += j + 1
	}
	for _, f := range want.Fields {
		if !slices.Contains(got.Fields, f) {
			diffs = append(diffs, fmt.Sprintf("field %s: present in the real answer, missing in the simulator's", f))
		}
	}
	cmpAnswer := func(name string, w, g Answer) {
		if w.Status != g.Status || (w.Message != "" && w.Message != g.Message) {
			diffs = append(diffs, fmt.Sprintf("%s: real answers %d %q, the simulator %d %q", name, w.Status, w.Message, g.Status, g.Message))
		}
	}
	cmpAnswer("GET of a missing application", want.Answers.MissingApp, got.Answers.MissingApp)
	cmpAnswer("GET without a token", want.Answers.NoToken, got.Answers.NoToken)
	cmpAnswer("GET with a bad token", want.Answers.BadToken, got.Answers.BadToken)
	if want.Answers.GarbageToken.Status != 0 {
		cmpAnswer("GET with a token that is not a JWT", want.Answers.GarbageToken, got.Answers.GarbageToken)
	}
	cmpAnswer("login with a wrong password", want.Answers.BadPassword, got.Answers.BadPassword)
	cmpAnswer("stream of a missing application", want.Answers.MissingStream, got.Answers.MissingStream)
	if want.Answers.SessionHasToken != got.Answers.SessionHasToken {
		diffs = append(diffs, fmt.Sprintf("login answers a token: real %v, simulator %v", want.Answers.SessionHasToken, got.Answers.SessionHasToken))
	}
	return diffs
}

// RealRecording is the file in testdata holding the recording of the real Argo CD.
const RealRecording = "real-argocd-v3.2.11.json"
