package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Option configures New.
type Option func(*Remote)

// WithToken authenticates as HTTP basic auth, user x-access-token, the token
// as password. The token stays in memory only.
func WithToken(token string) Option { return func(r *Remote) { r.token = token } }

// WithHTTPClient sets the HTTP client (default: http.DefaultClient's
// transport). The ceiling of WithRequestTimeout applies to it as well.
func WithHTTPClient(c *http.Client) Option { return func(r *Remote) { r.httpClient = c } }

// DefaultRequestTimeout is the ceiling of one exchange with the server when
// WithRequestTimeout is not given.
const DefaultRequestTimeout = time.Minute

// WithRequestTimeout sets the ceiling of one exchange with the server (the
// reference advertisement and the pack that follows it): a server that
// accepts and never answers costs at most d before the exchange counts as a
// network fault and is retried. The ctx given to each call bounds everything
// on top. d <= 0 keeps the default, DefaultRequestTimeout.
func WithRequestTimeout(d time.Duration) Option {
	return func(r *Remote) {
		if d > 0 {
			r.requestTimeout = d
		}
	}
}

// WithLogf reports progress, one line per event (default: discard).
func WithLogf(logf func(format string, args ...any)) Option {
	return func(r *Remote) { r.logf = logf }
}

// WithClock sets the clock used for commit times (default time.Now).
func WithClock(now func() time.Time) Option { return func(r *Remote) { r.now = now } }

// WithRetry bounds the retries of transport faults inside Fetch, Push and
// Contains: at most attempts tries, waiting from initial upwards with
// jittered exponential backoff, for at most maxElapsed in all (defaults: 4
// tries, 500ms, 30s).
func WithRetry(attempts uint, initial, maxElapsed time.Duration) Option {
	return func(r *Remote) {
		r.attempts, r.initial, r.maxElapsed = attempts, initial, maxElapsed
	}
}

// Remote is one git repository reached over HTTP(S).
type Remote struct {
	display    string // the URL without credentials, for messages
	ep         *transport.Endpoint
	token      string
	httpClient *http.Client
	transport  transport.Transport
	logf       func(format string, args ...any)
	now        func() time.Time
	attempts   uint
	initial    time.Duration
	maxElapsed time.Duration
	// requestTimeout is the ceiling of one exchange.
	requestTimeout time.Duration
}

// New returns a Remote for an http(s) URL. Credentials in the URL's userinfo
// are taken as the token (unless WithToken is given) and removed from it.
func New(rawURL string, opts ...Option) (*Remote, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &BadInputError{What: "repository URL", Value: redactURL(rawURL), Why: "not a URL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, &BadInputError{What: "repository URL", Value: redactURL(rawURL), Why: "want an http:// or https:// URL with a host"}
	}
	r := &Remote{
		logf:       func(string, ...any) {},
		now:        time.Now,
		attempts:   4,
		initial:    500 * time.Millisecond,
		maxElapsed: 30 * time.Second,

		requestTimeout: DefaultRequestTimeout,
	}
	if pass, ok := u.User.Password(); ok && pass != "" {
		r.token = pass
	}
	for _, opt := range opts {
		opt(r)
	}
	if r.attempts == 0 {
		r.attempts = 1
	}
	u.User = nil
	u.RawQuery, u.Fragment = "", ""
	r.display = u.String()
	if r.ep, err = transport.NewEndpoint(r.display); err != nil {
		return nil, &BadInputError{What: "repository URL", Value: r.display, Why: err.Error()}
	}
	if r.httpClient == nil {
		r.httpClient = &http.Client{Timeout: r.requestTimeout}
	}
	r.transport = githttp.NewClient(r.httpClient)
	return r, nil
}

// URL is the repository URL without credentials.
func (r *Remote) URL() string { return r.display }

func (r *Remote) auth() transport.AuthMethod {
	if r.token == "" {
		return nil
	}
	return &githttp.BasicAuth{Username: "x-access-token", Password: r.token}
}

// redactURL removes userinfo from a URL-looking string.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			if j := strings.Index(raw, "://"); j >= 0 && j < i {
				return raw[:j+3] + raw[i+1:]
			}
		}
		return raw
	}
	u.User = nil
	return u.String()
}

// retry runs op until it succeeds, fails for good, or the retry budget is
// spent. Only *NetworkError is retried.
func retry[T any](ctx context.Context, r *Remote, op func() (T, error)) (T, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = r.initial
	b.MaxInterval = max(r.initial, r.maxElapsed/4)
	attempt := 0
	v, err := backoff.Retry(ctx, func() (T, error) {
		attempt++
		v, err := op()
		if err == nil {
			return v, nil
		}
		err = redact(err, r.token)
		var ne *NetworkError
		if !errors.As(err, &ne) {
			return v, backoff.Permanent(err)
		}
		return v, err
	},
		backoff.WithBackOff(b),
		backoff.WithMaxTries(r.attempts),
		backoff.WithMaxElapsedTime(r.maxElapsed),
		backoff.WithNotify(func(err error, d time.Duration) {
			// err already names the operation and the URL.
			r.logf("attempt %d failed: %v; retrying in %s", attempt, err, d.Round(time.Millisecond))
		}),
	)
	return v, redact(err, r.token)
}

// exchange runs one exchange with the server under the ceiling of
// WithRequestTimeout. When the ceiling, not ctx, ended it, the error is a
// *NetworkError saying so, retried like any network fault.
func exchange[T any](ctx context.Context, r *Remote, op string, fn func(ctx context.Context) (T, error)) (T, error) {
	rctx, cancel := context.WithTimeout(ctx, r.requestTimeout)
	defer cancel()
	v, err := fn(rctx)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		var ne *NetworkError
		if !errors.As(err, &ne) {
			err = &NetworkError{Op: op, Err: fmt.Errorf("no answer within %s", r.requestTimeout)}
		}
	}
	return v, err
}

// classifyTransport turns a transport error into ErrAuth, ErrNotFound or a
// *NetworkError; other errors are returned wrapped as they are.
func classifyTransport(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod):
		return fmt.Errorf("%s: %w (%s)", op, ErrAuth, serverReason(err))
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return fmt.Errorf("%s: repository %w", op, ErrNotFound)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: stopped, the time allowed ran out: %w", op, err)
	case isNetwork(err):
		return &NetworkError{Op: op, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// serverReason is the text the server answered a refused request with.
func serverReason(err error) string {
	msg := err.Error()
	for _, prefix := range []string{transport.ErrAuthenticationRequired.Error() + ":", transport.ErrAuthorizationFailed.Error() + ":"} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			if rest = strings.TrimSpace(rest); rest != "" {
				return "server said: " + rest
			}
		}
	}
	return msg
}

func isNetwork(err error) bool {
	var he *githttp.Err
	if errors.As(err, &he) {
		return he.StatusCode() >= 500 || he.StatusCode() == http.StatusTooManyRequests
	}
	var netErr net.Error
	var ue *plumbing.UnexpectedError
	switch {
	case errors.As(err, &netErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &ue):
		return isNetwork(ue.Err)
	}
	msg := err.Error()
	for _, s := range []string{"connection reset", "broken pipe", "unexpected EOF", "server closed", "EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
