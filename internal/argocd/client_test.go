package argocd

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewRefusesBadInput(t *testing.T) {
	tests := []struct {
		name   string
		server string
		opts   []Option
		want   string // "" = accepted
	}{
		{"host only is https", "argocd.example.com", []Option{WithToken("t")}, ""},
		{"host and port", "argocd.example.com:8443", []Option{WithToken("t")}, ""},
		{"http on loopback", "http://127.0.0.1:8080", []Option{WithToken("t")}, ""},
		{"http elsewhere", "http://argocd.example.com", []Option{WithToken("t")}, "http:// is only for local servers"},
		{"credentials in the URL", "https://admin:pw@argocd.example.com", []Option{WithToken("t")}, "must not carry credentials"},
		{"empty", " ", []Option{WithToken("t")}, "argocd-server is empty"},
		{"no credentials", "argocd.example.com", nil, "no Argo CD credentials"},
		{"both token and login", "argocd.example.com", []Option{WithToken("t"), WithLogin("a", "b")}, "give one of them"},
		{"user without password", "argocd.example.com", []Option{WithLogin("a", "")}, "without argocd-password"},
		{"ca and insecure", "argocd.example.com", []Option{WithToken("t"), WithInsecure(), WithCA("x.pem")}, "argocd-ca and argocd-insecure"},
		{"missing ca file", "argocd.example.com", []Option{WithToken("t"), WithCA(filepath.Join(t.TempDir(), "nope.pem"))}, "reading argocd-ca"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.server, tc.opts...)
			got := ""
			if err != nil {
				got = err.Error()
				var bi interface{ BadInput() bool }
				if !errors.As(err, &bi) || !bi.BadInput() {
					t.Errorf("error %q is not marked BadInput", err)
				}
			}
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("New(%q) error = %q, want containing %q", tc.server, got, tc.want)
			}
		})
	}
}

func TestParseAppRef(t *testing.T) {
	tests := []struct {
		in      string
		want    AppRef
		wantErr bool
	}{
		{"web", AppRef{Name: "web"}, false},
		{" team-a/web-prod ", AppRef{Namespace: "team-a", Name: "web-prod"}, false},
		{"Team/web", AppRef{}, true},
		{"a/b/c", AppRef{}, true},
		{"", AppRef{}, true},
		{"/web", AppRef{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseAppRef(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	var b bytes.Buffer
	err := WriteTable(&b, []AppStatus{
		{App: AppRef{Name: "web-prod"}, State: Deployed, Sync: "Synced", Health: "Healthy", Revision: ours, Elapsed: 3140 * time.Millisecond},
		{App: AppRef{Namespace: "team-a", Name: "web"}, State: Failed, Sync: "Synced", Health: "Degraded", Revision: next, Elapsed: 61 * time.Second},
		{App: AppRef{Name: "api"}, State: Waiting},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `APP         RESULT    SYNC    HEALTH    REVISION  DURATION
web-prod    deployed  Synced  Healthy   2222222   3.1s
team-a/web  failed    Synced  Degraded  3333333   1m1s
api         waiting   -       -         -         0s
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	line := AppStatus{App: AppRef{Name: "web-prod"}, Sync: "OutOfSync", Health: "Progressing", Phase: "Running", Revision: ours, Elapsed: 12400 * time.Millisecond}.Line()
	if diff := cmp.Diff("web-prod: sync OutOfSync, health Progressing, operation Running, revision 2222222, 12s elapsed", line); diff != "" {
		t.Errorf("line (-want +got):\n%s", diff)
	}
}

// TestRequests checks what goes on the wire: exact Content-Type on POST,
// the bearer token, one login again on 401, and decoded error bodies.
func TestRequests(t *testing.T) {
	var logins atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "Invalid content type", http.StatusUnsupportedMediaType)
			return
		}
		switch {
		case r.URL.Path == "/api/v1/session":
			n := logins.Add(1)
			w.Write([]byte(`{"token":"session-` + string(rune('0'+n)) + `"}`))
		case r.Header.Get("Authorization") == "Bearer session-1":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid session: token has invalid claims: token is expired","code":16,"message":"invalid session: token has invalid claims: token is expired"}`))
		case r.URL.Path == "/api/v1/applications/web/sync":
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"application spec for web is invalid","code":3,"message":"application spec for web is invalid"}`))
		case r.URL.Path == "/api/v1/applications/web":
			w.Write([]byte(`{"metadata":{"name":"web"},"status":{"sync":{"status":"Synced"}}}`))
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("<html>503 Service Temporarily Unavailable</html>"))
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithLogin("admin", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var app Application
	if err := c.do(ctx, http.MethodGet, "/api/v1/applications/web", nil, nil, &app); err != nil {
		t.Fatalf("GET after an expired session: %v", err)
	}
	if got := logins.Load(); got != 2 {
		t.Errorf("logins = %d, want 2 (the first session expired)", got)
	}
	err = c.do(ctx, http.MethodPost, "/api/v1/applications/web/sync", nil, map[string]string{"revision": ours}, nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != 3 || apiErr.Message != "application spec for web is invalid" {
		t.Errorf("sync error = %#v, want the decoded 400 body", err)
	}
	err = c.do(ctx, http.MethodGet, "/api/v1/other", nil, nil, nil)
	if !errors.As(err, &apiErr) || !apiErr.Temporary() || !strings.Contains(err.Error(), "503 Service Temporarily Unavailable") {
		t.Errorf("503 error = %v, want a temporary error with the body", err)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"metadata":{"name":"web"}}`))
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "https://")
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
	}{
		{"untrusted certificate", nil, "certificate"},
		{"argocd-ca", []Option{WithCA(caFile)}, ""},
		{"argocd-insecure", []Option{WithInsecure()}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(host, append(tc.opts, WithToken("t"))...)
			if err != nil {
				t.Fatal(err)
			}
			var app Application
			err = c.do(context.Background(), http.MethodGet, "/api/v1/applications/web", nil, nil, &app)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tc.wantErr == "") != (got == "") || !strings.Contains(got, tc.wantErr) {
				t.Errorf("error = %q, want containing %q", got, tc.wantErr)
			}
		})
	}
}

