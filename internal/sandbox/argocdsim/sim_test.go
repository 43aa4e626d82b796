package argocdsim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/argocdsim"
)

const token = "test-token"

func configFiles(tag string) map[string]string {
	return map[string]string{
		"apps/web/base/kustomization.yaml": "resources:\n  - deployment.yaml\n  - service.yaml\n",
		"apps/web/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:latest
`,
		"apps/web/base/service.yaml":                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
		"apps/web/overlays/prod/kustomization.yaml": overlay(tag),
	}
}

func overlay(tag string) string {
	return "namespace: prod\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/web\n    newTag: \"" + tag + "\"\n"
}

type world struct {
	sim  *argocdsim.Server
	repo *argocdsim.Repo
	head string
}

func start(t *testing.T, auto bool, opts ...argocdsim.Option) *world {
	t.Helper()
	ctx := context.Background()
	repo, head, err := argocdsim.NewRepo(ctx, t.TempDir(), "main", configFiles("1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	base := []argocdsim.Option{argocdsim.WithToken(token), argocdsim.WithUser("admin", "s3cret"),
		argocdsim.WithSyncDuration(100 * time.Millisecond), argocdsim.WithRolloutDelay(200 * time.Millisecond),
		argocdsim.WithKeepalive(50 * time.Millisecond)}
	sim, err := argocdsim.Start([]argocdsim.App{
		{Name: "web-prod", RepoURL: "https://git.example/acme/config.git", Path: "apps/web/overlays/prod", TargetRevision: "main", BareRepoDir: repo.Bare, AutoSync: auto},
		{Name: "web-team", Namespace: "team-a", RepoURL: "https://git.example/acme/config.git", Path: "apps/web/overlays/prod", TargetRevision: "main", BareRepoDir: repo.Bare, AutoSync: auto},
	}, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return &world{sim: sim, repo: repo, head: head}
}

func (w *world) do(t *testing.T, method, path, body, ctype, tok string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, w.sim.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

type app struct {
	Operation *json.RawMessage `json:"operation"`
	Status    struct {
		Sync struct {
			Status   string `json:"status"`
			Revision string `json:"revision"`
		} `json:"sync"`
		Health struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"health"`
		ReconciledAt   string `json:"reconciledAt"`
		OperationState *struct {
			Phase      string `json:"phase"`
			Message    string `json:"message"`
			FinishedAt string `json:"finishedAt"`
			SyncResult struct {
				Revision string `json:"revision"`
			} `json:"syncResult"`
		} `json:"operationState"`
		Conditions []struct{ Type, Message string } `json:"conditions"`
		Summary    struct {
			Images []string `json:"images"`
		} `json:"summary"`
		History []struct {
			Revision string `json:"revision"`
		} `json:"history"`
	} `json:"status"`
}

