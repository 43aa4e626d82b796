package observe

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/argocdsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// Scenario is the push the recordings are made of: an image bump in one overlay, then
// GET ?refresh=normal, as gitops-promote does after its push.
type Scenario struct {
	Overlay string // the overlay the application renders
	File    string // its kustomization file
	From    string // the line with the old tag
	To      string // the line with the new tag
}

// PushScenario bumps the user-service image of the staging overlay of testdata/example.
var PushScenario = Scenario{
	Overlay: "apps/user-service/overlays/staging",
	File:    "apps/user-service/overlays/staging/kustomization.yaml",
	From:    `newTag: "1.4.1"`,
	To:      `newTag: "1.4.2"`,
}

// Record runs a push scenario against the Argo CD API at base, whose application app tracks
// the branch commit lands on: it follows the stream, commits, asks for a refresh and records
// until Synced and Healthy at the new commit. The answers to bad requests are probed too.
func Record(ctx context.Context, base, token, user, password, app string, commit func() (prev, ours string, err error)) (Recording, error) {
	var rec Recording
	var mu sync.Mutex
	var evs []Event
	ours := ""
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	first := make(chan struct{})
	done := make(chan error, 1)
	var once sync.Once
	go func() {
		done <- Watch(sctx, base, token, app, func(ev Event) bool {
			mu.Lock()
			defer mu.Unlock()
			evs = append(evs, ev)
			once.Do(func() { close(first) })
			return ours != "" && ev.DeployedAt(ours)
		})
	}()
	select {
	case <-first:
	case err := <-done:
		return rec, fmt.Errorf("the stream of %s ended before its first event: %w", app, err)
	case <-time.After(30 * time.Second):
		return rec, fmt.Errorf("the stream of %s sent nothing in 30s", app)
	}
	prev, o, err := commit()
	if err != nil {
		return rec, err
	}
	mu.Lock()
	ours = o
	mu.Unlock()
	if _, err := call(ctx, http.MethodGet, base+"/api/v1/applications/"+app+"?refresh=normal", token, nil); err != nil {
		return rec, fmt.Errorf("refreshing %s: %w", app, err)
	}
	select {
	case err := <-done:
		if err != nil {
			return rec, err
		}
	case <-time.After(3 * time.Minute):
		cancel()
		werr := <-done
		return rec, fmt.Errorf("%s not Synced+Healthy at %s within 3 minutes (stream: %w); events: %+v", app, ours, werr, Anonymize(evs, prev, ours))
	}
	final, err := callBody(ctx, http.MethodGet, base+"/api/v1/applications/"+app, token, nil)
	if err != nil {
		return rec, err
	}
	var finalApp map[string]any
	if err := json.Unmarshal([]byte(final), &finalApp); err != nil {
		return rec, fmt.Errorf("decoding %s: %w", app, err)
	}
	mu.Lock()
	rec.Events = Anonymize(evs, prev, ours)
	rec.Moments = MomentsOf(evs, ours)
	mu.Unlock()
	rec.Fields = Present(Fields(finalApp, 6), ClientFields)
	if rec.Answers, err = Probe(ctx, base, token, user, password, 3*time.Second); err != nil {
		return rec, fmt.Errorf("probing: %w", err)
	}
	return rec, nil
}

// RecordSimulator runs PushScenario against internal/sandbox/argocdsim over the sandbox git
// server seeded with seed (testdata/example).
func RecordSimulator(ctx context.Context, seed fs.FS) (Recording, error) {
	git, err := gitserver.Start()
	if err != nil {
		return Recording{}, err
	}
	defer func() { _ = git.Close() }()
	const repo = "acme/config"
	if _, err := git.CreateRepo("acme", "config"); err != nil {
		return Recording{}, err
	}
	dir, err := os.MkdirTemp("", "observe-seed-")
	if err != nil {
		return Recording{}, err
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, seed); err != nil {
		return Recording{}, err
	}
	if _, err := git.SeedFromDir(repo, "main", dir); err != nil {
		return Recording{}, err
	}
	token, password := "sim-token", "sim-password"
	sim, err := argocdsim.Start([]argocdsim.App{{
		Name: "demo", RepoURL: git.RepoURL(repo), Path: PushScenario.Overlay, TargetRevision: "main",
		BareRepoDir: git.BareDir(repo), AutoSync: true, DestNamespace: "staging",
	}}, argocdsim.WithToken(token), argocdsim.WithUser("admin", password),
		argocdsim.WithRolloutDelay(time.Second), argocdsim.WithSyncDuration(300*time.Millisecond))
	if err != nil {
		return Recording{}, err
	}
	defer sim.Close()
	rec, err := Record(ctx, sim.URL(), token, "admin", password, "demo", func() (string, string, error) {
		return bump(git, repo, filepath.Join(dir, filepath.FromSlash(PushScenario.File)))
	})
	rec.Source = "argocdsim"
	return rec, err
}

// bump commits PushScenario's change on main of repo, reading the file from the seed copy.
func bump(git *gitserver.Server, repo, seedFile string) (string, string, error) {
	prev, err := git.Head(repo, "main")
	if err != nil {
		return "", "", err
	}
	b, err := os.ReadFile(seedFile)
	if err != nil {
		return "", "", err
	}
	if !strings.Contains(string(b), PushScenario.From) {
		return "", "", fmt.Errorf("%s lacks %q", PushScenario.File, PushScenario.From)
	}
	nb := strings.Replace(string(b), PushScenario.From, PushScenario.To, 1)
	ours, err := git.CommitFiles(repo, "main", map[string][]byte{PushScenario.File: []byte(nb)}, "bump user-service")
	return prev, ours, err
}

// Bump is bump for a world's git server (the real tier).
func Bump(git *gitserver.Server, repo, seedFile string) (string, string, error) {
	return bump(git, repo, seedFile)
}
