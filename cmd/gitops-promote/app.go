package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/gitops-promote/gitops-promote/internal/actionio"
)

// env is what a verb may touch: the output streams, the environment, and
// the secrets to redact from anything written.
type env struct {
	stdout, stderr io.Writer
	// rawStdout is stdout without redaction, for ::add-mask:: (which must
	// name the secret); everything else goes through stdout.
	rawStdout io.Writer
	getenv    func(string) string
	redact    *redactor
}

// verb is one CLI verb.
type verb struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// verbs lists the verbs. The demo verb (demo.go) registers here as well:
// add demoVerb() to this list.
func verbs() []verb {
	return []verb{runVerb(), editVerb(), waitVerb(), demoVerb()}
}

// Main runs one invocation and returns the exit code: 0 ok, 2 bad input,
// 1 anything else. It is the one place errors become exit codes and are
// printed.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	r := &redactor{}
	e := &env{stdout: r.wrap(stdout), stderr: r.wrap(stderr), rawStdout: stdout, getenv: getenv, redact: r}
	if getenv("GITHUB_ACTIONS") == "true" {
		// The runner reads workflow commands from both streams: no text
		// from the repository, a server or the person may start one. Only
		// actionio's own commands go to rawStdout.
		out, errw := actionio.NewEscaper(stdout), actionio.NewEscaper(stderr)
		defer func() { _, _ = out.Flush(), errw.Flush() }()
		e.stdout, e.stderr = r.wrap(out), r.wrap(errw)
	}
	err := dispatch(ctx, e, args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	e.printError(err)
	return exitCode(err)
}

func dispatch(ctx context.Context, e *env, args []string) error {
	all := verbs()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr, all)
		if len(args) == 0 {
			return &usageError{msg: "a verb is required"}
		}
		return flag.ErrHelp
	}
	for _, v := range all {
		if v.name == args[0] {
			return v.run(ctx, e, args[1:])
		}
	}
	return &usageError{msg: fmt.Sprintf("unknown verb %q; see gitops-promote --help", args[0])}
}

func usage(w io.Writer, all []verb) {
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	fmt.Fprintln(w, "gitops-promote: set images in kustomize overlays, land the commit, confirm it in Argo CD.")
	fmt.Fprintln(w, "\nUsage: gitops-promote <verb> [flags]")
	fmt.Fprintln(w, "\nVerbs:")
	for _, v := range all {
		fmt.Fprintf(w, "  %-6s %s\n", v.name, v.summary)
	}
	fmt.Fprintln(w, "\nRun gitops-promote <verb> -h for its flags. Exit codes: 0 ok, 2 bad input, 1 other failure.")
}

// exitCode maps an error to the exit code: BadInput() -> 2, else 1.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var bad interface{ BadInput() bool }
	if errors.As(err, &bad) && bad.BadInput() {
		return 2
	}
	return 1
}

// hintOf returns the what-to-do sentence of err, if any.
func hintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// printError renders err once: on stderr (one line per problem, then the
// hint), and in a runner also as one ::error:: annotation.
func (e *env) printError(err error) {
	msg := cutLong(strings.TrimSpace(err.Error()))
	hint := cutLong(strings.TrimSpace(hintOf(err)))
	if exitCode(err) == 2 && hint != "" && !strings.Contains(msg, "\n") {
		// Bad input stays one line naming the input, with what to do.
		fmt.Fprintf(e.stderr, "error: %s; %s\n", msg, hint)
	} else {
		for line := range strings.SplitSeq(msg, "\n") {
			fmt.Fprintf(e.stderr, "error: %s\n", line)
		}
		if hint != "" {
			fmt.Fprintf(e.stderr, "hint: %s\n", hint)
		}
	}
	// The annotation keeps the what-to-do in every case.
	if e.getenv("GITHUB_ACTIONS") == "true" {
		text := msg
		if hint != "" {
			text += "\n" + hint
		}
		text = strings.TrimSpace(text) // an encoded trailing newline (%0A) says nothing
		a := actionio.New(actionio.WithGetenv(e.getenv), actionio.WithWriter(e.rawStdout))
		_ = a.Error("gitops-promote", e.redact.String(text)) // the stream is the last resort
	}
}

// usageError is a wrong command line: bad input.
type usageError struct{ msg string }

func (e *usageError) Error() string  { return e.msg }
func (e *usageError) BadInput() bool { return true }

// parseFlags parses args into fs, refusing positional arguments; errors are
// one line (the flag package's usage dump goes only to -h).
func parseFlags(e *env, fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(e.stderr)
			fmt.Fprintf(e.stderr, "Usage of gitops-promote %s:\n", fs.Name())
			fs.PrintDefaults()
			return flag.ErrHelp
		}
		return &usageError{msg: fmt.Sprintf("%v (see gitops-promote %s -h)", err, fs.Name())}
	}
	if fs.NArg() > 0 {
		arg := fs.Arg(0)
		if i := len(args) - fs.NArg(); i > 0 {
			prev := strings.TrimLeft(args[i-1], "-")
			if f := fs.Lookup(prev); f != nil {
				if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
					return &usageError{msg: fmt.Sprintf("unexpected argument %q after --%s: give a true/false flag its value with =, as --%s=false", arg, prev, prev)}
				}
			}
		}
		return &usageError{msg: fmt.Sprintf("unexpected argument %q: every input is a --flag (see gitops-promote %s -h)", arg, fs.Name())}
	}
	return nil
}
