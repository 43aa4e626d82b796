package gitserver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Texts GitHub answers with when a git request is not authorised or the
// repository does not exist; git prints them as "remote: ..." lines.
const (
	invalidTokenText = "Invalid username or token. Password authentication is not supported for Git operations.\n"
	notFoundText     = "Repository not found.\n"
)

// CutMode says when a push's connection is cut by CutPushes.
type CutMode int

const (
	// CutBeforeApply closes the connection after reading part of the push,
	// before git sees it: nothing lands.
	CutBeforeApply CutMode = iota + 1
	// CutAfterApply lets git apply the push and then closes the connection
	// without an answer: the push landed but the client never hears so.
	CutAfterApply
)

// Request is one request the server answered, as kept by Requests.
type Request struct {
	Method  string
	Path    string
	Service string // "git-upload-pack", "git-receive-pack" or ""
	Status  int    // 0 for a connection that was cut
}

// Option configures Start.
type Option func(*options)

type options struct {
	addr          string
	root          string
	token         string
	readOnlyToken string
	logf          func(format string, args ...any)
}

// WithAddr sets the listen address (default "127.0.0.1:0", a free port).
// Only loopback addresses are accepted.
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithRoot sets the directory holding the bare repositories (default: a new
// temporary directory removed by Close).
func WithRoot(dir string) Option { return func(o *options) { o.root = dir } }

// WithToken sets the token every request must carry as the basic-auth
// password. An empty token (the default) lets every request in.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithReadOnlyToken adds a token that may fetch but not push: pushes with it
// are answered 403 "Permission to <repo>.git denied to <user>." as GitHub
// answers a token without contents: write.
func WithReadOnlyToken(token string) Option { return func(o *options) { o.readOnlyToken = token } }

// WithLogf reports each request through logf (default: discard).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// Server is a running git smart-HTTP server. Its methods are safe for
// concurrent use.
type Server struct {
	url     string
	root    string
	ownRoot bool
	token   string
	roToken string
	logf    func(format string, args ...any)
	backend string
	srv     *http.Server
	ln      net.Listener
	done    chan struct{}

	mu            sync.Mutex
	fail500       int
	cuts          int
	cutMode       CutMode
	beforeReceive func(repo string)
	requests      []Request
	protected     map[string]map[string]Protection // repo -> ref -> kind
}

// Start listens on 127.0.0.1 and serves git over HTTP until Close.
func Start(opts ...Option) (*Server, error) {
	o := options{addr: "127.0.0.1:0", logf: func(string, ...any) {}}
	for _, opt := range opts {
		opt(&o)
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return nil, fmt.Errorf("parsing listen address %q: %w", o.addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("listen address %q: only loopback addresses are served", o.addr)
	}
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("finding git's exec path (is git installed?): %w", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("finding git http-backend: %w", err)
	}
	s := &Server{
		root:      o.root,
		token:     o.token,
		roToken:   o.readOnlyToken,
		logf:      o.logf,
		backend:   backend,
		done:      make(chan struct{}),
		protected: map[string]map[string]Protection{},
	}
	if s.root == "" {
		dir, err := os.MkdirTemp("", "gitserver-")
		if err != nil {
			return nil, fmt.Errorf("making the repository root: %w", err)
		}
		s.root, s.ownRoot = dir, true
	}
	if s.root, err = filepath.Abs(s.root); err != nil {
		return nil, fmt.Errorf("resolving the repository root: %w", err)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		s.removeRoot()
		return nil, fmt.Errorf("listening on %q: %w", o.addr, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the server's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// RepoURL is the clone URL of repo ("owner/name"), without credentials.
func (s *Server) RepoURL(repo string) string { return s.url + "/" + repo + ".git" }

// Root is the directory holding the bare repositories.
func (s *Server) Root() string { return s.root }

// Close stops the server, waits for running requests, and removes the
// repository root when Start made it.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	s.removeRoot()
	if err != nil {
		return fmt.Errorf("shutting down the git server: %w", err)
	}
	return nil
}

func (s *Server) removeRoot() {
	if s.ownRoot {
		_ = os.RemoveAll(s.root)
	}
}

// Fail500 makes the server answer the next n requests with 500 Internal
// Server Error.
func (s *Server) Fail500(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail500 = n
}

// CutPushes makes the server cut the connection of the next n pushes
// (receive-pack requests), before or after applying them.
func (s *Server) CutPushes(n int, mode CutMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cuts, s.cutMode = n, mode
}

// BeforeReceive sets a callback run before each push to a repository is
// handed to git (after authentication), e.g. to land another pipeline's
// commit between a client's fetch and its push. nil removes it.
func (s *Server) BeforeReceive(fn func(repo string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeReceive = fn
}

// Requests returns the requests answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the requests answered so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) record(r *http.Request, service string, status int) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Service: service, Status: status})
	s.mu.Unlock()
	s.logf("gitserver: %s %s -> %d", r.Method, r.URL.Path, status)
}

// takeFault consumes one pending fault for this request.
func (s *Server) takeFault(isPush bool) (fail bool, cut CutMode, before func(string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail500 > 0 {
		s.fail500--
		return true, 0, nil
	}
	if isPush {
		before = s.beforeReceive
		if s.cuts > 0 {
			s.cuts--
			cut = s.cutMode
		}
	}
	return false, cut, before
}

// ServeHTTP routes /<owner>/<name>[.git]/<git path> to git http-backend.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	repo, rest, found := splitRepoPath(r.URL.Path)
	service := serviceOf(r, rest)
	user, readOnly, ok := s.authorize(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, invalidTokenText)
		s.record(r, service, http.StatusUnauthorized)
		return
	}
	if !found || !s.exists(repo) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, notFoundText)
		s.record(r, service, http.StatusNotFound)
		return
	}
	if readOnly && service == "git-receive-pack" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprintf(w, "Permission to %s.git denied to %s.\n", repo, user)
		s.record(r, service, http.StatusForbidden)
		return
	}
	isPush := r.Method == http.MethodPost && service == "git-receive-pack"
	fail, cut, before := s.takeFault(isPush)
	if fail {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		s.record(r, service, http.StatusInternalServerError)
		return
	}
	if before != nil {
		before(repo)
	}
	if cut == CutBeforeApply {
		// Read a little of the push, then drop the connection.
		_, _ = io.CopyN(io.Discard, r.Body, 64)
		s.hangUp(w)
		s.record(r, service, 0)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + repo + ".git" + rest
	r2.URL.RawPath = ""
	if !isPush {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		s.cgi().ServeHTTP(sw, r2)
		s.record(r, service, sw.status)
		return
	}
	buf := newBufferedResponse()
	s.cgi().ServeHTTP(buf, r2)
	if cut == CutAfterApply {
		s.hangUp(w)
		s.record(r, service, 0)
		return
	}
	body := buf.body.Bytes()
	if reasons := s.declineReasons(repo); len(reasons) > 0 {
		body = rewriteReport(body, reasons)
	}
	for k, v := range buf.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(buf.status)
	_, _ = w.Write(body)
	s.record(r, service, buf.status)
}

func (s *Server) cgi() *cgi.Handler {
	return &cgi.Handler{
		Path: s.backend,
		Dir:  s.root,
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER=x-access-token",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + s.root,
		},
		InheritEnv: []string{"PATH"},
	}
}

