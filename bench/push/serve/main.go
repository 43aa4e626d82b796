// Command serve runs the sandbox git server for the push benchmark: it
// serves the repositories under -root on 127.0.0.1 and, with -generate,
// first builds a large config repository (overlays, files and commits as
// asked) with git fast-import.
//
//	go run ./bench/push/serve -root /tmp/root -addr 127.0.0.1:8181 -token T -generate acme/config
//
// It prints "ready <base URL>" on stdout once it serves, and stops on
// SIGINT or SIGTERM.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	root := fl.String("root", "", "directory holding the bare repositories (required)")
	addr := fl.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	token := fl.String("token", "", "token every request must carry (basic-auth password)")
	generate := fl.String("generate", "", "owner/name of a repository to generate when it does not exist")
	var spec genSpec
	fl.IntVar(&spec.Teams, "teams", 25, "teams (folders under apps/)")
	fl.IntVar(&spec.AppsPerTeam, "apps-per-team", 50, "apps per team; each app has 4 overlays and 12 files")
	fl.IntVar(&spec.Commits, "commits", 20000, "commits in the generated history")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *root == "" {
		return errors.New("-root is required")
	}
	if err := os.MkdirAll(*root, 0o755); err != nil {
		return fmt.Errorf("making root %q: %w", *root, err)
	}
	srv, err := gitserver.Start(gitserver.WithRoot(*root), gitserver.WithAddr(*addr), gitserver.WithToken(*token))
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	if *generate != "" {
		if err := ensureGenerated(ctx, srv, *generate, spec); err != nil {
			return err
		}
	}
	fmt.Println("ready", srv.URL())
	<-ctx.Done()
	return nil
}

func ensureGenerated(ctx context.Context, srv *gitserver.Server, repo string, spec genSpec) error {
	if _, err := os.Stat(srv.BareDir(repo)); err == nil {
		fmt.Fprintf(os.Stderr, "serve: %s exists; not generating\n", repo)
		return nil
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return fmt.Errorf("-generate %q: want owner/name", repo)
	}
	if _, err := srv.CreateRepo(owner, name); err != nil {
		return err
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, "git", "fast-import", "--quiet", "--done")
	cmd.Env = append(os.Environ(), "GIT_DIR="+srv.BareDir(repo))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("starting git fast-import: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting git fast-import: %w", err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	genErr := spec.write(w)
	if err := w.Flush(); err != nil && genErr == nil {
		genErr = err
	}
	_ = in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w", err)
	}
	if genErr != nil {
		return fmt.Errorf("generating the history: %w", genErr)
	}
	// One pack with good deltas, as a hosted repository would have.
	repack := exec.CommandContext(ctx, "git", "repack", "-a", "-d", "-q")
	repack.Env = cmd.Env
	repack.Stderr = os.Stderr
	if err := repack.Run(); err != nil {
		return fmt.Errorf("git repack: %w", err)
	}
	fmt.Fprintf(os.Stderr, "serve: generated %s (%d overlays, %d files, %d commits) in %s\n",
		repo, spec.overlays(), spec.files(), spec.Commits, time.Since(start).Round(time.Second))
	return nil
}
