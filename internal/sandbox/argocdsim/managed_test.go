package argocdsim_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

type managed struct {
	Items []struct {
		Group, Kind, Namespace, Name string
		LiveState                    string `json:"liveState"`
		TargetState                  string `json:"targetState"`
		Modified                     bool   `json:"modified"`
	} `json:"items"`
}

func (w *world) managed(t *testing.T) managed {
	t.Helper()
	code, body := w.do(t, "GET", "/api/v1/applications/web-prod/managed-resources", "", "", token)
	if code != 200 {
		t.Fatalf("GET managed-resources: %d %s", code, body)
	}
	var m managed
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return m
}

func (m managed) deployment(t *testing.T) (live, target string) {
	t.Helper()
	for _, it := range m.Items {
		if it.Kind == "Deployment" && it.Name == "web" && it.Namespace == "prod" && it.Group == "apps" {
			return imageOf(t, it.LiveState), imageOf(t, it.TargetState)
		}
	}
	t.Fatalf("no Deployment prod/web among %+v", m.Items)
	return "", ""
}

// imageOf reads the first container's image of a Deployment given as a
// JSON string, as Argo CD serves liveState and targetState.
func imageOf(t *testing.T, state string) string {
	t.Helper()
	var obj struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct{ Name, Image string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(state), &obj); err != nil {
		t.Fatalf("state %q is not a JSON object: %v", state, err)
	}
	if len(obj.Spec.Template.Spec.Containers) == 0 {
		t.Fatalf("state %q has no container", state)
	}
	return obj.Spec.Template.Spec.Containers[0].Image
}

// managed-resources serves each resource's live and desired object as
// JSON strings (ResourceDiff); the live one changes only with a sync.
func TestManagedResourcesServeLiveAndTargetState(t *testing.T) {
	w := start(t, false)
	live, target := w.managed(t).deployment(t)
	if live != "ghcr.io/acme/web:1.0.0" || target != live {
		t.Fatalf("at start: live %q target %q, want both ghcr.io/acme/web:1.0.0", live, target)
	}
	ctx := context.Background()
	rev, err := w.repo.Commit(ctx, "main", "", map[string]string{"apps/web/overlays/prod/kustomization.yaml": overlay("2.0.0")}, "bump")
	if err != nil {
		t.Fatal(err)
	}
	w.get(t, "?refresh=normal")
	m := w.managed(t)
	live, target = m.deployment(t)
	if live != "ghcr.io/acme/web:1.0.0" || target != "ghcr.io/acme/web:2.0.0" {
		t.Errorf("after a refresh without sync: live %q target %q", live, target)
	}
	modified := false
	for _, it := range m.Items {
		modified = modified || (it.Kind == "Deployment" && it.Modified)
	}
	if !modified {
		t.Error("the Deployment is not marked modified while live and target differ")
	}
	code, body := w.do(t, "POST", "/api/v1/applications/web-prod/sync", `{"revision":"`+rev+`"}`, "application/json", token)
	if code != 200 {
		t.Fatalf("sync: %d %s", code, body)
	}
	w.until(t, func(a app) bool {
		return a.Status.Health.Status == "Healthy" && a.Status.Sync.Status == "Synced" && a.Status.Sync.Revision == rev
	})
	if live, _ = w.managed(t).deployment(t); live != "ghcr.io/acme/web:2.0.0" {
		t.Errorf("after the sync: live %q, want ghcr.io/acme/web:2.0.0", live)
	}
	if code, body := w.do(t, "GET", "/api/v1/applications/nope/managed-resources", "", "", token); code != 403 || !strings.Contains(body, "permission denied") {
		t.Errorf("unknown app: %d %s, want 403 permission denied", code, body)
	}
}
