package argocd_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/argocd"
)

// Finding 7: answers that will not change (a wrong API path, a body that is
// not JSON, 415) end the wait at once, naming the URL and what was
// expected, instead of being retried until the timeout.
func TestPermanentArgoCDErrorsFailAtOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    []string
	}{
		{"404 on the API path", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, []string{"/argocd/api/v1/applications/web", "404 Not Found", "expected an Argo CD Application as JSON"}},
		{"200 that is not JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Argo CD</body></html>"))
		}, []string{"/argocd/api/v1/applications/web", "200 with a body that is not JSON (text/html)", "expected an Argo CD Application as JSON"}},
		{"415", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Invalid content type", http.StatusUnsupportedMediaType)
		}, []string{"/argocd/api/v1/applications/web", "415 Unsupported Media Type"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			c, err := argocd.New(srv.URL+"/argocd", argocd.WithToken("tok"))
			if err != nil {
				t.Fatal(err)
			}
			// A deadline far beyond what a failing-at-once wait needs: a
			// retried error ends as a time-out instead.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = c.Wait(ctx, argocd.WaitSpec{
				Apps: []argocd.AppRef{{Name: "web"}}, Revision: strings.Repeat("a", 40),
				PollInterval: 50 * time.Millisecond, ReconnectMin: 10 * time.Millisecond,
			})
			var pe *argocd.PermanentError
			if !errors.As(err, &pe) {
				t.Fatalf("Wait = %v, want a *PermanentError", err)
			}
			if ctx.Err() != nil {
				t.Errorf("the wait ran until its deadline")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "tok") {
				t.Errorf("error carries the token: %v", err)
			}
		})
	}
}

// A login answered with something that is not a session token fails at
// once too.
func TestLoginWithoutATokenFailsAtOnce(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	}))
	t.Cleanup(srv.Close)
	c, err := argocd.New(srv.URL, argocd.WithLogin("admin", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = c.Wait(ctx, argocd.WaitSpec{Apps: []argocd.AppRef{{Name: "web"}}, Revision: strings.Repeat("a", 40), PollInterval: 50 * time.Millisecond})
	var pe *argocd.PermanentError
	if !errors.As(err, &pe) || ctx.Err() != nil || !strings.Contains(err.Error(), "/api/v1/session") {
		t.Fatalf("Wait = %v, want a *PermanentError naming /api/v1/session at once", err)
	}
}
