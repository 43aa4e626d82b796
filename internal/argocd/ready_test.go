package argocd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	prev = "1111111111111111111111111111111111111111" // what the fixtures are at
	ours = "2222222222222222222222222222222222222222"
	next = "3333333333333333333333333333333333333333" // another pipeline's later commit
)

// loadApp reads a testdata application and applies a JSON merge patch
// (RFC 7386: objects merge, null deletes) to it.
func loadApp(t *testing.T, file, patch string) *Application {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if patch != "" {
		var p any
		if err := json.Unmarshal([]byte(patch), &p); err != nil {
			t.Fatalf("patch %s: %v", patch, err)
		}
		doc = mergePatch(doc, p)
	}
	raw, _ = json.Marshal(doc)
	var app Application
	if err := json.Unmarshal(raw, &app); err != nil {
		t.Fatal(err)
	}
	return &app
}

func mergePatch(doc, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	dm, ok := doc.(map[string]any)
	if !ok {
		dm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(dm, k)
			continue
		}
		dm[k] = mergePatch(dm[k], v)
	}
	return dm
}

// atOurs is the fixture moved to our commit by a finished auto-sync.
const atOurs = `{"status":{"sync":{"revision":"` + ours + `"},
 "operationState":{"operation":{"sync":{"revision":"` + ours + `"}},"syncResult":{"revision":"` + ours + `"},
   "startedAt":"2026-11-27T09:00:10Z","finishedAt":"2026-11-27T09:00:12Z"},
 "reconciledAt":"2026-11-27T09:00:20Z"}}`

func patched(base string, more ...string) []string { return append([]string{base}, more...) }

