//go:build realworld

package fluxtier

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gitops-promote/gitops-promote/test/realworld/fluxworld"
)

// TestFlux7Overhead measures push to confirmed against the real Flux, beside Flux's own
// Ready moment at our revision: a commit lands on main, `gitops-promote wait` starts at
// once (reconcile requested, as in a run), and an observer of the test's own records when the
// Kustomization first shows Ready=True at our commit, and when it shows that with the
// tool's reconcile request handled (what `flux reconcile ks --with-source` waits for). The
// tool's overhead is its exit after the second moment. Figures go to the test log and,
// with GITOPS_PROMOTE_FLUX_BENCH=<file>, as markdown rows to that file.
func TestFlux7Overhead(t *testing.T) {
	const rounds = 3
	var rows []string
	var overheads []time.Duration
	for i := range rounds {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		ours, err := w.Git.CommitFiles(w.Repo, fluxworld.Branch, map[string][]byte{overlay + "/kustomization.yaml": overlayFile(fmt.Sprintf("v1.6.%d", i))}, "bench")
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		pushed := time.Now()
		p := startTool(t, "wait", "--revision", ours, "--repository-url", w.RepoURL,
			"--flux-kustomizations", "demo", "--kubeconfig", w.Kubeconfig, "--timeout", "2m")
		// The test's own observer: a GET every 20 ms (quorum reads, no watch cache), so
		// Flux's moments are known to 20 ms plus one GET.
		var readyAtOurs, readyHandled time.Time
		for readyHandled.IsZero() {
			if ctx.Err() != nil {
				cancel()
				t.Fatalf("Flux did not get Ready at %s with the request handled; stderr:\n%s", ours[:7], p.stderr.String())
			}
			u, err := w.Dynamic.Resource(fluxworld.KustomizationResource).Namespace(fluxworld.FluxNamespace).Get(ctx, "demo", metav1.GetOptions{})
			now := time.Now()
			if err == nil {
				s := stateOf(u)
				if s.Ready == "True" && s.Applied == "main@sha1:"+ours {
					if readyAtOurs.IsZero() {
						readyAtOurs = now
					}
					if s.Requested != "" && s.Handled == s.Requested {
						readyHandled = now
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		code, _, stderr := p.wait(t)
		cancel()
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		// Negative: the tool ended before the observer's next GET saw Flux Ready.
		over := p.exitedAt.Sub(readyHandled)
		overheads = append(overheads, over)
		rows = append(rows, fmt.Sprintf("| %d | %.2f s | %.2f s | %.2f s | %+.2f s |", i+1,
			readyAtOurs.Sub(pushed).Seconds(), readyHandled.Sub(pushed).Seconds(), p.exitedAt.Sub(pushed).Seconds(), over.Seconds()))
	}
	sort.Slice(overheads, func(i, j int) bool { return overheads[i] < overheads[j] })
	table := "| round | push to Ready=True at ours | push to Ready with our request handled | push to confirmed (tool exited) | overhead after Flux's Ready |\n|---|---|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
	t.Logf("Flux push-to-confirmed (median overhead %.2f s):\n%s", overheads[len(overheads)/2].Seconds(), table)
	if f := os.Getenv("GITOPS_PROMOTE_FLUX_BENCH"); f != "" {
		if err := os.WriteFile(f, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}
