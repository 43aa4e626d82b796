package githubsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	graphql "github.com/graph-gophers/graphql-go"
)

// Server is a running GitHub API simulator.
type Server struct {
	mu      sync.Mutex
	srv     *httptest.Server
	token   string
	login   string
	bareDir func(owner, name string) string
	logf    func(format string, args ...any)
	now     func() time.Time
	schema  *graphql.Schema
	repos   map[string]*repoState
	nextID  int
	faults  []Fault
	counts  map[string]int
	st      statusStore // statuses.go: statuses, check runs, deployments
	apps    apps        // apps.go: GitHub Apps and their installation tokens
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the token that requests must carry as "Bearer <token>" or
// "token <token>" (default "sim-token").
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithReposRoot serves the bare repositories laid out as <root>/<owner>/<name>.git.
func WithReposRoot(root string) Option { return func(s *Server) { s.bareDir = bareDirIn(root) } }

// WithBareDir serves the bare repository path that dir returns for owner/name.
func WithBareDir(dir func(owner, name string) string) Option {
	return func(s *Server) { s.bareDir = dir }
}

// WithLogin sets the login of the authenticated user (default "gitops-bot").
func WithLogin(login string) Option { return func(s *Server) { s.login = login } }

// WithLogf reports what the simulator does, one line per event.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(s *Server) { s.logf = logf }
}

// WithNow sets the simulator's clock (default time.Now).
func WithNow(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Start starts a simulator on 127.0.0.1.
func Start(opts ...Option) (*Server, error) {
	s := &Server{
		token:  "sim-token",
		login:  "gitops-bot",
		logf:   func(string, ...any) {},
		now:    time.Now,
		repos:  map[string]*repoState{},
		counts: map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	if s.bareDir == nil {
		return nil, errors.New("starting the GitHub simulator: WithReposRoot or WithBareDir is required")
	}
	schema, err := graphql.ParseSchema(schemaSDL+statusSDL, &rootResolver{s: s}, graphql.UseFieldResolvers(), graphql.MaxParallelism(1))
	if err != nil {
		return nil, fmt.Errorf("parsing the simulator's GraphQL schema: %w", err)
	}
	s.schema = schema
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on 127.0.0.1: %w", err)
	}
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}}
	s.srv.Start()
	return s, nil
}

// URL is the REST API root (what github-api-url takes); GraphQL is at
// URL()+"/graphql". URL()+"/api/v3" works too, as on GitHub Enterprise Server
// (GraphQL at URL()+"/api/graphql").
func (s *Server) URL() string { return s.srv.URL }

// Close stops the simulator.
func (s *Server) Close() { s.srv.Close() }

// AddRepo makes owner/name known to the simulator; its bare repository must exist.
func (s *Server) AddRepo(owner, name string, set RepoSettings) error {
	dir := s.bareDir(owner, name)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("adding repository %q: %w", owner+"/"+name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.repos[owner+"/"+name] = &repoState{id: s.nextID, owner: owner, name: name, git: bare{dir: dir}, set: set, verified: map[string]bool{}}
	return nil
}

// UpdateRepo changes a repository's settings.
func (s *Server) UpdateRepo(repo string, update func(*RepoSettings)) error {
	return s.withRepo(repo, func(r *repoState) error { update(&r.set); return nil })
}

func (s *Server) withRepo(repo string, fn func(*repoState) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repo]
	if !ok {
		return fmt.Errorf("repository %q is not in the simulator", repo)
	}
	return fn(r)
}

func (s *Server) withPull(repo string, number int, fn func(*repoState, *pull) error) error {
	return s.withRepo(repo, func(r *repoState) error {
		p := r.pull(number)
		if p == nil {
			return fmt.Errorf("pull request %s#%d does not exist", repo, number)
		}
		return fn(r, p)
	})
}

// SetChecksPassing switches "required checks pass now" for a repository.
// Turning it on merges pull requests with auto-merge enabled and processes
// the merge queue, as GitHub does.
func (s *Server) SetChecksPassing(repo string, passing bool) error {
	return s.withRepo(repo, func(r *repoState) error {
		r.passing = passing
		if passing {
			s.settle(context.Background(), r, true)
		}
		return nil
	})
}

