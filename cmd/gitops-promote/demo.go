package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	gitopspromote "github.com/gitops-promote/gitops-promote"
	"github.com/gitops-promote/gitops-promote/internal/sandbox"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

func demoVerb() verb {
	return verb{name: "demo", summary: "a full promotion on the built-in local sandbox (nothing to set up)", run: runDemo}
}

// demoSpec is what the demo promotes.
type demoSpec struct {
	overlay, image, app string
	keep                bool
	checksAfter         time.Duration
}

// runDemo starts the sandbox (git server with a protected main, GitHub and Argo CD
// simulators on 127.0.0.1, Argo CD polling every 180 s), then runs a real `run` in auto
// mode against it: the push is refused, a PR is opened and auto-merged once its required
// check passes, Argo CD is refreshed and the run ends with "deployed".
func runDemo(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var d demoSpec
	fs.BoolVar(&d.keep, "keep", false, "keep the sandbox up afterwards and print how to poke it with git and curl")
	fs.StringVar(&d.image, "images", "ghcr.io/acme/user-service:1.5.0", "the image to promote")
	fs.StringVar(&d.overlay, "overlays", "apps/user-service/overlays/staging", "the overlay to edit")
	fs.StringVar(&d.app, "argocd-apps", "user-service-staging", "the Argo CD application to confirm")
	fs.DurationVar(&d.checksAfter, "checks-after", time.Second, "how long the pull request's required check takes to pass")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	start := time.Now()
	say := func(format string, args ...any) { fmt.Fprintf(e.stderr, "[sandbox] "+format+"\n", args...) }

	w, err := sandbox.Start(sandbox.Options{Seed: gitopspromote.Example(), Protection: gitserver.Classic})
	if err != nil {
		return err
	}
	defer w.Close()
	say("git server     %s  (%s, main protected like GitHub's branch protection)", w.Git.URL(), w.Repo)
	say("GitHub API     %s  (auto-merge allowed; required check \"ci\")", w.GitHubAPIURL())
	say("Argo CD API    %s  (polls git every 180 s unless refreshed; %d apps, all Synced/Healthy)", w.ArgoCD.URL(), len(w.Apps))

	ciCtx, stopCI := context.WithCancel(ctx)
	defer stopCI()
	go passChecksOnNewPRs(ciCtx, w, d.checksAfter, say)

	args = []string{"run",
		"--repository-url", w.RepoURL, "--repository", w.Repo, "--branch", sandbox.Branch,
		"--token", w.Token, "--github-api-url", w.GitHubAPIURL(),
		"--mode", "auto", "--overlays", d.overlay, "--images", d.image,
		"--argocd-server", w.ArgoCD.URL(), "--argocd-token", w.ArgoCDToken, "--argocd-apps", d.app,
		"--timeout", "2m",
	}
	say("running: gitops-promote %s", strings.Join(redactArgs(args), " "))
	fmt.Fprintln(e.stderr)
	runErr := dispatch(ctx, e, args)
	fmt.Fprintln(e.stderr)
	showPRBody(e.stderr, w, say)
	say("demo finished in %s", time.Since(start).Round(100*time.Millisecond))
	if runErr != nil {
		return runErr
	}
	if d.keep {
		printPokeHelp(e.rawStdout, w)
		<-ctx.Done()
	}
	return nil
}

// passChecksOnNewPRs plays the config repository's CI: a while after a pull request
// appears, its required check passes (GitHub then merges it if auto-merge is on).
func passChecksOnNewPRs(ctx context.Context, w *sandbox.World, after time.Duration, say func(string, ...any)) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	seen := map[int]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pulls, err := w.GitHub.Pulls(w.Repo)
		if err != nil {
			continue
		}
		for _, p := range pulls {
			if p.State != "OPEN" || seen[p.Number] {
				continue
			}
			seen[p.Number] = true
			select {
			case <-ctx.Done():
				return
			case <-time.After(after):
			}
			if err := w.GitHub.SetChecksPassing(w.Repo, true); err == nil {
				say("required check \"ci\" passed on pull request #%d", p.Number)
			}
		}
	}
}

// redactArgs hides the values of credential flags in a printed command line.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 1; i < len(out); i++ {
		if out[i-1] == "--token" || out[i-1] == "--argocd-token" {
			out[i] = "***"
		}
	}
	return out
}

// printPokeHelp says how to look at the sandbox by hand. The tokens are the sandbox's own
// throwaway credentials, valid only on this machine while the demo runs.
func printPokeHelp(w io.Writer, world *sandbox.World) {
	host := strings.TrimPrefix(world.Git.URL(), "http://")
	fmt.Fprintf(w, `
The sandbox stays up until Ctrl-C. Its throwaway credentials work only here:

  git clone http://x-access-token:%[1]s@%[2]s/%[3]s.git /tmp/sandbox-config
  git -C /tmp/sandbox-config log --oneline --graph

  curl -s -H 'Authorization: Bearer %[1]s' %[4]s/repos/%[3]s/pulls?state=all
  curl -s -H 'Authorization: Bearer %[5]s' %[6]s/api/v1/applications/user-service-staging
  curl -sN -H 'Accept: text/event-stream' -H 'Authorization: Bearer %[5]s' '%[6]s/api/v1/stream/applications?name=user-service-staging'

  go run ./cmd/gitops-promote run --repository-url %[7]s --token %[1]s --github-api-url %[4]s \
    --overlays apps/order-service/overlays/production --images ghcr.io/acme/order-service:2.8.0 \
    --argocd-server %[6]s --argocd-token %[5]s --argocd-apps order-service-production
`, world.Token, host, world.Repo, world.GitHubAPIURL(), world.ArgoCDToken, world.ArgoCD.URL(), world.RepoURL)
}

// showPRBody prints the body of the demo's pull request as the reviewer
// gets it (Markdown): the change table, the links and the rendered change.
func showPRBody(out io.Writer, w *sandbox.World, say func(string, ...any)) {
	pulls, err := w.GitHub.Pulls(w.Repo)
	if err != nil || len(pulls) == 0 {
		return
	}
	p := pulls[len(pulls)-1]
	say("pull request #%d %q, its body as a reviewer reads it (Markdown):", p.Number, p.Title)
	fmt.Fprintln(out)
	for _, line := range strings.Split(strings.TrimRight(p.Body, "\n"), "\n") {
		fmt.Fprintln(out, strings.TrimRight("    "+line, " "))
	}
	fmt.Fprintln(out)
}