func TestDecodeStreamEvent(t *testing.T) {
	ref := AppRef{Name: "web"}
	tests := []struct {
		name    string
		line    string
		want    string // the app's sync status, "" for no event
		wantErr string
	}{
		{"added", `{"result":{"type":"ADDED","application":{"metadata":{"name":"web"},"status":{"sync":{"status":"Synced"}}}}}`, "Synced", ""},
		{"another app", `{"result":{"type":"MODIFIED","application":{"metadata":{"name":"api"},"status":{"sync":{"status":"Synced"}}}}}`, "", ""},
		{"deleted", `{"result":{"type":"DELETED","application":{"metadata":{"name":"web"}}}}`, "", "deleted while waiting"},
		{"error chunk", `{"error":{"grpc_code":16,"http_code":401,"message":"invalid session: token is expired","http_status":"Unauthorized"}}`, "", "refused the token"},
		{"garbage", `{"result":`, "", "decoding a watch event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, err := decodeStreamEvent([]byte(tc.line), ref)
			got, gotErr := "", ""
			if app != nil {
				got = app.Status.Sync.Status
			}
			if err != nil {
				gotErr = err.Error()
			}
			if got != tc.want || (tc.wantErr == "") != (gotErr == "") || !strings.Contains(gotErr, tc.wantErr) {
				t.Errorf("got (%q, %q), want (%q, error containing %q)", got, gotErr, tc.want, tc.wantErr)
			}
		})
	}
}