// ClosePR closes a pull request without merging it, as the person with
// login would; the timeline gets a ClosedEvent.
func (s *Server) ClosePR(repo string, number int, login string) error {
	return s.withPull(repo, number, func(r *repoState, p *pull) error {
		s.close(context.Background(), r, p, login)
		return nil
	})
}

// SetDraft marks a pull request as a draft or ready for review.
func (s *Server) SetDraft(repo string, number int, draft bool) error {
	return s.withPull(repo, number, func(r *repoState, p *pull) error { p.draft = draft; return nil })
}

// RemoveFromQueue drops a pull request from the merge queue, as GitHub does
// when the merge group's checks fail, with reason on the timeline's
// RemovedFromMergeQueueEvent; auto-merge is turned off with it.
func (s *Server) RemoveFromQueue(repo string, number int, reason string) error {
	return s.withPull(repo, number, func(r *repoState, p *pull) error {
		if !p.inQueue {
			return fmt.Errorf("pull request %s#%d is not in the merge queue", repo, number)
		}
		s.dequeue(r, p)
		p.events = append(p.events, event{kind: "REMOVED_FROM_MERGE_QUEUE_EVENT", at: s.now(), actor: "github-merge-queue", reason: reason})
		return nil
	})
}

// DisableAutoMerge turns auto-merge off on a pull request, as the person
// with login would (or GitHub itself, with its reason).
func (s *Server) DisableAutoMerge(repo string, number int, login, reason string) error {
	return s.withPull(repo, number, func(r *repoState, p *pull) error {
		if p.auto == nil {
			return fmt.Errorf("pull request %s#%d has no auto-merge", repo, number)
		}
		p.auto = nil
		p.events = append(p.events, event{kind: "AUTO_MERGE_DISABLED_EVENT", at: s.now(), actor: login, reason: reason})
		return nil
	})
}

// PullState is what a test may assert about a pull request.
type PullState struct {
	Number      int
	Title, Body string
	Head, Base  string
	State       string // OPEN, CLOSED or MERGED
	Draft       bool
	AutoMerge   string // the auto-merge method, "" when off
	InQueue     bool
	MergeCommit string
	Labels      []string
	Reviewers   []string
}

// Pulls lists a repository's pull requests, oldest first.
func (s *Server) Pulls(repo string) ([]PullState, error) {
	var out []PullState
	err := s.withRepo(repo, func(r *repoState) error {
		for _, p := range r.pulls {
			ps := PullState{Number: p.number, Title: p.title, Body: p.body, Head: p.head, Base: p.base,
				State: pullState(p), Draft: p.draft, InQueue: p.inQueue, MergeCommit: p.mergeSHA,
				Labels: append([]string(nil), p.labels...), Reviewers: append([]string(nil), p.reviewers...)}
			if p.auto != nil {
				ps.AutoMerge = p.auto.method
			}
			out = append(out, ps)
		}
		return nil
	})
	return out, err
}

// Verified reports whether the simulator created commit sha through the API
// (createCommitOnBranch), which GitHub signs and shows as Verified.
func (s *Server) Verified(repo, sha string) bool {
	var v bool
	_ = s.withRepo(repo, func(r *repoState) error { v = r.verified[sha]; return nil })
	return v
}

func pullState(p *pull) string {
	switch {
	case p.merged:
		return "MERGED"
	case p.closed:
		return "CLOSED"
	}
	return "OPEN"
}

// Fault is an injected answer that replaces the next request's real one.
type Fault struct {
	// Status is 403 or 429 for a rate limit, 401 for a refused token
	// ("Bad credentials"), or a 5xx; 200 with Primary on a
	// GraphQL request is GraphQL's RATE_LIMITED answer.
	Status int
	// RetryAfter, when above zero, is sent as the Retry-After header (seconds).
	RetryAfter int
	// Primary makes a 403/429 a primary rate limit (x-ratelimit-remaining: 0
	// and x-ratelimit-reset ResetIn from now); otherwise it is a secondary limit.
	Primary bool
	// ResetIn is the primary limit's reset, from now (default 60 s).
	ResetIn time.Duration
	// Match, when set, makes the fault wait for the next request to that
	// route, as Requests names it ("POST /repos/{owner}/{repo}/pulls");
	// other requests pass. Empty: the very next request.
	Match string
	// Applied carries the request out before the fault replaces its answer:
	// the change is made, the answer is lost (a 5xx after the write).
	Applied bool
}

