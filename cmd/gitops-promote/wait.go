package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/gitops-promote/gitops-promote/internal/actionio"
	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

func waitVerb() verb {
	return verb{name: "wait", summary: "confirm a given --revision in Argo CD", run: runWait}
}

// runWait confirms --revision in Argo CD, with git ancestry through
// --repository-url when given. Output: deployed.
func runWait(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	jsonOut := fs.Bool("json", false, "print one JSON object (revision, deployed) on stdout")
	lookup := config.RegisterFlags(fs, config.VerbWait)
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(lookup, config.WithGetenv(e.getenv), config.ForVerb(config.VerbWait))
	// rawStdout: ::add-mask:: must name the secret (the redactor would hide it).
	a := actionio.New(actionio.WithGetenv(e.getenv), actionio.WithWriter(e.rawStdout))
	runner := a.InRunner()
	if cfg != nil {
		if merr := e.hideSecrets(a, runner, cfg.Secrets()...); merr != nil {
			return merr
		}
	}
	if err := inputProblems(cfg, err); err != nil {
		return err
	}
	prog := newProgress(e, a, false)
	opts, repo, err := adapters(cfg, e.getenv, prog.logf, e.sessionHider(a, runner))
	if err != nil {
		return err
	}
	res, waitErr := promote.New(repo, append(opts, promote.WithObserver(prog))...).Wait(ctx, cfg)
	if exitCode(waitErr) == 2 {
		return waitErr
	}
	if runner && e.getenv("GITHUB_OUTPUT") != "" {
		if werr := a.SetOutputs([]actionio.Output{{Name: "revision", Value: res.Revision}, {Name: "deployed", Value: fmt.Sprint(res.Deployed)}}); werr != nil && waitErr == nil {
			return werr
		}
	}
	if *jsonOut {
		b, _ := json.Marshal(struct {
			Revision string `json:"revision"`
			Deployed bool   `json:"deployed"`
		}{res.Revision, res.Deployed})
		fmt.Fprintf(e.stdout, "%s\n", b)
		return waitErr
	}
	if len(res.Apps) > 0 {
		fmt.Fprintln(e.stderr)
		_ = writeAppTable(e.stderr, res.Apps)
	}
	if waitErr == nil {
		fmt.Fprintf(e.stderr, "\ndeployed %s\n", short(res.Revision))
	}
	return waitErr
}