func TestReady(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		patches  []string
		contains bool
		want     State
		reason   string // a part of the reason
	}{
		{name: "synced and healthy at the previous commit is not ours", file: "single-source.json", contains: false, want: Waiting, reason: "does not contain"},
		{name: "ours synced, succeeded and healthy", file: "single-source.json", patches: patched(atOurs), contains: true, want: Deployed},
		{name: "reconciledAt equal to finishedAt counts as after", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"reconciledAt":"2026-11-27T09:00:12Z"}}`), contains: true, want: Deployed},
		{name: "reconciledAt before finishedAt: health is from before the sync", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"reconciledAt":"2026-11-27T09:00:11Z"}}`), contains: true, want: Waiting, reason: "not reconciled"},
		{name: "no reconciledAt after an operation", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"reconciledAt":null}}`), contains: true, want: Waiting, reason: "not reconciled"},
		{name: "ours with the operation still running and health from before", file: "single-source.json",
			patches: patched(atOurs, `{"operation":{"sync":{"revision":"`+ours+`"}},"status":{"operationState":{"phase":"Running","finishedAt":null}}}`), contains: true, want: Waiting, reason: "requested"},
		{name: "operation state running without the operation field", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"operationState":{"phase":"Running","finishedAt":null}}}`), contains: true, want: Waiting, reason: "operation Running"},
		{name: "operation terminating", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"operationState":{"phase":"Terminating"}}}`), contains: true, want: Waiting, reason: "Terminating"},
		{name: "refreshed to ours, OutOfSync, sync requested", file: "single-source.json",
			patches: patched(`{"operation":{"sync":{"revision":"` + ours + `"}},"status":{"sync":{"status":"OutOfSync","revision":"` + ours + `"}}}`), contains: true, want: Waiting, reason: "OutOfSync"},
		{name: "ours synced and progressing", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"health":{"status":"Progressing","message":"Waiting for rollout to finish"}}}`), contains: true, want: Waiting, reason: "Progressing"},
		{name: "a later commit that contains ours", file: "single-source.json",
			patches: patched(strings.ReplaceAll(atOurs, ours, next)), contains: true, want: Deployed},
		{name: "a later commit that does not contain ours", file: "single-source.json",
			patches: patched(strings.ReplaceAll(atOurs, ours, next)), contains: false, want: Waiting, reason: "does not contain"},
		{name: "ours changed nothing for this app: no sync, last sync was the previous commit", file: "single-source.json",
			patches: patched(`{"status":{"sync":{"revision":"` + ours + `"},"reconciledAt":"2026-11-27T09:00:20Z"}}`), contains: true, want: Deployed},
		{name: "no operation state at all", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"operationState":null}}`), contains: true, want: Deployed},
		{name: "degraded after ours was applied fails", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"health":{"status":"Degraded","message":"Deployment \"user-service\" exceeded its progress deadline"}}}`), contains: true, want: Failed, reason: "exceeded its progress deadline"},
		{name: "degraded with health from before our sync waits", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"health":{"status":"Degraded"},"reconciledAt":"2026-11-27T09:00:11Z"}}`), contains: true, want: Waiting},
		{name: "degraded at the previous commit waits", file: "single-source.json",
			patches: patched(`{"status":{"health":{"status":"Degraded"}}}`), contains: false, want: Waiting},
		{name: "sync of ours failed", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"sync":{"status":"OutOfSync"},"operationState":{"phase":"Failed","message":"one or more objects failed to apply"}}}`), contains: true, want: Failed, reason: "ended Failed"},
		{name: "sync of ours errored before the revision was compared", file: "single-source.json",
			patches: patched(`{"status":{"operationState":{"operation":{"sync":{"revision":"` + ours + `"}},"phase":"Error","message":"rpc error","syncResult":null}}}`), contains: false, want: Failed, reason: "ended Error"},
		{name: "failed sync of ours retried: a new operation is requested", file: "single-source.json",
			patches: patched(atOurs, `{"operation":{"sync":{"revision":"`+ours+`"}},"status":{"operationState":{"phase":"Failed"}}}`), contains: true, want: Waiting},
		{name: "failed sync of an older commit does not fail ours", file: "single-source.json",
			patches: patched(`{"status":{"operationState":{"phase":"Failed"}}}`), contains: false, want: Waiting},
		{name: "sync error naming ours", file: "single-source.json",
			patches: patched(`{"status":{"conditions":[{"type":"SyncError","message":"Failed sync attempt to ` + ours + `: one or more objects failed to apply"}]}}`), contains: false, want: Failed, reason: "SyncError"},
		{name: "comparison error blocks", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"conditions":[{"type":"ComparisonError","message":"Failed to load target state"}]}}`), contains: true, want: Waiting, reason: "ComparisonError"},
		{name: "a warning condition does not block", file: "single-source.json",
			patches: patched(atOurs, `{"status":{"conditions":[{"type":"OrphanedResourceWarning","message":"1 orphaned resource"}]}}`), contains: true, want: Deployed},
		{name: "multi-source synced with ours in our source", file: "multi-source.json",
			patches: patched(`{"status":{"sync":{"revisions":["cccccccccccccccccccccccccccccccccccccccc","` + ours + `","dddddddddddddddddddddddddddddddddddddddd"]},"operationState":{"syncResult":{"revisions":["cccccccccccccccccccccccccccccccccccccccc","` + ours + `","dddddddddddddddddddddddddddddddddddddddd"]},"finishedAt":"2026-11-27T08:00:41Z"}}}`), contains: true, want: Deployed},
		{name: "multi-source sync of ours failed", file: "multi-source.json",
			patches: patched(`{"status":{"operationState":{"phase":"Failed","syncResult":{"revisions":["cccccccccccccccccccccccccccccccccccccccc","` + ours + `","dddddddddddddddddddddddddddddddddddddddd"]}}}}`), contains: true, want: Failed},
		{name: "multi-source still at the previous commit", file: "multi-source.json", contains: false, want: Waiting},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := loadApp(t, tc.file, "")
			for _, p := range tc.patches {
				raw, _ := json.Marshal(app)
				var doc, pd any
				_ = json.Unmarshal(raw, &doc)
				if err := json.Unmarshal([]byte(p), &pd); err != nil {
					t.Fatalf("patch: %v", err)
				}
				raw, _ = json.Marshal(mergePatch(doc, pd))
				app = &Application{}
				if err := json.Unmarshal(raw, app); err != nil {
					t.Fatal(err)
				}
			}
			got := Ready(app, ours, tc.contains)
			if diff := cmp.Diff(tc.want, got.State); diff != "" {
				t.Errorf("state (-want +got):\n%s\nreason: %s", diff, got.Reason)
			}
			if !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("reason %q does not contain %q", got.Reason, tc.reason)
			}
		})
	}
}

func TestRevisionOfOurSource(t *testing.T) {
	tests := []struct {
		name, file, repoURL, want string
		index                     int
	}{
		{"single source, no repo given", "single-source.json", "", prev, -1},
		{"single source, same repo without .git", "single-source.json", "https://github.com/acme/config", prev, -1},
		{"single source, another repo", "single-source.json", "https://github.com/acme/other.git", "", -1},
		{"multi-source picks our source by scp address", "multi-source.json", "https://github.com/acme/config.git", prev, 1},
		{"multi-source with a trailing slash and host case", "multi-source.json", "https://GITHUB.com/acme/config/", prev, 1},
		{"multi-source, repo not among the sources", "multi-source.json", "https://github.com/acme/nope.git", "", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := loadApp(t, tc.file, "")
			got := [2]any{app.Revision(tc.repoURL), app.SourceIndex(tc.repoURL)}
			if diff := cmp.Diff([2]any{tc.want, tc.index}, got); diff != "" {
				t.Errorf("(revision, index) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSameRepo(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"https://github.com/acme/config.git", "https://github.com/acme/config", true},
		{"https://github.com/acme/config/", "https://GitHub.com/acme/config.git", true},
		{"git@github.com:acme/config.git", "https://github.com/acme/config", true},
		{"https://x-access-token@github.com/acme/config.git", "https://github.com/acme/config", true},
		{"https://github.com/acme/config.git", "https://github.com/acme/configs.git", false},
		{"https://github.com/acme/config.git", "https://gitlab.com/acme/config.git", false},
		{"https://github.com/acme/Config.git", "https://github.com/acme/config.git", false},
	}
	for _, tc := range tests {
		t.Run(tc.a+" vs "+tc.b, func(t *testing.T) {
			if got := SameRepo(tc.a, tc.b); got != tc.want {
				t.Errorf("SameRepo = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUnready(t *testing.T) {
	app := loadApp(t, "single-source.json", `{"status":{
	  "resources":[
	    {"version":"v1","kind":"Service","namespace":"production","name":"user-service","status":"Synced","health":{"status":"Healthy"}},
	    {"group":"apps","version":"v1","kind":"Deployment","namespace":"production","name":"user-service","status":"Synced","health":{"status":"Degraded","message":"Deployment \"user-service\" exceeded its progress deadline"}},
	    {"version":"v1","kind":"ConfigMap","namespace":"production","name":"settings","status":"OutOfSync"}],
	  "operationState":{"syncResult":{"resources":[
	    {"version":"v1","kind":"ConfigMap","namespace":"production","name":"settings","status":"SyncFailed","message":"admission webhook denied the request"},
	    {"group":"batch","version":"v1","kind":"Job","namespace":"production","name":"migrate","status":"SyncFailed","message":"job failed"}]}}}}`)
	want := []string{
		`Deployment production/user-service: Degraded (Deployment "user-service" exceeded its progress deadline)`,
		`ConfigMap production/settings: OutOfSync, sync SyncFailed (admission webhook denied the request)`,
		`Job production/migrate: sync SyncFailed (job failed)`,
	}
	if diff := cmp.Diff(want, app.Unready()); diff != "" {
		t.Errorf("Unready (-want +got):\n%s", diff)
	}
}
