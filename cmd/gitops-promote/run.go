package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/gitops-promote/gitops-promote/internal/actionio"
	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/github"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

func runVerb() verb {
	return verb{name: "run", summary: "edit, land and confirm: what the GitHub Action runs", run: runRun}
}

// runRun is the whole promotion. In a runner (GITHUB_ACTIONS=true) it reads
// INPUT_* and writes GITHUB_OUTPUT and GITHUB_STEP_SUMMARY; elsewhere it
// reads flags and prints a summary, or with --json one JSON object.
func runRun(ctx context.Context, e *env, args []string) error {
	a := actionio.New(actionio.WithGetenv(e.getenv), actionio.WithWriter(e.rawStdout))
	runner := a.InRunner()
	var cfg *config.Config
	var err error
	jsonOut := false
	if runner {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		if err := parseFlags(e, fs, args); err != nil {
			return err
		}
		cfg, err = a.LoadConfig(config.VerbRun)
	} else {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		jsonFlag := fs.Bool("json", false, "print one JSON object of the outputs on stdout")
		lookup := config.RegisterFlags(fs, config.VerbRun)
		if err := parseFlags(e, fs, args); err != nil {
			return err
		}
		jsonOut = *jsonFlag
		cfg, err = config.Load(lookup, config.WithGetenv(e.getenv), config.ForVerb(config.VerbRun))
	}
	if cfg != nil {
		if merr := e.hideSecrets(a, runner, cfg.Secrets()...); merr != nil {
			return merr
		}
	}
	if err := inputProblems(cfg, err); err != nil {
		return err
	}

	prog := newProgress(e, a, runner)
	opts, repo, err := adapters(cfg, e.getenv, prog.logf, e.sessionHider(a, runner))
	if err != nil {
		return err
	}
	res, runErr := promote.New(repo, append(opts, promote.WithObserver(prog))...).Run(ctx, cfg)
	if exitCode(runErr) == 2 {
		return runErr // bad input: the one error line, nothing written
	}
	switch {
	case runner:
		for _, w := range res.Warnings {
			_ = a.Warning(e.redact.String(w)) // annotations are best effort
		}
		for _, r := range res.Replacements {
			_ = a.Warning(e.redact.String("superseded: " + r.String(res.PullRequestNumber)))
		}
		for _, s := range res.SupersededBy {
			_ = a.Warning(e.redact.String(s))
		}
		if res.DryRun && len(res.Files) > 0 {
			_ = writeDiff(e.stdout, res.Files)
			_ = writeRendered(e.stdout, res.Rendered)
		}
		if werr := writeRunnerReport(a, res, runErr, reportLinks(cfg, e.getenv, res)); werr != nil && runErr == nil {
			return werr
		}
	case jsonOut:
		if res.DryRun && len(res.Files) > 0 {
			_ = writeDiff(e.stderr, res.Files)
		}
		if werr := writeJSON(e.stdout, res); werr != nil && runErr == nil {
			return werr
		}
	default:
		if res.DryRun && len(res.Files) > 0 {
			if werr := writeDiff(e.stdout, res.Files); werr != nil && runErr == nil {
				return werr
			}
			_ = writeRendered(e.stderr, res.Rendered)
		}
		writeHuman(e.stderr, res, runErr)
	}
	return runErr
}

// writeRunnerReport writes every output and the step summary.
func writeRunnerReport(a *actionio.IO, res *promote.Result, runErr error, links github.Links) error {
	outs := res.Outputs()
	ao := make([]actionio.Output, len(outs))
	for i, o := range outs {
		ao[i] = actionio.Output{Name: o.Name, Value: o.Value}
	}
	err := a.SetOutputs(ao)
	if serr := a.AddStepSummary(stepSummaryWith(res, runErr, hintOf(runErr), links)); err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("reporting to the runner: %w", err)
	}
	return nil
}
