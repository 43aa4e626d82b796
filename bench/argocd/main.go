// Command argocd-bench measures how fast gitops-promote confirms a deploy
// against the Argo CD simulator (internal/sandbox/argocdsim):
//
//	(a) confirmation latency: from the simulator showing Synced+Healthy at
//	    our revision to Wait returning, with the watch stream and, for
//	    comparison, with polling only;
//	(b) push-to-confirmed with the simulator polling Git every 180 s: with
//	    the refresh, without it (scaled poll, or the full 180 s with -full),
//	    and what a plain `argocd app wait` would report (no revision check).
//
// Run: go run ./bench/argocd [-runs 20] [-full]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/argocd"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/argocdsim"
)

const (
	token   = "bench-token"
	repoURL = "https://git.example/acme/config.git"
	kustom  = "apps/web/overlays/prod/kustomization.yaml"
)

func main() {
	runs := flag.Int("runs", 20, "runs for the latency figures")
	full := flag.Bool("full", false, "also run once without refresh at the full 180 s poll")
	scale := flag.Int("scale", 10, "divide the 180 s poll by this for the scaled no-refresh runs")
	flag.Parse()
	if err := run(*runs, *full, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-bench:", err)
		os.Exit(1)
	}
}

func run(runs int, full bool, scale int) error {
	ctx := context.Background()
	fmt.Printf("(a) confirmation latency, simulator Synced+Healthy at our revision -> Wait returns (%d runs)\n", runs)
	for _, mode := range []struct {
		name string
		opts []argocdsim.Option
		n    int
	}{
		{"watch stream", nil, runs},
		{"polling only (stream 404, PollInterval 3s)", []argocdsim.Option{argocdsim.WithoutStream()}, max(runs/2, 3)},
	} {
		lat, err := latency(ctx, mode.n, mode.opts)
		if err != nil {
			return err
		}
		fmt.Printf("  %-45s median %7s  p90 %7s  max %7s\n", mode.name, ms(pct(lat, 50)), ms(pct(lat, 90)), ms(slices.Max(lat)))
	}

	const rollout = time.Second
	fmt.Printf("\n(b) push -> confirmed, simulator polls every 180 s, sync 1 s + rollout %s\n", rollout)
	with, err := pushToConfirmed(ctx, 5, 180*time.Second, rollout, "normal")
	if err != nil {
		return err
	}
	fmt.Printf("  %-45s median %7s  max %7s\n", "with refresh (argocd-refresh: normal)", secs(pct(with, 50)), secs(slices.Max(with)))
	poll := 180 * time.Second / time.Duration(scale)
	without, err := pushToConfirmed(ctx, 3, poll, rollout, "none")
	if err != nil {
		return err
	}
	// Only the wait for the poll scales; the rest (push, sync, rollout) does not.
	est := pct(without, 50) - poll + 180*time.Second
	fmt.Printf("  %-45s median %7s  max %7s  (poll scaled to %s; at 180 s: about %s)\n", "without refresh, honest wait", secs(pct(without, 50)), secs(slices.Max(without)), poll, secs(est))
	if full {
		one, err := pushToConfirmed(ctx, 1, 180*time.Second, rollout, "none")
		if err != nil {
			return err
		}
		fmt.Printf("  %-45s %7s\n", "without refresh at the full 180 s poll", secs(one[0]))
	}
	d, rev, first, err := plainAppWait(ctx, rollout)
	if err != nil {
		return err
	}
	fmt.Printf("  %-45s %7s after the push, at revision %.7s while ours is %.7s: a false \"deployed\"\n", "plain `argocd app wait` semantics", secs(d), first, rev)
	return nil
}

// world is one simulator over a fresh repository.
type world struct {
	sim  *argocdsim.Server
	repo *argocdsim.Repo
	dir  string
	tag  int
}

