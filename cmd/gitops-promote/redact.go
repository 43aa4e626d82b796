package main

import (
	"io"
	"net/url"
	"strings"
	"sync"
)

// redactor replaces secrets with *** in everything written through the
// writers it wraps, and strips userinfo from URLs it is asked to show.
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

// redactURL drops the userinfo of a URL for display.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