// TestDependencies keeps the package light: net/http only, no git, no
// kustomize, no Argo CD module, no os/exec.
func TestRequestSyncAnswers(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		wantPending bool
		wantErr     string
	}{
		{"accepted", 200, `{}`, false, ""},
		{"another operation in progress is waited out", 400, `{"error":"another operation is already in progress","code":9,"message":"another operation is already in progress"}`, true, ""},
		{"unavailable is retried", 503, `{"error":"transport is closing","code":14,"message":"transport is closing"}`, true, ""},
		{"refused for good", 400, `{"error":"Cannot sync to 2222222: auto-sync currently set to main","code":9,"message":"Cannot sync to 2222222: auto-sync currently set to main"}`, false, "auto-sync currently set to main"},
		{"forbidden", 403, `{"error":"permission denied","code":7,"message":"permission denied"}`, false, "answers 403"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got map[string]any
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/api/v1/applications/web/sync" || r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
				}
				_ = json.NewDecoder(r.Body).Decode(&got)
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, err := New(srv.URL, WithToken("t"))
			if err != nil {
				t.Fatal(err)
			}
			spec := WaitSpec{Apps: []AppRef{{Name: "web"}}, Revision: ours}
			if err := spec.normalize(); err != nil {
				t.Fatal(err)
			}
			w := &waiter{c: c, spec: &spec, ref: AppRef{Name: "web"}, contains: map[string]bool{},
				last: loadApp(t, "single-source.json", `{"spec":{"syncPolicy":null},"status":{"sync":{"status":"OutOfSync","revision":"`+ours+`"}}}`)}
			err = w.requestSync(context.Background())
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if (tc.wantErr == "") != (gotErr == "") || !strings.Contains(gotErr, tc.wantErr) {
				t.Errorf("error = %q, want containing %q", gotErr, tc.wantErr)
			}
			if w.syncPending != tc.wantPending {
				t.Errorf("pending = %v, want %v", w.syncPending, tc.wantPending)
			}
			if diff := cmp.Diff(map[string]any{"name": "web", "revision": ours, "prune": false, "dryRun": false}, got); diff != "" {
				t.Errorf("sync body (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWatchOnceFraming reads SSE as argocd-server writes it (trailing
// space, keepalives) and ignores half an event cut by the connection.
func TestWatchOnceFraming(t *testing.T) {
	ev := func(status string) string {
		return `data: {"result":{"type":"MODIFIED","application":{"metadata":{"name":"web"},"status":{"sync":{"status":"` + status + `"}}}}} ` + "\n\n\n"
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "text/event-stream" || r.URL.Query().Get("name") != "web" {
			t.Errorf("stream request: Accept %q, query %q", r.Header.Get("Accept"), r.URL.RawQuery)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(strings.Replace(ev("OutOfSync"), "MODIFIED", "ADDED", 1) + ":\n" + ev("Synced") + ":\n"))
		w.Write([]byte(`data: {"result":{"type":"MODIFIED","applic`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, WithToken("t"))
	if err != nil {
		t.Fatal(err)
	}
	spec := WaitSpec{Apps: []AppRef{{Name: "web"}}, Revision: ours}
	if err := spec.normalize(); err != nil {
		t.Fatal(err)
	}
	var got []string
	ok, err := c.watchOnce(context.Background(), AppRef{Name: "web"}, &spec, func(a *Application) bool {
		got = append(got, a.Status.Sync.Status)
		return true
	})
	if diff := cmp.Diff([]string{"OutOfSync", "Synced"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !ok || !errors.Is(err, errStreamEnded) {
		t.Errorf("watchOnce = (%v, %v), want (true, errStreamEnded)", ok, err)
	}
}

// TestWaitPicksOurSource serves fixed applications (no stream: polling)
// and checks how Wait matches our repository among the sources.
func TestWaitPicksOurSource(t *testing.T) {
	multiAtOurs := `{"status":{"sync":{"revisions":["cccccccccccccccccccccccccccccccccccccccc","` + ours + `","dddddddddddddddddddddddddddddddddddddddd"]},
	  "operationState":{"syncResult":{"revisions":["cccccccccccccccccccccccccccccccccccccccc","` + ours + `","dddddddddddddddddddddddddddddddddddddddd"]},"finishedAt":"2026-11-27T08:00:41Z"}}}`
	tests := []struct {
		name, file, patch, repoURL string
		wantRev, wantErr, wantLog  string
	}{
		{name: "multi-source: our source's revision", file: "multi-source.json", patch: multiAtOurs, repoURL: "https://github.com/acme/config.git", wantRev: ours},
		{name: "multi-source: ours only in another source is not ours", file: "multi-source.json",
			patch:   strings.ReplaceAll(strings.Replace(multiAtOurs, ours, prev, 1), "cccccccccccccccccccccccccccccccccccccccc", ours),
			repoURL: "https://github.com/acme/config.git", wantErr: "timed out"},
		{name: "multi-source: repository not among the sources", file: "multi-source.json", repoURL: "https://github.com/acme/nope.git",
			wantErr: "deploys from https://charts.example.com/orders.git, git@GitHub.com:acme/config, https://github.com/acme/values.git, not from https://github.com/acme/nope.git"},
		{name: "multi-source: no repository given", file: "multi-source.json", wantErr: "has 3 sources and no repository URL"},
		{name: "single source under another URL: warned, revision checked", file: "single-source.json", patch: atOurs,
			repoURL: "https://mirror.example/acme/config.git", wantRev: ours, wantLog: "warning: the application deploys from https://github.com/acme/config.git"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := loadApp(t, tc.file, tc.patch)
			body, _ := json.Marshal(app)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/api/v1/stream/") {
					w.WriteHeader(http.StatusNotImplemented)
					return
				}
				w.Write(body)
			}))
			defer srv.Close()
			var (
				mu   sync.Mutex
				logs strings.Builder
			)
			c, err := New(srv.URL, WithToken("t"), WithLogf(func(f string, a ...any) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(&logs, f+"\n", a...)
			}))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			sts, err := c.Wait(ctx, WaitSpec{Apps: []AppRef{{Name: app.Metadata.Name}}, Revision: ours, RepoURL: tc.repoURL, PollInterval: 50 * time.Millisecond})
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if (tc.wantErr == "") != (gotErr == "") || !strings.Contains(gotErr, tc.wantErr) {
				t.Fatalf("error = %q, want containing %q", gotErr, tc.wantErr)
			}
			if tc.wantRev != "" && (sts[0].State != Deployed || sts[0].Revision != tc.wantRev) {
				t.Errorf("status = %+v, want deployed at %s", sts[0], tc.wantRev)
			}
			mu.Lock()
			defer mu.Unlock()
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Errorf("log does not contain %q:\n%s", tc.wantLog, logs.String())
			}
		})
	}
}