func newWorld(ctx context.Context, opts ...argocdsim.Option) (*world, string, error) {
	dir, err := os.MkdirTemp("", "argocd-bench-")
	if err != nil {
		return nil, "", err
	}
	repo, first, err := argocdsim.NewRepo(ctx, dir, "main", files("1.0.0"))
	if err != nil {
		return nil, "", err
	}
	base := []argocdsim.Option{argocdsim.WithToken(token), argocdsim.WithSyncDuration(200 * time.Millisecond), argocdsim.WithRolloutDelay(300 * time.Millisecond)}
	sim, err := argocdsim.Start([]argocdsim.App{{Name: "web-prod", RepoURL: repoURL, Path: "apps/web/overlays/prod", TargetRevision: "main", BareRepoDir: repo.Bare, AutoSync: true}}, append(base, opts...)...)
	if err != nil {
		return nil, "", err
	}
	return &world{sim: sim, repo: repo, dir: dir}, first, nil
}

func (w *world) close() {
	w.sim.Close()
	_ = os.RemoveAll(w.dir)
}

func (w *world) push(ctx context.Context) (string, error) {
	w.tag++
	return w.repo.Commit(ctx, "main", "", map[string]string{kustom: overlay(fmt.Sprintf("1.%d.0", w.tag))}, "bump")
}

func (w *world) wait(ctx context.Context, rev, refresh string) error {
	c, err := argocd.New(w.sim.URL(), argocd.WithToken(token))
	if err != nil {
		return err
	}
	_, err = c.Wait(ctx, argocd.WaitSpec{Apps: []argocd.AppRef{{Name: "web-prod"}}, Revision: rev, RepoURL: repoURL, Refresh: refresh, Contains: w.repo.IsAncestor})
	return err
}

// latency measures (a) over n pushes to one simulator.
func latency(ctx context.Context, n int, opts []argocdsim.Option) ([]time.Duration, error) {
	w, _, err := newWorld(ctx, opts...)
	if err != nil {
		return nil, err
	}
	defer w.close()
	var out []time.Duration
	for range n {
		rev, err := w.push(ctx)
		if err != nil {
			return nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = w.wait(wctx, rev, "normal")
		done := time.Now()
		cancel()
		if err != nil {
			return nil, err
		}
		at, ok := w.sim.DeployedAt("web-prod", rev)
		if !ok {
			return nil, fmt.Errorf("wait returned before the simulator deployed %s", rev)
		}
		out = append(out, done.Sub(at))
	}
	return out, nil
}

// pushToConfirmed measures (b): from the push to Wait returning, each run
// on a fresh simulator so that its poll timer starts with the push.
func pushToConfirmed(ctx context.Context, n int, poll, rollout time.Duration, refresh string) ([]time.Duration, error) {
	var out []time.Duration
	for range n {
		w, _, err := newWorld(ctx, argocdsim.WithPollInterval(poll), argocdsim.WithSyncDuration(time.Second), argocdsim.WithRolloutDelay(rollout))
		if err != nil {
			return nil, err
		}
		start := time.Now()
		rev, err := w.push(ctx)
		if err == nil {
			wctx, cancel := context.WithTimeout(ctx, poll+time.Minute)
			err = w.wait(wctx, rev, refresh)
			cancel()
		}
		out = append(out, time.Since(start))
		w.close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// plainAppWait does what `argocd app wait --sync --health` checks (Synced,
// Healthy, no operation) right after a push, without a refresh and
// without comparing the revision.
func plainAppWait(ctx context.Context, rollout time.Duration) (time.Duration, string, string, error) {
	w, _, err := newWorld(ctx, argocdsim.WithSyncDuration(time.Second), argocdsim.WithRolloutDelay(rollout))
	if err != nil {
		return 0, "", "", err
	}
	defer w.close()
	rev, err := w.push(ctx)
	if err != nil {
		return 0, "", "", err
	}
	start := time.Now()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.sim.URL()+"/api/v1/applications/web-prod", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", "", err
		}
		var app argocd.Application
		err = json.NewDecoder(resp.Body).Decode(&app)
		resp.Body.Close()
		if err != nil {
			return 0, "", "", err
		}
		if app.Status.Sync.Status == "Synced" && app.Status.Health.Status == "Healthy" && app.Operation == nil {
			return time.Since(start), rev, app.Status.Sync.Revision, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

func ms(d time.Duration) string   { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
func secs(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func files(tag string) map[string]string {
	return map[string]string{
		"apps/web/base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
		"apps/web/base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n" +
			"  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:latest\n",
		kustom: overlay(tag),
	}
}

func overlay(tag string) string {
	return "namespace: prod\nresources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/web\n    newTag: \"" + tag + "\"\n"
}
