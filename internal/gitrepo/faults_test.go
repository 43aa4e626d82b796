package gitrepo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/faultproxy"
)

// proxied returns a Remote on the world's repository through a fault proxy
// in front of the real git server.
func (w *world) proxied(t *testing.T, opts ...Option) (*Remote, *faultproxy.Proxy) {
	t.Helper()
	p, err := faultproxy.Start(w.srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	opts = append([]Option{
		WithToken(testToken), WithLogf(w.logs.logf), WithRetry(4, 10*time.Millisecond, 20*time.Second),
	}, opts...)
	r, err := New(p.URL(w.srv.RepoURL(repoName)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r, p
}

func (w *world) commitOnSeed(t *testing.T, r *Remote) (*Snapshot, string) {
	t.Helper()
	snap, err := r.Fetch(t.Context(), "main")
	if err != nil {
		t.Fatal(err)
	}
	sha, err := snap.Commit([]File{{Path: prodFile, Content: newProd}}, "Set web to 1.1", author)
	if err != nil {
		t.Fatal(err)
	}
	return snap, sha
}

// Finding 2, at the git layer: the server applied the push but the answer
// never came (dropped and the connection left silent, or cut). Push reads the
// branch again and reports success when the branch is at our commit, or at
// a commit built on it (another pipeline landed on top in between).
func TestPushWhoseAnswerWasLostLanded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault faultproxy.Fault
		onTop bool // another commit lands on ours before we look again
	}{
		{"answer dropped, branch at ours", faultproxy.DropAnswer, false},
		{"cut after apply, a commit on top of ours", faultproxy.CutAfterApply, true},
		{"answer dropped, a commit on top of ours", faultproxy.DropAnswer, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			r, p := w.proxied(t, WithRequestTimeout(2*time.Second))
			snap, sha := w.commitOnSeed(t, r)
			var other string
			if tc.onTop {
				p.AfterFault(func(faultproxy.Exchange) {
					var err error
					if other, err = w.srv.CommitFiles(repoName, "main", map[string][]byte{"apps/api/other.txt": []byte("x\n")}, "another pipeline"); err != nil {
						t.Error(err)
					}
				})
			}
			p.Inject(faultproxy.Pushes, tc.fault, 1)
			if err := snap.Push(t.Context(), sha, "main"); err != nil {
				t.Fatalf("Push whose answer was lost: %v\nlog:\n%s", err, strings.Join(w.logs.all(), "\n"))
			}
			want := sha
			if tc.onTop {
				want = other
				if got := w.git(t, "rev-parse", other+"^"); got != sha {
					t.Fatalf("the other commit's parent is %s, want ours %s", got, sha)
				}
			}
			if got := w.head(t); got != want {
				t.Errorf("main = %s, want %s", got, want)
			}
			if n := w.git(t, "rev-list", "--count", w.seed+"..main"); n != map[bool]string{false: "1", true: "2"}[tc.onTop] {
				t.Errorf("%s commits on main since the seed: our commit landed twice or not at all", n)
			}
			if !w.logs.contains("the earlier push landed") {
				t.Errorf("the log does not say the earlier push landed:\n%s", strings.Join(w.logs.all(), "\n"))
			}
		})
	}
}

// Finding 3, at the git layer: pushes cut before the server saw them, many
// in a row, are network faults (Temporary, never bad input) and nothing
// lands; once the network is back the same commit lands.
func TestCutPushesAreNetworkFaults(t *testing.T) {
	w := newWorld(t)
	r, p := w.proxied(t)
	snap, sha := w.commitOnSeed(t, r)
	p.Inject(faultproxy.Pushes, faultproxy.CutBeforeApply, -1)
	err := snap.Push(t.Context(), sha, "main")
	var ne *NetworkError
	var bad interface{ BadInput() bool }
	if !errors.As(err, &ne) || errors.As(err, &bad) {
		t.Fatalf("Push through cut connections: %v, want a *NetworkError and no bad input", err)
	}
	if w.head(t) != w.seed {
		t.Fatalf("main moved through cut pushes")
	}
	p.Clear()
	if err := snap.Push(t.Context(), sha, "main"); err != nil {
		t.Fatalf("Push once the network is back: %v", err)
	}
	if w.head(t) != sha {
		t.Errorf("main = %s, want %s", w.head(t), sha)
	}
}

// Finding 6, at the git layer: a server that accepts and never answers
// costs one request ceiling per exchange, and the ctx bounds the whole call.
func TestHungServerIsBoundedByTheRequestCeilingAndCtx(t *testing.T) {
	w := newWorld(t)
	t.Run("one hung exchange is retried after the ceiling", func(t *testing.T) {
		r, p := w.proxied(t, WithRequestTimeout(500*time.Millisecond))
		p.Inject(faultproxy.Any, faultproxy.Hang, 1)
		snap, err := r.Fetch(t.Context(), "main")
		if err != nil {
			t.Fatalf("Fetch after one hung exchange: %v", err)
		}
		if snap.Head() != w.seed {
			t.Errorf("head %s, want %s", snap.Head(), w.seed)
		}
		if !w.logs.contains("no answer within 500ms") {
			t.Errorf("the retry does not say the server did not answer:\n%s", strings.Join(w.logs.all(), "\n"))
		}
	})
	t.Run("a server that never answers ends with ctx", func(t *testing.T) {
		// The default ceiling (a minute) is longer than the test waits: only
		// ctx can end the call.
		r, p := w.proxied(t)
		p.Inject(faultproxy.Any, faultproxy.Hang, -1)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { _, err := r.Fetch(ctx, "main"); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Fetch from a hung server: %v, want the ctx's deadline", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Fetch from a hung server outlived its ctx by 29 s")
		}
	})
}
