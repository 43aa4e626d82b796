// Command ghstatus measures confirmation through GitHub (internal/ghstatus)
// against the GitHub simulator: for each delay, a commit lands, the waiter
// starts with its real poll (5 s growing to 30 s), and after the delay the
// puller's success status is posted (as Argo CD Notifications posts it).
// It prints the time from the status being written to "deployed", the poll
// interval in force then, and the requests the wait sent and GitHub counts
// (a 304 is free). With -later, the status lands on a later commit that
// contains ours, so each poll also runs the one GraphQL query.
//
//	go run ./bench/ghstatus                      # delays 2s, 12s, 40s
//	go run ./bench/ghstatus -delays 3s -later    # the status on a later commit
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/ghstatus"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

func main() {
	delays := flag.String("delays", "2s,12s,40s", "comma-separated delays before the status is posted")
	later := flag.Bool("later", false, "post the status on a later commit that contains ours")
	flag.Parse()
	if err := run(*delays, *later); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(delays string, later bool) error {
	fmt.Printf("%-8s %-10s %-12s %-10s %s\n", "delay", "latency", "interval", "requests", "counted (not 304)")
	for _, s := range strings.Split(delays, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("parsing delay %q: %w", s, err)
		}
		if err := once(d, later); err != nil {
			return err
		}
	}
	return nil
}

// interval is the poll interval in force after t: 5 s growing by half to 30 s.
func interval(t time.Duration) time.Duration {
	iv, at := ghstatus.DefaultPollInterval, time.Duration(0)
	for at+iv <= t {
		at += iv
		iv = min(iv*3/2, ghstatus.MaxPollInterval)
	}
	return iv
}

func once(delay time.Duration, later bool) error {
	root, err := os.MkdirTemp("", "bench-ghstatus")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	g, err := gitserver.Start(gitserver.WithToken("tok"), gitserver.WithRoot(root))
	if err != nil {
		return err
	}
	defer func() { _ = g.Close() }()
	if _, err := g.CreateRepo("acme", "config"); err != nil {
		return err
	}
	commit := func(tag string) (string, error) {
		return g.CommitFiles("acme/config", "main", map[string][]byte{"apps/web/overlays/dev/kustomization.yaml": []byte("images:\n- name: web\n  newTag: \"" + tag + "\"\n")}, "web "+tag)
	}
	if _, err := commit("1.0.0"); err != nil {
		return err
	}
	ours, err := commit("1.1.0")
	if err != nil {
		return err
	}
	target := ours
	if later {
		if target, err = g.CommitFiles("acme/config", "main", map[string][]byte{"README.md": []byte("notes\n")}, "notes"); err != nil {
			return err
		}
	}
	sim, err := githubsim.Start(githubsim.WithToken("tok"), githubsim.WithBareDir(func(o, n string) string { return g.BareDir(o + "/" + n) }))
	if err != nil {
		return err
	}
	defer sim.Close()
	if err := sim.AddRepo("acme", "config", githubsim.RepoSettings{DefaultBranch: "main"}); err != nil {
		return err
	}
	c, err := ghstatus.New(sim.URL(), "tok", "acme", "config")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), delay+2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := c.Wait(ctx, ghstatus.Spec{Want: ghstatus.Want{Contexts: []string{"continuous-delivery/dev"}}, Revision: ours, Branch: "main"})
		done <- err
	}()
	time.Sleep(delay)
	body, _ := json.Marshal(map[string]string{"state": "success", "context": "continuous-delivery/dev", "description": "Application dev deployed"})
	req, _ := http.NewRequest("POST", sim.URL()+"/repos/acme/config/statuses/"+target, bytes.NewReader(body))
	req.Header.Set("Authorization", "token tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	posted := time.Now()
	if err := <-done; err != nil {
		return err
	}
	sent, counted := c.Requests()
	fmt.Printf("%-8s %-10s %-12s %-10d %d\n", delay, time.Since(posted).Round(10*time.Millisecond), interval(posted.Sub(start)), sent, counted)
	return nil
}
