package main

import (
	"io"
	"strings"
	"sync"

	"github.com/gitops-promote/gitops-promote/internal/actionio"
)

// redactor replaces secrets with *** in everything written through the
// writers it wraps. URLs never carry credentials here: config refuses them
// in every URL input.
type redactor struct {
	mu      sync.Mutex
	secrets []string
}

// add registers secrets to hide (blank ones are ignored).
func (r *redactor) add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if strings.TrimSpace(s) != "" {
			r.secrets = append(r.secrets, s)
		}
	}
}

// String returns s with every secret replaced.
func (r *redactor) String(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}

func (r *redactor) wrap(w io.Writer) io.Writer { return &redactWriter{r: r, w: w} }

type redactWriter struct {
	r *redactor
	w io.Writer
}

func (w *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.w, w.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// hideSecrets redacts secrets from everything written, and in a runner also
// masks them in the job log (::add-mask:: on the raw stdout).
func (e *env) hideSecrets(a *actionio.IO, runner bool, secrets ...string) error {
	e.redact.add(secrets...)
	if !runner {
		return nil
	}
	return a.AddMask(secrets...)
}

// sessionHider is the onSession of adapters: an Argo CD session token
// obtained by login is hidden like the configured secrets.
func (e *env) sessionHider(a *actionio.IO, runner bool) func(string) {
	return func(token string) {
		_ = e.hideSecrets(a, runner, token) // masking is best effort once the run is under way
	}
}
