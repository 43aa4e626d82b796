package promote

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/config"
)

// netErr is a network fault as the git adapter reports it: Temporary, and
// sent when the push went out before the fault (it may have landed).
type netErr struct {
	msg  string
	sent bool
}

func (e *netErr) Error() string       { return e.msg }
func (e *netErr) Temporary() bool     { return true }
func (e *netErr) MayHaveLanded() bool { return e.sent }

// faultyRemote is the fake remote whose pushes can fail like a network does
// and whose snapshots, like gitrepo's, only push commits they made.
type faultyRemote struct {
	*fakeRemote
	// fault runs for push n (from 1) instead of the push; apply does the
	// push (fast-forward checked). nil: every push is applied.
	fault func(r *fakeRemote, n int, apply func() error) error
	n     int
}

func (r *faultyRemote) Fetch(ctx context.Context, branch string) (Snapshot, error) {
	s, err := r.fakeRemote.Fetch(ctx, branch)
	if err != nil {
		return nil, err
	}
	return &faultySnap{fakeSnap: s.(*fakeSnap), r: r, made: map[string]bool{}}, nil
}

type faultySnap struct {
	*fakeSnap
	r    *faultyRemote
	made map[string]bool
}

func (s *faultySnap) Commit(files []File, msg string, author Author) (string, error) {
	sha, err := s.fakeSnap.Commit(files, msg, author)
	if err == nil {
		s.made[sha] = true
	}
	return sha, err
}

func (s *faultySnap) Push(ctx context.Context, sha, branch string) error {
	if !s.made[sha] {
		return fmt.Errorf("commit %s was not made on this snapshot", sha)
	}
	s.r.n++
	apply := func() error { return s.fakeSnap.Push(ctx, sha, branch) }
	if s.r.fault == nil {
		return apply()
	}
	return s.r.fault(s.r.fakeRemote, s.r.n, apply)
}

func quickRetry() Retry {
	r := DefaultRetry()
	r.Initial, r.Max = time.Millisecond, 2*time.Millisecond
	return r
}

// cut is a connection cut after the push was sent; cutBefore one cut
// before anything went out.
func cut() error { return &netErr{msg: "pushing: network error: the connection was cut", sent: true} }

func cutBefore() error {
	return &netErr{msg: "pushing: network error: the connection was cut before the push went out"}
}

// Finding 2: the push landed but its answer was lost. The run reads the
// branch: at our commit, or at a commit built on it, is landed: commit-sha
// and revision are ours, no second commit, and Argo CD is asked as usual.
func TestRunPushWhoseAnswerWasLostIsLanded(t *testing.T) {
	t.Parallel()
	for _, onTop := range []bool{false, true} {
		t.Run(fmt.Sprintf("another commit on top %v", onTop), func(t *testing.T) {
			t.Parallel()
			r := &faultyRemote{fakeRemote: newFakeRemote(t, "main")}
			var other string
			r.fault = func(fr *fakeRemote, n int, apply func() error) error {
				if err := apply(); err != nil || n != 1 {
					return err
				}
				if onTop { // another pipeline lands on ours before we look again
					other = fr.commitOn("main", func(f map[string][]byte) { f["other.txt"] = []byte("x") })
				}
				return cut()
			}
			argo := &fakeArgo{}
			cfg := testConfig(func(c *config.Config) { c.ArgoCDApps = []string{"user-service-production"} })
			res, err := New(r, WithRetry(quickRetry()), WithArgoCD(argo)).Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			ours := res.CommitSHA
			if ours == "" || res.Revision != ours || !res.Changed || res.LandedBy != LandedByPush {
				t.Fatalf("commit-sha %q revision %q changed %v landed-by %q; want our commit as both", ours, res.Revision, res.Changed, res.LandedBy)
			}
			if r.n != 1 {
				t.Errorf("%d pushes, want 1 (the lost answer is resolved by reading the branch)", r.n)
			}
			want := ours
			if onTop {
				want = other
				if r.commits[other].parent != ours {
					t.Errorf("the other commit is not on top of ours")
				}
			}
			if head := r.branches["main"]; head != want {
				t.Errorf("the branch is at %s, want %s", head, want)
			}
			if len(argo.specs) != 1 || argo.specs[0].Revision != ours || !res.Deployed {
				t.Errorf("Argo CD asked %d times, deployed %v; want once for %s", len(argo.specs), res.Deployed, ours)
			}
			if len(res.Changes) != 1 || res.Changes[0].New != "ghcr.io/acme/user-service:1.4.2" {
				t.Errorf("changes %+v, want our one change", res.Changes)
			}
		})
	}
}

