//go:build realworld

package realworld

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/test/realworld/observe"
)

// TestSimulatorFollowsRealArgoCD records what a client observes of the push scenario on the
// real Argo CD and on internal/sandbox/argocdsim, and compares them. With
// GITOPS_PROMOTE_REALWORLD_RECORD=1 the real recording is written to observe/testdata, where
// the fast test of package observe compares the simulator against it in `make test`.
func TestSimulatorFollowsRealArgoCD(t *testing.T) {
	ctx := context.Background()
	real, err := observe.Record(ctx, w.ArgoCDURL, w.ArgoCDToken, "admin", w.AdminPassword, "rw-observe", func() (string, string, error) {
		return observe.Bump(w.Git, w.Repo, filepath.Join(seedDir, filepath.FromSlash(observe.PushScenario.File)))
	})
	if err != nil {
		t.Fatalf("recording the real Argo CD: %v", err)
	}
	real.Source = "Argo CD " + "v3.2.11 on kube-apiserver v1.34.2"
	b, _ := json.MarshalIndent(real, "", "  ")
	t.Logf("real recording:\n%s", b)
	if os.Getenv("GITOPS_PROMOTE_REALWORLD_RECORD") == "1" {
		if err := os.WriteFile(filepath.Join("observe", "testdata", observe.RealRecording), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sim, err := observe.RecordSimulator(ctx, gitopspromote.Example())
	if err != nil {
		t.Fatalf("recording the simulator: %v", err)
	}
	for _, d := range observe.Compare(real, sim) {
		t.Errorf("the simulator differs from the real Argo CD: %s", d)
	}
}
