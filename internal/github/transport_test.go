package github

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gitops-promote/gitops-promote/internal/sandbox/githubsim"
	"github.com/google/go-cmp/cmp"
)

func TestRateLimitsAndServerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		faults    []githubsim.Fault
		op        string // "rest" (a GET), "query" (GraphQL read) or "mutation"
		wantWaits []time.Duration
		wantErr   func(error) bool
	}{
		{
			name:      "secondary limit with Retry-After",
			faults:    []githubsim.Fault{{Status: 403, RetryAfter: 7}},
			op:        "rest",
			wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name:      "secondary limit without a header waits at least a minute, then longer",
			faults:    []githubsim.Fault{{Status: 403}, {Status: 403}},
			op:        "rest",
			wantWaits: []time.Duration{time.Minute, 2 * time.Minute},
		},
		{
			name:      "429 with Retry-After on GraphQL",
			faults:    []githubsim.Fault{{Status: 429, RetryAfter: 3}},
			op:        "query",
			wantWaits: []time.Duration{3 * time.Second},
		},
		{
			name:      "secondary limit on a mutation is retried too",
			faults:    []githubsim.Fault{{Status: 403, RetryAfter: 2}},
			op:        "mutation",
			wantWaits: []time.Duration{2 * time.Second},
		},
		{
			name:   "limit that stays",
			faults: []githubsim.Fault{{Status: 403, RetryAfter: 1}, {Status: 403, RetryAfter: 1}, {Status: 403, RetryAfter: 1}, {Status: 403, RetryAfter: 1}},
			op:     "rest",
			wantErr: func(err error) bool {
				var rl *RateLimitError
				return errors.As(err, &rl) && rl.Secondary && rl.Retries == 3
			},
			wantWaits: []time.Duration{time.Second, time.Second, time.Second},
		},
		{
			name:    "wait longer than accepted fails at once",
			faults:  []githubsim.Fault{{Status: 403, RetryAfter: 3600}},
			op:      "rest",
			wantErr: func(err error) bool { var rl *RateLimitError; return errors.As(err, &rl) && rl.Wait == time.Hour },
		},
		{
			name:   "GraphQL primary limit: 200 with RATE_LIMITED waits for the reset",
			faults: []githubsim.Fault{{Status: 200, Primary: true, ResetIn: 2 * time.Hour}},
			op:     "query",
			wantErr: func(err error) bool {
				var rl *RateLimitError
				return errors.As(err, &rl) && !rl.Secondary && rl.Wait > time.Hour
			},
			wantWaits: nil,
		},
		{
			name:   "5xx on a read is retried",
			faults: []githubsim.Fault{{Status: 502}, {Status: 503}},
			op:     "query",
		},
		{
			name:    "5xx on a mutation is not retried",
			faults:  []githubsim.Fault{{Status: 502}},
			op:      "mutation",
			wantErr: func(err error) bool { return err != nil },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, githubsim.RepoSettings{}, WithRetries(3))
			head := w.head("main")
			w.sim.ResetRequests()
			w.sim.InjectFaults(tc.faults...)
			var err error
			switch tc.op {
			case "rest":
				var got string
				got, err = w.c.BranchHead(context.Background(), owner, repoName, "main")
				if err == nil && got != head {
					t.Errorf("BranchHead = %s, want %s", got, head)
				}
			case "query":
				_, _, _, err = w.c.readForMerge(context.Background(), &PR{Owner: owner, Repo: repoName, Number: 1, BaseRef: "main"})
				var ge *GraphQLError
				if errors.As(err, &ge) && ge.HasType("NOT_FOUND") {
					err = nil // the read went through; there is no PR #1
				}
			case "mutation":
				_, err = w.c.CommitOnBranch(context.Background(), CommitSpec{Owner: owner, Repo: repoName, Branch: "main",
					ExpectedHeadOid: head, Message: "m", Additions: map[string][]byte{"x": []byte("y")}})
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("error = %v, want success after the faults", err)
			}
			if tc.wantErr != nil && !tc.wantErr(err) {
				t.Fatalf("error = %v, not the expected kind", err)
			}
			waits := w.clock.Sleeps()
			if tc.op == "query" && len(tc.wantWaits) == 0 && tc.wantErr == nil {
				if len(waits) != len(tc.faults) {
					t.Errorf("waits = %v, want one per 5xx answer", waits)
				}
				return
			}
			if diff := cmp.Diff(tc.wantWaits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPrimaryRateLimitWaitsForTheReset(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{})
	w.sim.InjectFaults(githubsim.Fault{Status: 403, Primary: true, ResetIn: 30 * time.Second})
	if _, err := w.c.BranchHead(context.Background(), owner, repoName, "main"); err != nil {
		t.Fatal(err)
	}
	waits := w.clock.Sleeps()
	// The reset is a whole second from the simulator's clock; the client adds a second.
	if len(waits) != 1 || waits[0] < 29*time.Second || waits[0] > 32*time.Second {
		t.Errorf("waits = %v, want one wait until the reset (about 31 s)", waits)
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, rest, gql string
	}{
		{"https://api.github.com", "https://api.github.com/", "https://api.github.com/graphql"},
		{"https://api.github.com/", "https://api.github.com/", "https://api.github.com/graphql"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"},
		{"https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/graphql"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			rest, gql, err := endpoints(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tc.rest, tc.gql}, []string{rest.String(), gql}); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
		})
	}
	_, _, err := endpoints("https://user:s3cret@ghe.example.com:bad")
	var bad interface{ BadInput() bool }
	if !errors.As(err, &bad) {
		t.Errorf("bad URL error = %v, want bad input", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the URL's password leaked: %v", err)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
		tok  string
		opts []Option
		want string
	}{
		{"no token", "https://api.github.com", "", nil, "a GitHub token is required for the GitHub API"},
		{"fast polling", "https://api.github.com", "t", []Option{WithPollInterval(time.Second)}, "poll interval 1s is below the minimum of 5s"},
		{"not a URL", "ftp://x", "t", nil, `github-api-url "ftp://x" is not an http(s) URL`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.url, tc.tok, tc.opts...)
			if err == nil || err.Error() != tc.want {
				t.Errorf("New error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer hang.Close()
	c, err := New(hang.URL, testToken, WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}), WithClock(newFakeClock()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.BranchHead(context.Background(), owner, repoName, "main")
	if err == nil || !strings.Contains(err.Error(), "no answer from GitHub within 50ms") {
		t.Errorf("error = %v, want a timeout naming the limit", err)
	}
}

func TestGraphQLPrimaryLimitRetriedAfterReset(t *testing.T) {
	t.Parallel()
	w := newWorld(t, githubsim.RepoSettings{})
	w.sim.InjectFaults(githubsim.Fault{Status: 200, Primary: true, ResetIn: 20 * time.Second})
	_, _, _, err := w.c.readForMerge(context.Background(), &PR{Owner: owner, Repo: repoName, Number: 1, BaseRef: "main"})
	var ge *GraphQLError
	if !errors.As(err, &ge) || !ge.HasType("NOT_FOUND") {
		t.Fatalf("error = %v, want the real answer (no PR #1) after the wait", err)
	}
	waits := w.clock.Sleeps()
	if len(waits) != 1 || waits[0] < 19*time.Second || waits[0] > 22*time.Second {
		t.Errorf("waits = %v, want one wait until the reset (about 21 s)", waits)
	}
}
