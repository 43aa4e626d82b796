// Command gopush lands one image change the way `gitops-promote run --mode
// push` does, through internal/gitrepo and internal/kustomize: fetch the
// branch head into memory, edit the overlays, commit, push. The push
// benchmark measures it when the CLI's run verb is not there yet.
//
//	GITOPS_TOKEN=T gopush -url http://127.0.0.1:8181/acme/config.git -overlay apps/x/overlays/prod -image ghcr.io/acme/x:1.2.3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/gitrepo"
	"github.com/gitops-promote/gitops-promote/internal/image"
	"github.com/gitops-promote/gitops-promote/internal/kustomize"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gopush:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("gopush", flag.ContinueOnError)
	url := fl.String("url", "", "repository URL")
	branch := fl.String("branch", "main", "branch to land on")
	overlay := fl.String("overlay", "", "overlay folder")
	img := fl.String("image", "", "image argument, e.g. name:tag")
	if err := fl.Parse(args); err != nil {
		return err
	}
	ref, err := image.Parse(*img)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	remote, err := gitrepo.New(*url, gitrepo.WithToken(os.Getenv("GITOPS_TOKEN")), gitrepo.WithLogf(logf))
	if err != nil {
		return err
	}
	author, err := gitrepo.ParseSignature("github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>")
	if err != nil {
		return err
	}
	start := time.Now()
	for attempt := 1; attempt <= 10; attempt++ {
		snap, err := remote.Fetch(ctx, *branch)
		if err != nil {
			return err
		}
		res, err := kustomize.Edit(snap.FS(), kustomize.Request{Overlays: []string{*overlay}, Images: []image.Ref{ref}})
		if err != nil {
			return err
		}
		if len(res.Files) == 0 {
			logf("nothing to change")
			return nil
		}
		files := make([]gitrepo.File, 0, len(res.Files))
		var lines []string
		for _, f := range res.Files {
			files = append(files, gitrepo.File{Path: f.Path, Content: f.After})
		}
		for _, c := range res.Changes {
			lines = append(lines, fmt.Sprintf("%s: %s -> %s", c.File, c.Old, c.New))
		}
		sha, err := snap.Commit(files, "Deploy "+ref.String()+"\n\n"+strings.Join(lines, "\n")+"\n", author)
		if err != nil {
			return err
		}
		err = snap.Push(ctx, sha, *branch)
		if errors.Is(err, gitrepo.ErrNonFastForward) {
			logf("attempt %d lost a race: %v", attempt, err)
			continue
		}
		if err != nil {
			return err
		}
		logf("landed %s in %s", sha, time.Since(start).Round(time.Millisecond))
		return nil
	}
	return errors.New("lost 10 races in a row")
}