// Finding 3: several pushes in a row cut before they reach the server. The
// run keeps going (a new commit on each new snapshot, never one made on
// another) and lands once the network is back.
func TestRunPushNetworkBlipLands(t *testing.T) {
	t.Parallel()
	r := &faultyRemote{fakeRemote: newFakeRemote(t, "main")}
	r.fault = func(_ *fakeRemote, n int, apply func() error) error {
		if n <= 4 {
			return cut()
		}
		return apply()
	}
	res, err := New(r, WithRetry(quickRetry())).Run(context.Background(), testConfig())
	if err != nil {
		t.Fatalf("Run after four cut pushes: %v", err)
	}
	if res.CommitSHA == "" || res.CommitSHA != r.branches["main"] || res.Attempts != 5 {
		t.Errorf("commit %q, head %q, attempts %d; want our commit at the head after 5 attempts", res.CommitSHA, r.branches["main"], res.Attempts)
	}
}

// Lost races are retried until the landing budget is spent, not for a
// fixed count: thirty races in a row still land with the default policy.
func TestRunLostRacesAreBoundedByTimeNotCount(t *testing.T) {
	t.Parallel()
	r := newFakeRemote(t, "main")
	r.beforePush = func(r *fakeRemote, n int) {
		if n <= 30 {
			r.commitOn("main", func(f map[string][]byte) { f["x"] = []byte{byte(n)} })
		}
	}
	res, err := New(r, WithRetry(quickRetry())).Run(context.Background(), testConfig())
	if err != nil {
		t.Fatalf("Run after thirty lost races: %v", err)
	}
	if res.Attempts != 31 || res.CommitSHA != r.branches["main"] {
		t.Errorf("attempts %d, commit %q at head %v; want 31 attempts and our commit at the head", res.Attempts, res.CommitSHA, res.CommitSHA == r.branches["main"])
	}
}

// Once the budget (timeout) is spent, the run ends with a plain error: never
// bad input, saying what kept failing.
func TestRunGivesUpWhenTheBudgetIsSpent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault func(*fakeRemote, int, func() error) error
		want  string
	}{
		{"network", func(*fakeRemote, int, func() error) error { return cutBefore() }, "gave up after"},
		{"lost answers", func(_ *fakeRemote, _ int, _ func() error) error {
			return &netErr{msg: "pushing: network error: no answer within 1m0s", sent: true}
		}, "could not tell whether commit"},
		{"races", func(fr *fakeRemote, n int, apply func() error) error {
			fr.commitOn("main", func(f map[string][]byte) { f["x"] = []byte{byte(n)} })
			return apply()
		}, "other changes kept landing first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &faultyRemote{fakeRemote: newFakeRemote(t, "main"), fault: tc.fault}
			// Long enough for a second attempt after a first one that builds the
			// overlay under the race detector on a loaded machine.
			cfg := testConfig(func(c *config.Config) { c.Timeout = 3 * time.Second })
			res, err := New(r, WithRetry(quickRetry())).Run(context.Background(), cfg)
			var bad interface{ BadInput() bool }
			if err == nil || errors.As(err, &bad) {
				t.Fatalf("err = %v, want a plain error, not bad input", err)
			}
			var h interface{ Hint() string }
			if !strings.Contains(err.Error(), tc.want) || !errors.As(err, &h) || h.Hint() == "" {
				t.Errorf("err = %v, want it to say %q, with a hint", err, tc.want)
			}
			if res.CommitSHA != "" || res.Attempts < 2 {
				t.Errorf("commit-sha %q after %d attempts; want none, after retries", res.CommitSHA, res.Attempts)
			}
		})
	}
}