func (s *Server) hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		truncatedAnswer(w)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		truncatedAnswer(w)
		return
	}
	_ = conn.Close()
}

// truncatedAnswer promises a body it never sends when the connection cannot
// be hijacked (HTTP/2): the client still sees a broken response.
func truncatedAnswer(w http.ResponseWriter) {
	w.Header().Set("Content-Length", "1000")
	w.WriteHeader(http.StatusOK)
}

// authorize checks the basic-auth password against the tokens. The user
// named in refusals is GitHub's for the Actions token.
func (s *Server) authorize(r *http.Request) (user string, readOnly, ok bool) {
	const actionsUser = "github-actions[bot]"
	_, pass, given := r.BasicAuth()
	switch {
	case s.token == "" && s.roToken == "":
		return actionsUser, false, true
	case !given:
		return "", false, false
	case s.token != "" && subtle.ConstantTimeCompare([]byte(pass), []byte(s.token)) == 1:
		return actionsUser, false, true
	case s.roToken != "" && subtle.ConstantTimeCompare([]byte(pass), []byte(s.roToken)) == 1:
		return actionsUser, true, true
	}
	return "", false, false
}

func (s *Server) exists(repo string) bool {
	fi, err := os.Stat(s.BareDir(repo))
	return err == nil && fi.IsDir()
}

// splitRepoPath splits "/owner/name.git/info/refs" into "owner/name" and
// "/info/refs".
func splitRepoPath(p string) (repo, rest string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) < 2 || !validName(parts[0]) {
		return "", "", false
	}
	name := strings.TrimSuffix(parts[1], ".git")
	if !validName(name) {
		return "", "", false
	}
	if len(parts) == 3 {
		rest = "/" + parts[2]
	}
	return parts[0] + "/" + name, rest, true
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." || strings.HasPrefix(s, "-") {
		return false
	}
	for _, c := range s {
		ok := c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}

func serviceOf(r *http.Request, rest string) string {
	switch rest {
	case "/git-upload-pack", "/git-receive-pack":
		return strings.TrimPrefix(rest, "/")
	case "/info/refs":
		return r.URL.Query().Get("service")
	}
	return ""
}

// statusWriter remembers the status a streamed answer was sent with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Flush passes a flush on, so fetches stream.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// bufferedResponse keeps a whole CGI answer so it can be inspected, rewritten
// or dropped before the client sees it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: http.Header{}, status: http.StatusOK}
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }

var _ http.ResponseWriter = (*bufferedResponse)(nil)

// errNotFound is returned by repository operations on a missing repository.
var errNotFound = errors.New("repository not found")