// InjectFaults queues answers for the next len(faults) requests.
func (s *Server) InjectFaults(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// Requests returns the number of requests by endpoint: the REST route
// ("GET /repos/{owner}/{repo}/pulls") or "POST /graphql <operation field>".
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// TotalRequests is the number of requests answered since start or the last ResetRequests.
func (s *Server) TotalRequests() int {
	n := 0
	for _, v := range s.Requests() {
		n += v
	}
	return n
}

// ResetRequests zeroes the request counts.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
}

// RequestLines renders the counts one per line, sorted, for test failure messages.
func (s *Server) RequestLines() string {
	counts := s.Requests()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%3d %s\n", counts[k], k)
	}
	return b.String()
}

func (s *Server) identity() gitIdentity {
	return gitIdentity{authorName: s.login, authorEmail: s.login + "@users.noreply.github.com", when: s.now()}
}

// handler wraps the routes with counting, auth, injected faults and rate-limit headers.
func (s *Server) handler() http.Handler {
	mux := s.routes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// GitHub Enterprise Server serves REST under /api/v3 (GraphQL at /api/graphql).
		if rest, ok := strings.CutPrefix(r.URL.Path, "/api/v3/"); ok {
			r = r.Clone(r.Context())
			r.URL.Path, r.URL.RawPath = "/"+rest, ""
		}
		_, pattern := mux.Handler(r)
		key := pattern
		if pattern == "" {
			key = r.Method + " (unknown) " + r.URL.Path
		}
		graphQL := strings.HasSuffix(pattern, "graphql")
		if !graphQL {
			s.count(key) // the GraphQL handler counts by operation
		}
		s.mu.Lock()
		var fault *Fault
		for i, f := range s.faults {
			if f.Match == "" || f.Match == key {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
				fault = &f
				break
			}
		}
		s.mu.Unlock()
		s.rateHeaders(w, 4999)
		if fault != nil && fault.Applied && s.authorized(r) {
			mux.ServeHTTP(httptest.NewRecorder(), r) // the change is made; its answer is lost
		}
		if fault != nil {
			if graphQL {
				s.count(key + " (fault)")
			}
			s.writeFault(w, *fault, graphQL)
			return
		}
		if !s.authorized(r) && pattern != accessTokensRoute { // that one takes an App JWT
			if graphQL {
				s.count(key + " (unauthorized)")
			}
			writeJSON(w, http.StatusUnauthorized, apiError{Message: "Bad credentials", DocumentationURL: "https://docs.github.com/rest", Status: "401"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) count(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[key]++
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "bearer ", "token "} {
		if tok, ok := strings.CutPrefix(h, scheme); ok {
			return tok == s.token || s.installationBot(tok) != ""
		}
	}
	return false
}

func (s *Server) rateHeaders(w http.ResponseWriter, remaining int) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(5000-remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

func (s *Server) writeFault(w http.ResponseWriter, f Fault, graphQL bool) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	if f.Primary {
		reset := f.ResetIn
		if reset == 0 {
			reset = time.Minute
		}
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Used", "5000")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(reset).Unix(), 10))
	}
	switch {
	case f.Status == http.StatusUnauthorized:
		writeJSON(w, f.Status, apiError{Message: "Bad credentials", DocumentationURL: "https://docs.github.com/rest", Status: "401"})
	case f.Status >= 500:
		writeJSON(w, f.Status, apiError{Message: "Server Error"})
	case f.Primary && graphQL && f.Status == http.StatusOK:
		// GraphQL's answer to an exhausted primary limit: 200 and a typed error.
		w.Header().Set("X-RateLimit-Resource", "graphql")
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"type": "RATE_LIMITED",
			"message": "API rate limit already exceeded for user ID 1."}}})
	case f.Primary:
		writeJSON(w, f.Status, apiError{Message: "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
			DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", Status: strconv.Itoa(f.Status)})
	default:
		writeJSON(w, f.Status, apiError{Message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
			DocumentationURL: "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits", Status: strconv.Itoa(f.Status)})
	}
}
