package main

import (
	"io"
	"strings"
	"sync"
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
