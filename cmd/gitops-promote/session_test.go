package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gitops-promote/gitops-promote/internal/actionio"
	"github.com/gitops-promote/gitops-promote/internal/config"
	"github.com/gitops-promote/gitops-promote/internal/promote"
)

// TestArgoCDSessionTokenIsHidden: a login hands out a session token; it is
// redacted from every stream and, in a runner, masked in the job log.
func TestArgoCDSessionTokenIsHidden(t *testing.T) {
	t.Parallel()
	const session = "eyJhbGciOiJIUzI1NiJ9.session-token-4c1d"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/session":
			_ = json.NewEncoder(w).Encode(map[string]string{"token": session})
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	for _, runner := range []bool{false, true} {
		var raw bytes.Buffer
		getenv := func(k string) string {
			if k == "GITHUB_ACTIONS" && runner {
				return "true"
			}
			return ""
		}
		e := &env{rawStdout: &raw, getenv: getenv, redact: &redactor{}}
		e.stdout = e.redact.wrap(&raw)
		cfg := config.Default()
		cfg.Verb, cfg.ArgoCDServer, cfg.ArgoCDUsername, cfg.ArgoCDPassword = config.VerbWait, srv.URL, "admin", "pw"
		cfg.ArgoCDApps, cfg.Revision = []string{"x"}, strings.Repeat("a", 40)
		// The wait ends once the token was seen: what Argo CD answers next does not matter here.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		hide := e.sessionHider(actionio.New(actionio.WithGetenv(getenv), actionio.WithWriter(&raw)), runner)
		opts, _, err := adapters(cfg, getenv, func(string, ...any) {}, func(tok string) { hide(tok); cancel() })
		if err != nil {
			t.Fatal(err)
		}
		_, _ = promote.New(nil, opts...).Wait(ctx, cfg)
		cancel() // the app is missing: the answer does not matter here
		if got := e.redact.String("token " + session); got != "token ***" {
			t.Errorf("runner=%v: the session token is not redacted: %q", runner, got)
		}
		wantMask := ""
		if runner {
			wantMask = "::add-mask::" + session + "\n"
		}
		if diff := cmp.Diff(wantMask, raw.String()); diff != "" {
			t.Errorf("runner=%v: raw stdout (-want +got):\n%s", runner, diff)
		}
	}
}
