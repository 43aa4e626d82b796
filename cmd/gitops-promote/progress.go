package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/actionio"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

var phaseTitles = map[promote.Phase]string{
	promote.PhaseFetch:    "Fetch the branch head",
	promote.PhaseEdit:     "Edit the overlays",
	promote.PhaseValidate: "Build the edited overlays",
	promote.PhaseLand:     "Land the commit",
	promote.PhaseMerge:    "Wait for the merge",
	promote.PhaseConfirm:  "Confirm the deploy",
}

// progress shows the run as it goes: in a runner one ::group:: per phase on
// stdout (the job log), in a terminal a heading per phase on stderr.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	a      *actionio.IO
	runner bool
}

func newProgress(e *env, a *actionio.IO, runner bool) *progress {
	w := e.stderr
	if runner {
		w = e.stdout
	}
	return &progress{w: w, a: a, runner: runner}
}

// logf writes one progress line.
func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := cutLong(strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
	fmt.Fprintf(p.w, "    %s\n", strings.ReplaceAll(line, "\n", "\n    "))
}

// PhaseStart opens a group or prints a heading.
func (p *progress) PhaseStart(ph promote.Phase) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runner {
		_ = p.a.Group(phaseTitles[ph]) // the log stream is best effort
		return
	}
	fmt.Fprintf(p.w, "==> %s\n", phaseTitles[ph])
}

// PhaseEnd closes the group, with the phase's duration.
func (p *progress) PhaseEnd(ph promote.Phase, d time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	status := "done"
	if err != nil {
		status = "failed"
	}
	fmt.Fprintf(p.w, "    %s in %s\n", status, d.Round(time.Millisecond))
	if p.runner {
		_ = p.a.EndGroup()
	}
}
