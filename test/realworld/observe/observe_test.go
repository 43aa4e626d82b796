package observe

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	gitopspromote "github.com/gitops-promote/gitops-promote"
)

// TestSimulatorMatchesRecordedArgoCD runs the push scenario against internal/sandbox/argocdsim
// and compares what a client observes with the recording of the real Argo CD v3.2.11
// (testdata, made by the real-world tier with GITOPS_PROMOTE_REALWORLD_RECORD=1).
func TestSimulatorMatchesRecordedArgoCD(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", RealRecording))
	if err != nil {
		t.Fatal(err)
	}
	var real Recording
	if err := json.Unmarshal(b, &real); err != nil {
		t.Fatalf("decoding the recording: %v", err)
	}
	if len(real.Moments) < 3 || len(real.Fields) == 0 {
		t.Fatalf("the recording holds too little to compare: %d moments, %d fields", len(real.Moments), len(real.Fields))
	}
	sim, err := RecordSimulator(context.Background(), gitopspromote.Example())
	if err != nil {
		t.Fatalf("recording the simulator: %v", err)
	}
	for _, d := range Compare(real, sim) {
		t.Errorf("the simulator differs from the real Argo CD (%s): %s", real.Source, d)
	}
}

// TestCompareSeesADifference: a simulator that skips the window where the operation is set
// and operationState is null, lacks a field, or answers a missing application with 404, is
// told apart.
func TestCompareSeesADifference(t *testing.T) {
	real := Recording{
		Moments: []string{Moments[0], Moments[1], Moments[2], Moments[4]},
		Fields:  []string{"status.sync.revision", "status.operationState.phase"},
		Answers: Answers{MissingApp: Answer{Status: 403, Message: "permission denied"}},
	}
	sim := Recording{
		Moments: []string{Moments[1], Moments[2], Moments[4]},
		Fields:  []string{"status.sync.revision"},
		Answers: Answers{MissingApp: Answer{Status: 404, Message: "not found"}},
	}
	if d := Compare(real, sim); len(d) != 3 {
		t.Errorf("Compare found %d differences, want 3: %q", len(d), d)
	}
	if d := Compare(real, real); len(d) != 0 {
		t.Errorf("Compare of a recording with itself: %q", d)
	}
}