func FuzzParseAppRef(f *testing.F) {
	for _, s := range []string{"web", "team-a/web", "a/b/c", "", "/x", "Web"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseAppRef(s)
		if err != nil {
			return
		}
		back, err := ParseAppRef(ref.String())
		if err != nil || back != ref {
			t.Errorf("ParseAppRef(%q) = %+v; parsing its String() again gives %+v, %v", s, ref, back, err)
		}
	})
}

func FuzzDecodeStreamEvent(f *testing.F) {
	f.Add([]byte(`{"result":{"type":"ADDED","application":{"metadata":{"name":"web"}}}}`))
	f.Add([]byte(`{"error":{"http_code":401,"message":"x"}}`))
	f.Add([]byte(`{"result":null}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		app, err := decodeStreamEvent(line, AppRef{Name: "web"})
		if app != nil && (err != nil || app.Metadata.Name != "web") {
			t.Errorf("decodeStreamEvent(%q) = %+v, %v: an event for another app, or with an error", line, app.Metadata, err)
		}
	})
}

func TestParseAppRefs(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []AppRef
		wantErr string
	}{
		{"lines and repeats of the flag", []string{"web\n\n team-a/api \n", "db"}, []AppRef{{Name: "web"}, {Namespace: "team-a", Name: "api"}, {Name: "db"}}, ""},
		{"all problems at once", []string{"Web\nweb\nweb"}, nil, `argocd-apps entry "Web" is not [namespace/]name (lower-case letters, digits, '-' and '.'); argocd-apps lists web twice`},
		{"nothing", []string{"\n"}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAppRefs(tc.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
		})
	}
}
