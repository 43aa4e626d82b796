package gitrepo

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/gitserver"
)

// TestTokenNeverLeaks drives every path that logs or fails with the token in
// play, from the URL's userinfo too, and scans all that was captured.
func TestTokenNeverLeaks(t *testing.T) {
	w := newWorld(t)
	var captured []string
	u, _ := url.Parse(w.srv.RepoURL(repoName))
	u.User = url.UserPassword("x-access-token", testToken)
	r, err := New(u.String(), WithLogf(w.logs.logf), WithRetry(3, 10*time.Millisecond, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	captured = append(captured, r.URL())
	step := func(err error) {
		if err != nil {
			captured = append(captured, err.Error())
			var h interface{ Hint() string }
			if errors.As(err, &h) {
				captured = append(captured, h.Hint())
			}
		}
	}
	land := func(fault func()) {
		snap, err := r.Fetch(t.Context(), "main")
		if err != nil {
			t.Fatal(err)
		}
		sha, err := snap.Commit([]File{{Path: prodFile, Content: []byte(snap.Head())}}, "msg", author)
		if err != nil {
			t.Fatal(err)
		}
		fault()
		step(snap.Push(t.Context(), sha, "main"))
		w.srv.Fail500(0)
	}
	land(func() { w.srv.Fail500(1) })
	land(func() { w.srv.CutPushes(1, gitserver.CutAfterApply) })
	land(func() { w.srv.Fail500(10) })
	land(func() {
		_, err := w.srv.CommitFiles(repoName, "main", map[string][]byte{"x": []byte("x")}, "race")
		step(err)
	})
	if err := w.srv.Protect(repoName, "main", gitserver.Ruleset); err != nil {
		t.Fatal(err)
	}
	land(func() {})
	_, err = r.Contains(t.Context(), "main", strings.Repeat("a", 40), strings.Repeat("b", 40))
	step(err)
	wrong := strings.Replace(u.String(), testToken, testToken+"x", 1)
	bad, err := New(wrong, WithLogf(w.logs.logf), WithRetry(3, 10*time.Millisecond, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	captured = append(captured, bad.URL())
	_, err = bad.Fetch(t.Context(), "main")
	step(err)
	_, err = New("ftp://x-access-token:" + testToken + "@example.com/x.git")
	step(err)

	captured = append(captured, w.logs.all()...)
	if len(captured) < 10 {
		t.Fatalf("captured only %d texts; the scenario did not run", len(captured))
	}
	for _, s := range captured {
		if strings.Contains(s, testToken) || strings.Contains(s, "SECRET") {
			t.Errorf("token leaked in %q", s)
		}
	}
}
