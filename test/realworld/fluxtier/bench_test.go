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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/gitops-promote/gitops-promote/test/realworld/fluxworld"
)

// TestFlux7Overhead measures push to confirmed against the real Flux, beside Flux's own
// Ready moment at our revision: a commit lands on main, `gitops-promote wait` starts at
// once (reconcile requested, as in a run), and a watch of the test's own records when the
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
		wi, err := w.Dynamic.Resource(fluxworld.KustomizationResource).Namespace(fluxworld.FluxNamespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=demo"})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		ours, err := w.Git.CommitFiles(w.Repo, fluxworld.Branch, map[string][]byte{overlay + "/kustomization.yaml": overlayFile(fmt.Sprintf("v1.6.%d", i))}, "bench")
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		pushed := time.Now()
		p := startTool(t, "wait", "--revision", ours, "--repository-url", w.RepoURL,
			"--flux-kustomizations", "demo", "--kubeconfig", w.Kubeconfig, "--timeout", "2m")
		var readyAtOurs, readyHandled time.Time
		for readyHandled.IsZero() {
			select {
			case e, ok := <-wi.ResultChan():
				if !ok {
					cancel()
					t.Fatalf("the test's watch ended")
				}
				u, isU := e.Object.(*unstructured.Unstructured)
				if e.Type == watch.Error || !isU {
					continue
				}
				s := stateOf(u)
				if s.Ready == "True" && s.Applied == "main@sha1:"+ours {
					now := time.Now()
					if readyAtOurs.IsZero() {
						readyAtOurs = now
					}
					if s.Requested != "" && s.Handled == s.Requested {
						readyHandled = now
					}
				}
			case <-ctx.Done():
				cancel()
				t.Fatalf("Flux did not get Ready at %s with the request handled; stderr:\n%s", ours[:7], p.stderr.String())
			}
		}
		wi.Stop()
		code, _, stderr := p.wait(t)
		exited := time.Now()
		cancel()
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		// exited is taken after the tool's end was seen: an upper bound of its overhead.
		over := exited.Sub(readyHandled)
		overheads = append(overheads, over)
		rows = append(rows, fmt.Sprintf("| %d | %.2f s | %.2f s | %.2f s | %.2f s |", i+1,
			readyAtOurs.Sub(pushed).Seconds(), readyHandled.Sub(pushed).Seconds(), exited.Sub(pushed).Seconds(), over.Seconds()))
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
