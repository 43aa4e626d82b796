package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type hinted struct{ bad bool }

func (h hinted) Error() string  { return "push refused" }
func (h hinted) BadInput() bool { return h.bad }
func (h hinted) Hint() string   { return "use mode: pull-request (or auto)" }

// trailingHint is an error whose hint ends in a newline, as a server's words may.
type trailingHint struct{}

func (trailingHint) Error() string { return "required check failed: ci\n" }
func (trailingHint) Hint() string  { return "re-run the check\n" }

func TestExitCodeAndErrorLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		runner     bool
		code       int
		wantStderr string
		wantStdout string
	}{
		{name: "nil", err: nil, code: 0},
		{name: "other", err: errors.New("network down"), code: 1, wantStderr: "error: network down\n"},
		{name: "hint", err: fmt.Errorf("landing: %w", hinted{}), code: 1, wantStderr: "error: landing: push refused\nhint: use mode: pull-request (or auto)\n"},
		{name: "bad input stays one line", err: fmt.Errorf("overlays: %w", hinted{bad: true}), code: 2, wantStderr: "error: overlays: push refused; use mode: pull-request (or auto)\n"},
		{name: "runner annotates once", err: hinted{}, runner: true, code: 1,
			wantStderr: "error: push refused\nhint: use mode: pull-request (or auto)\n",
			wantStdout: "::error title=gitops-promote::push refused%0Ause mode: pull-request (or auto)\n"},
		{name: "runner annotation has no encoded trailing newline", err: trailingHint{}, runner: true, code: 1,
			wantStderr: "error: required check failed: ci\nhint: re-run the check\n",
			wantStdout: "::error title=gitops-promote::required check failed: ci%0Are-run the check\n"},
		{name: "runner keeps the hint of one-line bad input", err: fmt.Errorf("overlays: %w", hinted{bad: true}), runner: true, code: 2,
			wantStderr: "error: overlays: push refused; use mode: pull-request (or auto)\n",
			wantStdout: "::error title=gitops-promote::overlays: push refused%0Ause mode: pull-request (or auto)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string {
				if k == "GITHUB_ACTIONS" && tc.runner {
					return "true"
				}
				return ""
			}
			e := &env{stdout: &stdout, stderr: &stderr, rawStdout: &stdout, getenv: getenv, redact: &redactor{}}
			code := exitCode(tc.err)
			if tc.err != nil {
				e.printError(tc.err)
			}
			if diff := cmp.Diff([]any{tc.code, tc.wantStderr, tc.wantStdout}, []any{code, stderr.String(), stdout.String()}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedactorHidesSecretsInEveryStream(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := &redactor{}
	r.add("s3cret-token", "", "  ")
	w := r.wrap(&out)
	fmt.Fprintf(w, "fetching https://x-access-token:%s@example.com failed: %s\n", "s3cret-token", "s3cret-token")
	if got, want := out.String(), "fetching https://x-access-token:***@example.com failed: ***\n"; got != want {
		t.Errorf("redacted %q, want %q", got, want)
	}
}

func TestMainInProcess(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"edit", "--images", "a:1", "--overlays", "o", "--token", "x"}, &stdout, &stderr, func(string) string { return "" })
	if code != 2 || !strings.HasPrefix(stderr.String(), "error: flag provided but not defined: -token") {
		t.Errorf("exit %d stderr %q; edit takes no token", code, stderr.String())
	}
}