func (w *world) get(t *testing.T, query string) app {
	t.Helper()
	code, body := w.do(t, "GET", "/api/v1/applications/web-prod"+query, "", "", token)
	if code != 200 {
		t.Fatalf("GET: %d %s", code, body)
	}
	var a app
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// until polls GET until cond holds (bounded, no timing assertion).
func (w *world) until(t *testing.T, cond func(app) bool) app {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var a app
	for {
		a = app{}
		code, body := w.do(t, "GET", "/api/v1/applications/web-prod", "", "", token)
		if code == 200 && json.Unmarshal([]byte(body), &a) == nil && cond(a) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached; last: %+v", a.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestErrorAnswers(t *testing.T) {
	w := start(t, true)
	tests := []struct {
		name, method, path, body, ctype, tok string
		wantCode                             int
		wantBody                             string
	}{
		{"unknown app", "GET", "/api/v1/applications/nope", "", "", token, 403, `{"error":"permission denied","code":7,"message":"permission denied"}`},
		{"app in another namespace without appNamespace", "GET", "/api/v1/applications/web-team", "", "", token, 403, `{"error":"permission denied","code":7,"message":"permission denied"}`},
		{"no credentials", "GET", "/api/v1/applications/web-prod", "", "", "", 401, `{"error":"no session information","code":16,"message":"no session information"}`},
		// As Argo CD v3.2.11 answers: a token that is not a JWT is no session at all; a JWT it
		// did not issue is taken for an SSO token.
		{"bad token", "GET", "/api/v1/applications/web-prod", "", "", "nope", 401, `{"error":"no session information","code":16,"message":"no session information"}`},
		{"foreign JWT", "GET", "/api/v1/applications/web-prod", "", "", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln", 401, `{"error":"invalid session: SSO is not configured","code":16,"message":"invalid session: SSO is not configured"}`},
		{"charset content type", "POST", "/api/v1/applications/web-prod/sync", `{}`, "application/json; charset=utf-8", token, 415, "Invalid content type"},
		{"wrong password", "POST", "/api/v1/session", `{"username":"admin","password":"x"}`, "application/json", "", 401, `{"error":"Invalid username or password","code":16,"message":"Invalid username or password"}`},
		{"sync to another revision with auto-sync", "POST", "/api/v1/applications/web-prod/sync", `{"revision":"v2"}`, "application/json", token, 400, `{"error":"Cannot sync to v2: auto-sync currently set to main","code":9,"message":"Cannot sync to v2: auto-sync currently set to main"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := w.do(t, tc.method, tc.path, tc.body, tc.ctype, tc.tok)
			if diff := cmp.Diff([2]any{tc.wantCode, tc.wantBody}, [2]any{code, body}); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("namespaced app with appNamespace", func(t *testing.T) {
		if code, body := w.do(t, "GET", "/api/v1/applications/web-team?appNamespace=team-a", "", "", token); code != 200 {
			t.Errorf("GET = %d %s, want 200", code, body)
		}
	})
	t.Run("login then expiry", func(t *testing.T) {
		code, body := w.do(t, "POST", "/api/v1/session", `{"username":"admin","password":"s3cret"}`, "application/json", "")
		var s struct{ Token string }
		if code != 200 || json.Unmarshal([]byte(body), &s) != nil || s.Token == "" {
			t.Fatalf("login = %d %s", code, body)
		}
		if code, _ := w.do(t, "GET", "/api/v1/applications/web-prod", "", "", s.Token); code != 200 {
			t.Errorf("GET with session token = %d, want 200", code)
		}
		w.sim.ExpireTokens()
		if code, _ := w.do(t, "GET", "/api/v1/applications/web-prod", "", "", s.Token); code != 401 {
			t.Errorf("GET with expired token = %d, want 401", code)
		}
	})
}

func TestRefreshWalksToHealthy(t *testing.T) {
	w := start(t, true)
	before := w.get(t, "")
	if before.Status.Sync.Status != "Synced" || before.Status.Health.Status != "Healthy" || before.Status.Sync.Revision != w.head {
		t.Fatalf("initial state = %+v, want Synced Healthy at %s", before.Status, w.head)
	}
	rev, err := w.repo.Commit(context.Background(), "main", "", map[string]string{"apps/web/overlays/prod/kustomization.yaml": overlay("1.1.0")}, "bump")
	if err != nil {
		t.Fatal(err)
	}
	if a := w.get(t, ""); a.Status.Sync.Revision != w.head {
		t.Errorf("without refresh the revision moved to %s before the poll", a.Status.Sync.Revision)
	}
	// As the real Argo CD v3.2.11 answers (shared fixture app-after-refresh-1.25.1.json):
	// OutOfSync at the new revision, operation set by auto-sync, operationState null.
	a := w.get(t, "?refresh=normal")
	got := []string{a.Status.Sync.Status, a.Status.Sync.Revision}
	if diff := cmp.Diff([]string{"OutOfSync", rev}, got); diff != "" {
		t.Errorf("after refresh (-want +got):\n%s", diff)
	}
	if a.Operation == nil {
		t.Errorf("operation is null while the auto-sync runs")
	}
	if a.Status.OperationState != nil {
		t.Errorf("operationState = %+v right after auto-sync set the operation, want null", a.Status.OperationState)
	}
	a = w.until(t, func(a app) bool { return a.Status.OperationState != nil && a.Status.OperationState.Phase == "Running" })
	a = w.until(t, func(a app) bool {
		return a.Status.Health.Status == "Healthy" && a.Status.Sync.Status == "Synced" && a.Operation == nil && a.Status.Sync.Revision == rev
	})
	if diff := cmp.Diff([]string{"ghcr.io/acme/web:1.1.0"}, a.Status.Summary.Images); diff != "" {
		t.Errorf("summary.images (-want +got):\n%s", diff)
	}
	if a.Status.ReconciledAt < a.Status.OperationState.FinishedAt || len(a.Status.ReconciledAt) != len("2006-01-02T15:04:05Z") {
		t.Errorf("reconciledAt %q, finishedAt %q: want whole seconds, reconciled after finish", a.Status.ReconciledAt, a.Status.OperationState.FinishedAt)
	}
	if n := len(a.Status.History); n != 2 || a.Status.History[1].Revision != rev {
		t.Errorf("history = %+v, want 2 entries ending at %s", a.Status.History, rev)
	}
	if _, ok := w.sim.DeployedAt("web-prod", rev); !ok {
		t.Errorf("DeployedAt(%s) not recorded", rev)
	}
}

func TestScriptedFailures(t *testing.T) {
	tests := []struct {
		name    string
		failure argocdsim.Failure
		check   func(a app) bool
		got     func(a app) string
		want    string
	}{
		{"degraded", argocdsim.Degraded, func(a app) bool { return a.Status.Health.Status == "Degraded" },
			func(a app) string { return a.Status.Health.Message }, `Deployment "web" exceeded its progress deadline`},
		{"sync failed", argocdsim.SyncFailed, func(a app) bool { return a.Status.OperationState != nil && a.Status.OperationState.Phase == "Failed" },
			func(a app) string { return a.Status.OperationState.Message }, "one or more objects failed to apply"},
		{"comparison error", argocdsim.ComparisonError, func(a app) bool { return a.Status.Sync.Status == "Unknown" },
			func(a app) string { return a.Status.Conditions[0].Type }, "ComparisonError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := start(t, true)
			w.sim.SetFailure("web-prod", tc.failure, "")
			if _, err := w.repo.Commit(context.Background(), "main", "", map[string]string{"apps/web/overlays/prod/kustomization.yaml": overlay("2.0.0")}, "bump"); err != nil {
				t.Fatal(err)
			}
			w.get(t, "?refresh=hard")
			a := w.until(t, tc.check)
			if got := tc.got(a); !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

func TestSyncEndpoint(t *testing.T) {
	w := start(t, false)
	rev, err := w.repo.Commit(context.Background(), "main", "", map[string]string{"apps/web/overlays/prod/kustomization.yaml": overlay("1.2.0")}, "bump")
	if err != nil {
		t.Fatal(err)
	}
	if a := w.get(t, "?refresh=normal"); a.Status.Sync.Status != "OutOfSync" || a.Operation != nil {
		t.Fatalf("manual app after refresh = %+v, want OutOfSync and no operation", a.Status.Sync)
	}
	body := `{"revision":"` + rev + `","prune":false,"syncOptions":{"items":["ServerSideApply=true"]}}`
	if code, b := w.do(t, "POST", "/api/v1/applications/web-prod/sync", body, "application/json", token); code != 200 {
		t.Fatalf("sync = %d %s", code, b)
	}
	code, b := w.do(t, "POST", "/api/v1/applications/web-prod/sync", body, "application/json", token)
	if diff := cmp.Diff([2]any{400, `{"error":"another operation is already in progress","code":9,"message":"another operation is already in progress"}`}, [2]any{code, b}); diff != "" {
		t.Errorf("second sync (-want +got):\n%s", diff)
	}
	w.until(t, func(a app) bool {
		return a.Status.Sync.Revision == rev && a.Status.Health.Status == "Healthy" && a.Status.Sync.Status == "Synced"
	})
}

func TestPollInterval(t *testing.T) {
	w := start(t, true, argocdsim.WithPollInterval(300*time.Millisecond))
	rev, err := w.repo.Commit(context.Background(), "main", "", map[string]string{"apps/web/overlays/prod/kustomization.yaml": overlay("1.3.0")}, "bump")
	if err != nil {
		t.Fatal(err)
	}
	w.until(t, func(a app) bool {
		return a.Status.Sync.Revision == rev && a.Status.Health.Status == "Healthy" && a.Status.Sync.Status == "Synced"
	})
}

func readStream(t *testing.T, w *world, path, accept string, d time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", w.sim.URL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	rd := bufio.NewReader(resp.Body)
	for {
		line, err := rd.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String()
		}
	}
}

func TestStream(t *testing.T) {
	w := start(t, true)
	t.Run("sse framing, ADDED first, keepalives", func(t *testing.T) {
		out := readStream(t, w, "/api/v1/stream/applications?name=web-prod", "text/event-stream", 300*time.Millisecond)
		if !strings.HasPrefix(out, `data: {"result":{"application":`) || !strings.Contains(out, `"type":"ADDED"}} `+"\n\n\n") {
			t.Errorf("stream does not start with an SSE ADDED event: %.200q", out)
		}
		if !strings.Contains(out, "\n:\n") {
			t.Errorf("no keepalive in %.300q", out)
		}
	})
	t.Run("ndjson without the accept header", func(t *testing.T) {
		out := readStream(t, w, "/api/v1/stream/applications?name=web-prod", "", 200*time.Millisecond)
		if !strings.HasPrefix(out, `{"result":{"application":`) || strings.Contains(out, ":\n:") {
			t.Errorf("not newline-delimited JSON: %.200q", out)
		}
	})
	t.Run("silence for an unknown app", func(t *testing.T) {
		out := readStream(t, w, "/api/v1/stream/applications?name=nope", "text/event-stream", 200*time.Millisecond)
		if strings.Contains(out, "data:") || !strings.Contains(out, ":\n") {
			t.Errorf("unknown app stream = %.200q, want keepalives only", out)
		}
	})
}

func TestFaults(t *testing.T) {
	w := start(t, true, argocdsim.WithStreamDrop(150*time.Millisecond))
	out := readStream(t, w, "/api/v1/stream/applications?name=web-prod", "text/event-stream", 5*time.Second)
	if !strings.Contains(out, "ADDED") {
		t.Errorf("dropped stream did not carry the ADDED event: %.100q", out)
	}
	w.sim.Fail503(300 * time.Millisecond)
	code, body := w.do(t, "GET", "/api/v1/applications/web-prod", "", "", token)
	if code != 503 || !strings.Contains(body, `"code":14`) {
		t.Errorf("during Fail503: %d %s", code, body)
	}
	w.until(t, func(a app) bool { return true })
}
